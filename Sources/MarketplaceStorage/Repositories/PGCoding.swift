public import MarketplaceCore
public import Postgres

// How domain values travel through libpq: bound as text in PostgreSQL's input syntax, read from
// PostgreSQL's text output (results always arrive in text format).

extension Identifier: PGEncodable, PGDecodable {
  public static var pgType: PGTypeOID { .unspecified }
  public func encode(into bindings: inout PGBindings) { bindings.appendText(description) }

  public init(pgText text: UnsafeRawBufferPointer, type: PGTypeOID) throws(PGError) {
    guard let id = Self(utf8: text) else {
      throw PGError(.decoding, "a \(type) column is not a uuid")
    }
    self = id
  }
}

extension LocalDate: PGEncodable, PGDecodable {
  public static var pgType: PGTypeOID { .unspecified }
  public func encode(into bindings: inout PGBindings) { bindings.appendText(description) }

  /// `date` in DateStyle ISO (PostgreSQL's default output).
  public init(pgText text: UnsafeRawBufferPointer, type: PGTypeOID) throws(PGError) {
    guard let date = LocalDate(isoUTF8: text) else {
      throw PGError(.decoding, "a \(type) column is not an ISO date in 0001...9999")
    }
    self = date
  }
}

extension Timestamp: PGEncodable, PGDecodable {
  public static var pgType: PGTypeOID { .unspecified }
  public func encode(into bindings: inout PGBindings) { bindings.appendText(description) }

  /// `timestamptz` in DateStyle ISO, in any session time zone:
  /// `YYYY-MM-DD HH:MM:SS[.ffffff]±HH[:MM[:SS]]`.
  public init(pgText text: UnsafeRawBufferPointer, type: PGTypeOID) throws(PGError) {
    guard let value = Self.parse(text) else {
      throw PGError(.decoding, "a \(type) column is not an ISO timestamp with time zone")
    }
    self = value
  }

  static func parse(_ bytes: UnsafeRawBufferPointer) -> Timestamp? {
    guard bytes.count >= 22, bytes[10] == UInt8(ascii: " "), let date = LocalDate(isoUTF8: bytes[0..<10]) else {
      return nil
    }
    var index = 11
    func digits(_ count: Int) -> Int64? {
      guard index + count <= bytes.count else { return nil }
      var value: Int64 = 0
      for byte in bytes[index..<index + count] {
        guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
        value = value * 10 + Int64(byte - UInt8(ascii: "0"))
      }
      index += count
      return value
    }
    func expect(_ character: Character) -> Bool {
      guard index < bytes.count, bytes[index] == character.asciiValue! else { return false }
      index += 1
      return true
    }
    guard let hours = digits(2), expect(":"), let minutes = digits(2), expect(":"),
      let seconds = digits(2)
    else { return nil }
    var micros: Int64 = 0
    if expect(".") {
      var scale: Int64 = 100_000
      while index < bytes.count, let digit = digits(1) {
        micros += digit * scale
        scale /= 10
      }
    }
    guard index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-")
    else { return nil }
    let sign: Int64 = bytes[index] == UInt8(ascii: "-") ? -1 : 1
    index += 1
    guard let offsetHours = digits(2) else { return nil }
    var offsetSeconds = offsetHours * 3600
    if expect(":") {
      guard let offsetMinutes = digits(2) else { return nil }
      offsetSeconds += offsetMinutes * 60
      if expect(":") {
        guard let extra = digits(2) else { return nil }
        offsetSeconds += extra
      }
    }
    guard index == bytes.count else { return nil }
    let local = Int64(date.daysSinceEpoch) * 86_400 + hours * 3600 + minutes * 60 + seconds
    return Timestamp(microsecondsSinceEpoch: (local - sign * offsetSeconds) * 1_000_000 + micros)
  }
}

/// Reads a row's columns left to right, in the order of the statement's select list.
struct ColumnReader {
  let row: PGRow
  private var column = 0

  init(_ row: PGRow) { self.row = row }

  /// The next column, which must not be NULL.
  mutating func next<T: PGDecodable>(_ type: T.Type = T.self) throws(PGError) -> T {
    defer { column += 1 }
    guard let value = try row.decode(column, as: T.self) else {
      throw PGError(.decoding, "column \(row.result.columnName(column)) is NULL")
    }
    return value
  }

  /// The next column, nil when NULL.
  mutating func optional<T: PGDecodable>(_ type: T.Type = T.self) throws(PGError) -> T? {
    defer { column += 1 }
    return try row.decode(column, as: T.self)
  }

  /// The next column as one of an enumeration's raw values.
  mutating func value<T: RawRepresentable>(_ type: T.Type = T.self) throws(PGError) -> T
  where T.RawValue == String {
    let text: String = try next()
    guard let value = T(rawValue: text) else {
      throw PGError(.decoding, "column \(row.result.columnName(column - 1)) has an unknown value")
    }
    return value
  }

  mutating func currency() throws(PGError) -> CurrencyCode {
    let text: String = try next()
    guard let code = CurrencyCode(text) else {
      throw PGError(.decoding, "column \(row.result.columnName(column - 1)) is not a currency code")
    }
    return code
  }

  mutating func dateRange() throws(PGError) -> DateRange {
    let checkIn: LocalDate = try next()
    let checkOut: LocalDate = try next()
    guard let range = DateRange(checkIn: checkIn, checkOut: checkOut) else {
      throw PGError(.decoding, "a stay ends before it starts")
    }
    return range
  }
}

extension PGResult {
  /// Every row through `decode`.
  func decodeAll<T>(_ decode: (inout ColumnReader) throws(PGError) -> T) throws(PGError) -> [T] {
    var values: [T] = []
    values.reserveCapacity(count)
    for row in self {
      var reader = ColumnReader(row)
      values.append(try decode(&reader))
    }
    return values
  }

  /// The one row a statement always returns (INSERT ... RETURNING, SELECT EXISTS) through
  /// `decode`; no row is `.unexpected` rather than a crash.
  func decodeOne<T>(_ decode: (inout ColumnReader) throws(PGError) -> T) throws(PGError) -> T {
    guard let value = try decodeFirst(decode) else {
      throw PGError(.unexpected, "the statement returned no row")
    }
    return value
  }

  /// The first row through `decode`, or nil with no rows.
  func decodeFirst<T>(_ decode: (inout ColumnReader) throws(PGError) -> T) throws(PGError) -> T? {
    guard let row = first else { return nil }
    var reader = ColumnReader(row)
    return try decode(&reader)
  }
}
