/// The values bound to one statement's `$1, $2, …`, encoded the way `PQexecPrepared` takes them:
/// text values NUL-terminated, binary values as raw bytes, NULL as no bytes. Built by `SQL`'s
/// interpolation; values never become part of the SQL text.
public struct PGBindings: Sendable {
  struct Slot: Sendable {
    /// Where the value starts in `storage`.
    var offset: Int
    /// Bytes of a binary value (text values are NUL-terminated); -1 for NULL.
    var length: Int32
    /// 0 text, 1 binary.
    var format: Int32
    var type: PGTypeOID
  }

  private(set) var storage: [UInt8] = []
  private(set) var slots: [Slot] = []
  /// Why a value could not be bound. Running the statement then throws `.invalidParameter`.
  private(set) var invalidReason: String?

  public init() {}

  /// How many values are bound.
  public var count: Int { slots.count }

  /// The declared type of each value, in order (part of the prepared statement's identity).
  var types: [PGTypeOID] { slots.map(\.type) }

  /// Binds NULL. `type` declares the parameter type (unspecified lets the server infer it).
  public mutating func appendNull(type: PGTypeOID = .unspecified) {
    slots.append(Slot(offset: storage.count, length: -1, format: 0, type: type))
  }

  /// Binds `text` in text format. Text cannot contain NUL (neither libpq's C strings nor
  /// PostgreSQL's text types can hold it): such a value makes the statement fail when run.
  public mutating func appendText(_ text: String, type: PGTypeOID = .unspecified) {
    let offset = storage.count
    storage.append(contentsOf: text.utf8)
    if storage[offset...].contains(0) && invalidReason == nil {
      invalidReason = "parameter $\(slots.count + 1) contains a NUL character"
    }
    storage.append(0)
    slots.append(
      Slot(offset: offset, length: Int32(storage.count - offset - 1), format: 0, type: type))
  }

  /// Binds `bytes` in binary format as a value of `type`, which must match the bytes' layout
  /// (PostgreSQL's binary send format: big-endian integers, IEEE floats, raw bytea).
  public mutating func appendBinary(_ bytes: some Sequence<UInt8>, type: PGTypeOID) {
    let offset = storage.count
    storage.append(contentsOf: bytes)
    let length = storage.count - offset
    if length > Int(Int32.max) && invalidReason == nil {
      invalidReason = "parameter $\(slots.count + 1) is larger than 2 GiB"
    }
    slots.append(Slot(offset: offset, length: Int32(clamping: length), format: 1, type: type))
  }

  /// Appends every value of `other` after these (for `SQL.append`).
  mutating func append(contentsOf other: PGBindings) {
    let base = storage.count
    storage += other.storage
    slots += other.slots.lazy.map {
      Slot(offset: $0.offset + base, length: $0.length, format: $0.format, type: $0.type)
    }
    if invalidReason == nil, let reason = other.invalidReason { invalidReason = "in an appended fragment: " + reason }
  }

  /// Value `index` as PostgreSQL input text (nil for NULL): for tools that replay a statement
  /// elsewhere, such as pgbench scripts in the benchmark.
  public func literal(at index: Int) -> String? {
    let slot = slots[index]
    guard slot.length >= 0 else { return nil }
    let bytes = storage[slot.offset..<slot.offset + Int(slot.length)]
    if slot.format == 0 { return String(decoding: bytes, as: UTF8.self) }
    switch slot.type {
    case .int2, .int4, .int8:
      return String(bytes.reduce(Int64(bytes.first.map { $0 >= 0x80 ? -1 : 0 } ?? 0)) { $0 << 8 | Int64($1) })
    case .bool:
      return bytes.first == 1 ? "true" : "false"
    case .float8 where bytes.count == 8:
      return String(Double(bitPattern: bytes.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }))
    default:
      let hex = bytes.map { byte in (byte < 16 ? "0" : "") + String(byte, radix: 16) }
      return "\\x" + hex.joined()
    }
  }

  /// Binds a fixed-width integer in binary (big-endian) format.
  mutating func appendBinaryInteger<I: FixedWidthInteger>(_ value: I, type: PGTypeOID) {
    withUnsafeBytes(of: value.bigEndian) { appendBinary($0, type: type) }
  }
}
