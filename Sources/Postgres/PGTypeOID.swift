/// A PostgreSQL type OID (pg_type.oid): the declared type of a bound parameter, or the type of a
/// result column. Only the built-in types this layer encodes or decodes are named.
public struct PGTypeOID: Hashable, Sendable, CustomStringConvertible {
  public let rawValue: UInt32

  public init(_ rawValue: UInt32) { self.rawValue = rawValue }

  /// A parameter sent as text with no declared type: the server infers it from context, so one
  /// string can fill a text, uuid, date, daterange or jsonb slot.
  public static let unspecified = Self(0)
  public static let bool = Self(16)
  public static let bytea = Self(17)
  public static let int8 = Self(20)
  public static let int2 = Self(21)
  public static let int4 = Self(23)
  public static let text = Self(25)
  public static let oid = Self(26)
  public static let json = Self(114)
  public static let float4 = Self(700)
  public static let float8 = Self(701)
  public static let bpchar = Self(1042)
  public static let varchar = Self(1043)
  public static let date = Self(1082)
  public static let time = Self(1083)
  public static let timestamp = Self(1114)
  public static let timestamptz = Self(1184)
  public static let interval = Self(1186)
  public static let numeric = Self(1700)
  public static let uuid = Self(2950)
  public static let jsonb = Self(3802)
  public static let daterange = Self(3912)

  public var description: String {
    switch self {
    case .unspecified: "unspecified"
    case .bool: "bool"
    case .bytea: "bytea"
    case .int8: "int8"
    case .int2: "int2"
    case .int4: "int4"
    case .text: "text"
    case .oid: "oid"
    case .json: "json"
    case .float4: "float4"
    case .float8: "float8"
    case .bpchar: "bpchar"
    case .varchar: "varchar"
    case .date: "date"
    case .time: "time"
    case .timestamp: "timestamp"
    case .timestamptz: "timestamptz"
    case .interval: "interval"
    case .numeric: "numeric"
    case .uuid: "uuid"
    case .jsonb: "jsonb"
    case .daterange: "daterange"
    default: "oid \(rawValue)"
    }
  }
}
