/// A Swift value that can be bound to a statement parameter (`\(value)` inside `SQL`).
///
/// Strings go as text with no declared type, so the server infers it from context: one `String`
/// fills a text, uuid, date, daterange or jsonb slot ("2025-07-01", a UUID's text form, ...).
/// Numbers and booleans go in binary with their exact type; byte arrays as binary bytea.
public protocol PGEncodable: Sendable {
  /// The parameter type declared when this value (or a NULL of its type) is bound.
  static var pgType: PGTypeOID { get }
  /// Appends this value to `bindings`.
  func encode(into bindings: inout PGBindings)
}

extension String: PGEncodable {
  public static var pgType: PGTypeOID { .unspecified }
  public func encode(into bindings: inout PGBindings) { bindings.appendText(self) }
}

extension Substring: PGEncodable {
  public static var pgType: PGTypeOID { .unspecified }
  public func encode(into bindings: inout PGBindings) { bindings.appendText(String(self)) }
}

extension Int64: PGEncodable {
  public static var pgType: PGTypeOID { .int8 }
  public func encode(into bindings: inout PGBindings) {
    bindings.appendBinaryInteger(self, type: .int8)
  }
}

extension Int: PGEncodable {
  public static var pgType: PGTypeOID { .int8 }
  public func encode(into bindings: inout PGBindings) {
    bindings.appendBinaryInteger(Int64(self), type: .int8)
  }
}

extension Int32: PGEncodable {
  public static var pgType: PGTypeOID { .int4 }
  public func encode(into bindings: inout PGBindings) {
    bindings.appendBinaryInteger(self, type: .int4)
  }
}

extension Int16: PGEncodable {
  public static var pgType: PGTypeOID { .int2 }
  public func encode(into bindings: inout PGBindings) {
    bindings.appendBinaryInteger(self, type: .int2)
  }
}

extension Bool: PGEncodable {
  public static var pgType: PGTypeOID { .bool }
  public func encode(into bindings: inout PGBindings) {
    bindings.appendBinary(CollectionOfOne(self ? 1 : 0), type: .bool)
  }
}

extension Double: PGEncodable {
  public static var pgType: PGTypeOID { .float8 }
  public func encode(into bindings: inout PGBindings) {
    bindings.appendBinaryInteger(bitPattern, type: .float8)
  }
}

extension Array: PGEncodable where Element == UInt8 {
  public static var pgType: PGTypeOID { .bytea }
  public func encode(into bindings: inout PGBindings) { bindings.appendBinary(self, type: .bytea) }
}

extension Optional: PGEncodable where Wrapped: PGEncodable {
  public static var pgType: PGTypeOID { Wrapped.pgType }
  public func encode(into bindings: inout PGBindings) {
    switch self {
    case .some(let value): value.encode(into: &bindings)
    case .none: bindings.appendNull(type: Wrapped.pgType)
    }
  }
}
