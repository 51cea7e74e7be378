/// A Swift value that can be read from a result column (`row.decode(0, as: Int64.self)`).
///
/// Results always arrive in text format, so a decoder parses PostgreSQL's text output for the
/// column's type and throws `PGError` (kind `.decoding`) when the type or the text does not fit.
public protocol PGDecodable: Sendable {
  /// Decodes the (non-NULL) text of a column whose type is `type`.
  init(pgText text: UnsafeRawBufferPointer, type: PGTypeOID) throws(PGError)
}

extension PGError {
  static func decoding(_ text: String) -> PGError { PGError(.decoding, text) }
}

extension String: PGDecodable {
  /// Any column, in its text form (dates, timestamps, numerics, uuids as PostgreSQL prints them).
  public init(pgText text: UnsafeRawBufferPointer, type: PGTypeOID) {
    self = String(decoding: text, as: UTF8.self)
  }
}

extension Int64: PGDecodable {
  /// int2, int4, int8 or oid.
  public init(pgText text: UnsafeRawBufferPointer, type: PGTypeOID) throws(PGError) {
    switch type {
    case .int2, .int4, .int8, .oid: break
    default:
      throw .decoding("a \(type) column is not an integer")
    }
    guard let value = Self.parseDecimal(text) else {
      throw .decoding("\(type) text is not a 64-bit integer")
    }
    self = value
  }

  /// Parses an optional minus sign and ASCII digits, rejecting overflow.
  static func parseDecimal(_ text: UnsafeRawBufferPointer) -> Int64? {
    var index = text.startIndex
    let negative = index < text.endIndex && text[index] == UInt8(ascii: "-")
    if negative { index += 1 }
    guard index < text.endIndex else { return nil }
    var value: Int64 = 0
    while index < text.endIndex {
      let digit = text[index] &- UInt8(ascii: "0")
      guard digit < 10 else { return nil }
      // Accumulate negatively so that Int64.min parses.
      let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
      let (next, overflow2) = times10.subtractingReportingOverflow(Int64(digit))
      guard !overflow1 && !overflow2 else { return nil }
      value = next
      index += 1
    }
    if negative { return value }
    guard value != .min else { return nil }
    return -value
  }
}

extension Int: PGDecodable {
  public init(pgText text: UnsafeRawBufferPointer, type: PGTypeOID) throws(PGError) {
    self = Int(try Int64(pgText: text, type: type))
  }
}

extension Int32: PGDecodable {
  /// int2 or int4, or an int8 whose value fits.
  public init(pgText text: UnsafeRawBufferPointer, type: PGTypeOID) throws(PGError) {
    guard let value = Int32(exactly: try Int64(pgText: text, type: type)) else {
      throw .decoding("\(type) value does not fit in Int32")
    }
    self = value
  }
}

extension Int16: PGDecodable {
  /// int2, or a wider integer whose value fits.
  public init(pgText text: UnsafeRawBufferPointer, type: PGTypeOID) throws(PGError) {
    guard let value = Int16(exactly: try Int64(pgText: text, type: type)) else {
      throw .decoding("\(type) value does not fit in Int16")
    }
    self = value
  }
}

extension Bool: PGDecodable {
  /// bool ("t" or "f").
  public init(pgText text: UnsafeRawBufferPointer, type: PGTypeOID) throws(PGError) {
    guard type == .bool, text.count == 1 else { throw .decoding("a \(type) column is not a bool") }
    switch text[0] {
    case UInt8(ascii: "t"): self = true
    case UInt8(ascii: "f"): self = false
    default: throw .decoding("bool text is neither t nor f")
    }
  }
}

extension Double: PGDecodable {
  /// float4, float8, numeric or an integer type (numeric may round).
  public init(pgText text: UnsafeRawBufferPointer, type: PGTypeOID) throws(PGError) {
    switch type {
    case .float4, .float8, .numeric, .int2, .int4, .int8: break
    default:
      throw .decoding("a \(type) column is not a number")
    }
    switch String(decoding: text, as: UTF8.self) {
    case "Infinity": self = .infinity
    case "-Infinity": self = -.infinity
    case "NaN": self = .nan
    case let string:
      guard let value = Double(string) else { throw .decoding("\(type) text is not a number") }
      self = value
    }
  }
}

extension Array: PGDecodable where Element == UInt8 {
  /// bytea, in PostgreSQL's default hex output ("\x0a1b...").
  public init(pgText text: UnsafeRawBufferPointer, type: PGTypeOID) throws(PGError) {
    guard type == .bytea else { throw .decoding("a \(type) column is not bytea") }
    guard text.count >= 2, text[0] == UInt8(ascii: "\\"), text[1] == UInt8(ascii: "x"),
      text.count % 2 == 0
    else {
      throw .decoding("bytea text is not in hex format (is bytea_output set to escape?)")
    }
    func nibble(_ c: UInt8) throws(PGError) -> UInt8 {
      switch c {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
      case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
      case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
      default: throw .decoding("bytea text has a non-hex digit")
      }
    }
    var bytes: [UInt8] = []
    bytes.reserveCapacity((text.count - 2) / 2)
    var index = 2
    while index < text.count {
      bytes.append(try nibble(text[index]) << 4 | nibble(text[index + 1]))
      index += 2
    }
    self = bytes
  }
}
