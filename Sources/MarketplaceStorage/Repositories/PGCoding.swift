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
    // Fixed positions up to the seconds: `YYYY-MM-DD HH:MM:SS`.
    guard bytes.count >= 22, bytes[10] == UInt8(ascii: " "), bytes[13] == UInt8(ascii: ":"),
      bytes[16] == UInt8(ascii: ":"),
      let date = LocalDate(isoUTF8: UnsafeRawBufferPointer(rebasing: bytes[0..<10])),
      let hours = LocalDate.decimal(bytes, 11..<13), let minutes = LocalDate.decimal(bytes, 14..<16),
      let seconds = LocalDate.decimal(bytes, 17..<19)
    else { return nil }
    var index = 19
    func skip(_ separator: Unicode.Scalar) -> Bool {
      guard index < bytes.count, bytes[index] == UInt8(ascii: separator) else { return false }
      index += 1
      return true
    }
    func twoDigits() -> Int? {
      guard index + 2 <= bytes.count, let value = LocalDate.decimal(bytes, index..<index + 2) else { return nil }
      index += 2
      return value
    }
    var micros = 0
    if skip(".") {
      var scale = 100_000
      while index < bytes.count, let digit = LocalDate.decimal(bytes, index..<index + 1) {
        micros += digit * scale
        scale /= 10
        index += 1
      }
    }
    let sign: Int
    if skip("+") { sign = 1 } else if skip("-") { sign = -1 } else { return nil }
    guard let offsetHours = twoDigits() else { return nil }
    var offsetSeconds = offsetHours * 3600
    if skip(":") {
      guard let offsetMinutes = twoDigits() else { return nil }
      offsetSeconds += offsetMinutes * 60
      if skip(":") {
        guard let extra = twoDigits() else { return nil }
        offsetSeconds += extra
      }
    }
    guard index == bytes.count else { return nil }
    let local = date.daysSinceEpoch * 86_400 + hours * 3600 + minutes * 60 + seconds
    return Timestamp(microsecondsSinceEpoch: Int64(local - sign * offsetSeconds) * 1_000_000 + Int64(micros))
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
