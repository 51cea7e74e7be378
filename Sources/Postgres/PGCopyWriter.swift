/// Writes rows of a `COPY ... FROM STDIN` in PostgreSQL's text format (the default format:
/// columns separated by a tab, rows ended by a newline, NULL as `\N`), escaping every value, and
/// sends them to the server in chunks of about 256 KiB as it goes.
///
/// Obtained only inside `PGSession.copyIn(_:_:)`. Append a row's columns in the COPY's column
/// order, then call `endRow()`:
///
/// ```swift
/// try session.copyIn("COPY users (email, phone) FROM STDIN") { writer in
///   for user in users {
///     writer.append(user.email)
///     writer.append(user.phone)  // nil -> NULL
///     writer.endRow()
///   }
/// }
/// ```
///
/// Strings are escaped (backslash, tab, newline and carriage return become `\\`, `\t`, `\n`,
/// `\r`), so any text round-trips verbatim, except NUL, which PostgreSQL text cannot hold (the
/// server rejects the row). Values the server parses (dates, uuids, ranges, JSON) go as their
/// text form through `append(_:)`.
///
/// - Important: valid only inside the closure it was passed to; not Sendable.
public struct PGCopyWriter {
  private static let chunkSize = 256 * 1024

  let core: PGConnectionCore
  private var buffer: [UInt8] = []
  private var atRowStart = true
  /// The error of a failed send (the connection broke); later appends are dropped.
  private(set) var sendError: PGError?

  init(core: PGConnectionCore) {
    self.core = core
    buffer.reserveCapacity(Self.chunkSize + 4096)
  }

  private mutating func separate() {
    if atRowStart { atRowStart = false } else { buffer.append(0x09) }
  }

  /// Appends a text column (escaped), or NULL for nil.
  public mutating func append(_ value: String?) {
    guard var value else { return appendNull() }
    separate()
    value.withUTF8 { Self.escape($0, into: &buffer) }
  }

  /// Appends a text column (escaped).
  public mutating func append(_ value: Substring) {
    separate()
    var value = value
    value.withUTF8 { Self.escape($0, into: &buffer) }
  }

  /// Appends an integer column.
  public mutating func append<Value: BinaryInteger>(_ value: Value) {
    separate()
    Self.appendDecimal(value, into: &buffer)
  }

  /// Appends an integer column, or NULL for nil.
  public mutating func append<Value: BinaryInteger>(_ value: Value?) {
    guard let value else { return appendNull() }
    append(value)
  }

  /// Appends a float8 column (shortest round-tripping text; NaN and infinities spelled as the
  /// server reads them), or NULL for nil.
  public mutating func append(_ value: Double?) {
    guard let value else { return appendNull() }
    separate()
    let text =
      value.isNaN ? "NaN" : value.isInfinite ? (value < 0 ? "-Infinity" : "Infinity") : "\(value)"
    buffer.append(contentsOf: text.utf8)
  }

  /// Appends a boolean column (`t` / `f`), or NULL for nil.
  public mutating func append(_ value: Bool?) {
    guard let value else { return appendNull() }
    separate()
    buffer.append(value ? UInt8(ascii: "t") : UInt8(ascii: "f"))
  }

  /// Appends a bytea column (hex format), or NULL for nil.
  public mutating func append(bytes value: [UInt8]?) {
    guard let value else { return appendNull() }
    separate()
    // `\x` must reach the server as is: in COPY text a backslash is doubled.
    buffer.append(contentsOf: [0x5C, 0x5C, UInt8(ascii: "x")])
    for byte in value { Hex.append(byte, to: &buffer) }
  }

  /// Appends a uuid column from its 128 bits (`high` is the first 8 bytes), in the canonical
  /// 8-4-4-4-12 lower-case hex form, without building a String.
  public mutating func appendUUID(high: UInt64, low: UInt64) {
    separate()
    for (index, shift) in stride(from: 60, through: 0, by: -4).enumerated() {
      if index == 8 || index == 12 { buffer.append(UInt8(ascii: "-")) }
      buffer.append(Hex.digit(UInt8((high >> UInt64(shift)) & 0xF)))
    }
    for (index, shift) in stride(from: 60, through: 0, by: -4).enumerated() {
      if index == 0 || index == 4 { buffer.append(UInt8(ascii: "-")) }
      buffer.append(Hex.digit(UInt8((low >> UInt64(shift)) & 0xF)))
    }
  }

  /// Appends a NULL column.
  public mutating func appendNull() {
    separate()
    buffer.append(0x5C)
    buffer.append(UInt8(ascii: "N"))
  }

  /// Ends the current row (sending the buffer when it is full).
  public mutating func endRow() {
    buffer.append(0x0A)
    atRowStart = true
    if buffer.count >= Self.chunkSize { try? flush() }
  }

  /// Sends what is buffered. A failure is kept and thrown by `copyIn`.
  mutating func flush() throws(PGError) {
    if let sendError { throw sendError }
    guard !buffer.isEmpty else { return }
    let core = core
    let failure: PGError? = buffer.withUnsafeBytes { bytes in
      do throws(PGError) {
        try core.putCopyData(bytes)
        return nil
      } catch {
        return error
      }
    }
    if let failure {
      sendError = failure
      buffer = []
      throw failure
    }
    buffer.removeAll(keepingCapacity: true)
  }

  /// Appends `bytes` escaped for COPY text format.
  static func escape(_ bytes: UnsafeBufferPointer<UInt8>, into buffer: inout [UInt8]) {
    var clean = bytes.startIndex
    for index in bytes.indices {
      let escaped: UInt8
      switch bytes[index] {
      case 0x5C: escaped = 0x5C  // backslash
      case 0x09: escaped = UInt8(ascii: "t")
      case 0x0A: escaped = UInt8(ascii: "n")
      case 0x0D: escaped = UInt8(ascii: "r")
      default: continue
      }
      buffer.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[clean..<index]))
      buffer.append(0x5C)
      buffer.append(escaped)
      clean = index + 1
    }
    buffer.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[clean..<bytes.endIndex]))
  }

  /// Appends the decimal digits of `value`.
  static func appendDecimal<Value: BinaryInteger>(_ value: Value, into buffer: inout [UInt8]) {
    if value == 0 { return buffer.append(UInt8(ascii: "0")) }
    var magnitude = value.magnitude
    if value < 0 { buffer.append(UInt8(ascii: "-")) }
    let start = buffer.count
    while magnitude > 0 {
      let (quotient, digit) = magnitude.quotientAndRemainder(dividingBy: 10)
      buffer.append(UInt8(ascii: "0") + UInt8(digit))
      magnitude = quotient
    }
    buffer[start...].reverse()
  }
}

@available(*, unavailable)
extension PGCopyWriter: Sendable {}

extension PGSession {
  /// Runs `sql`, a `COPY table (columns) FROM STDIN` (text format, the default), with the rows
  /// `body` writes, and returns how many rows were copied. The data streams to the server while
  /// `body` runs (bounded memory).
  ///
  /// A server error (a constraint, a malformed value) is thrown as `PGError` once the data is
  /// sent; nothing of this COPY is stored, and the connection stays usable (inside a
  /// transaction, the transaction is aborted as by any failed statement). If `body` throws, the
  /// COPY is aborted on the server and `body`'s error is rethrown. COPY takes no bound
  /// parameters: build the statement from the program's own text (`\(identifier:)` for names).
  @discardableResult
  public func copyIn(_ sql: SQL, _ body: (inout PGCopyWriter) throws -> Void) throws -> Int {
    try core.copyIn(sql, body)
  }

  /// `copyIn(_:_:)` for rows of optional strings (nil is NULL), one element per column.
  @discardableResult
  public func copyIn<Rows: Sequence>(_ sql: SQL, rows: Rows) throws -> Int
  where Rows.Element: Collection, Rows.Element.Element == String? {
    try copyIn(sql) { writer in
      for row in rows {
        for value in row { writer.append(value) }
        writer.endRow()
      }
    }
  }
}
