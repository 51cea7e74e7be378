public import RPCCore

/// Walks a message's wire bytes and checks every `string` field, nested ones included, before
/// protobuf-c unpacks it: proto3 requires valid UTF-8, and protobuf-c neither checks that nor
/// keeps a string's length (it stores a NUL-terminated copy, so an embedded NUL would cut it short).
///
/// Generated code supplies, per message that holds strings, a `checkStrings` function that says
/// which field numbers are strings and which are messages to descend into; everything else is
/// skipped by its wire type. Only the failing field's path is ever built as a String.
public struct WireScanner {
  /// A message's string check: the generated `checkStrings` of its type.
  public typealias Check = (inout WireScanner) throws(MessageDecodingError) -> Void

  /// A field's key: its number and wire type.
  public struct Field {
    public let number: UInt64
    let wireType: UInt8
  }

  private var cursor: UnsafeRawPointer
  private let end: UnsafeRawPointer

  init(_ bytes: UnsafeRawBufferPointer) {
    // An empty buffer may have no base address; any non-null pointer with end == cursor will do.
    let base = bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!
    cursor = base
    end = base + bytes.count
  }

  /// Runs `check` over a whole message's bytes.
  static func check(_ bytes: UnsafeRawBufferPointer, with check: Check) throws(MessageDecodingError) {
    var scanner = WireScanner(bytes)
    try check(&scanner)
  }

  /// The next field's key, or nil at the end of the message.
  public mutating func nextField() throws(MessageDecodingError) -> Field? {
    guard cursor < end else { return nil }
    let key = try readVarint()
    let number = key >> 3
    guard number > 0 else { throw .malformed }
    return Field(number: number, wireType: UInt8(key & 7))
  }

  /// A `string` field named `name`: its bytes must be UTF-8 without NUL.
  public mutating func checkString(_ field: Field, _ name: StaticString) throws(MessageDecodingError) {
    guard field.wireType == 2 else { return try skip(field) }  // protobuf-c refuses the mismatch
    let bytes = try readLengthDelimited()
    switch UTF8Text.classify(bytes) {
    case .valid: return
    case .invalid: throw .invalidUTF8(field: name.description)
    case .containsNUL: throw .nulCharacter(field: name.description)
    }
  }

  /// A message field named `name` whose type holds strings: checked with its type's `check`.
  public mutating func checkMessage(_ field: Field, _ name: StaticString, _ check: Check) throws(MessageDecodingError) {
    guard field.wireType == 2 else { return try skip(field) }
    do {
      try Self.check(try readLengthDelimited(), with: check)
    } catch .invalidUTF8(let path) {
      throw .invalidUTF8(field: "\(name).\(path)")
    } catch .nulCharacter(let path) {
      throw .nulCharacter(field: "\(name).\(path)")
    }
  }

  /// Moves past a field that holds no string.
  public mutating func skip(_ field: Field) throws(MessageDecodingError) {
    switch field.wireType {
    case 0: _ = try readVarint()
    case 1: try advance(8)
    case 2: _ = try readLengthDelimited()
    case 5: try advance(4)
    default: throw .malformed  // groups (3, 4), which protobuf-c does not support either, and 6, 7
    }
  }

  private mutating func advance(_ count: Int) throws(MessageDecodingError) {
    guard end - cursor >= count else { throw .malformed }
    cursor += count
  }

  private mutating func readVarint() throws(MessageDecodingError) -> UInt64 {
    var value: UInt64 = 0
    var shift: UInt64 = 0
    while cursor < end, shift < 64 {
      let byte = cursor.load(as: UInt8.self)
      cursor += 1
      value |= UInt64(byte & 0x7f) << shift
      if byte < 0x80 { return value }
      shift += 7
    }
    throw .malformed
  }

  private mutating func readLengthDelimited() throws(MessageDecodingError) -> UnsafeRawBufferPointer {
    let length = try readVarint()
    guard length <= UInt64(end - cursor) else { throw .malformed }
    let bytes = UnsafeRawBufferPointer(start: cursor, count: Int(length))
    cursor += Int(length)
    return bytes
  }
}

/// UTF-8 validation (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF) that also
/// reports NUL characters, with an 8-bytes-at-a-time path for ASCII.
public enum UTF8Text {
  public enum Verdict: Equatable {
    case valid, invalid, containsNUL
  }

  public static func classify(_ bytes: UnsafeRawBufferPointer) -> Verdict {
    guard let base = bytes.baseAddress else { return .valid }
    let count = bytes.count
    var index = 0
    var sawNUL = false
    while index < count {
      // ASCII without NUL, a word at a time: no high bit set, and no zero byte.
      while index + 8 <= count {
        let word = base.loadUnaligned(fromByteOffset: index, as: UInt64.self)
        let highBits: UInt64 = 0x8080_8080_8080_8080
        let zeroByte = (word &- 0x0101_0101_0101_0101) & ~word & highBits
        guard word & highBits == 0, zeroByte == 0 else { break }
        index += 8
      }
      guard index < count else { break }
      let lead = base.load(fromByteOffset: index, as: UInt8.self)
      if lead < 0x80 {
        if lead == 0 { sawNUL = true }
        index += 1
        continue
      }
      // The sequence's length and the range its second byte must fall in (RFC 3629's table).
      let length: Int
      var low: UInt8 = 0x80
      var high: UInt8 = 0xbf
      switch lead {
      case 0xc2...0xdf: length = 2
      case 0xe0: (length, low) = (3, 0xa0)
      case 0xe1...0xec, 0xee...0xef: length = 3
      case 0xed: (length, high) = (3, 0x9f)
      case 0xf0: (length, low) = (4, 0x90)
      case 0xf1...0xf3: length = 4
      case 0xf4: (length, high) = (4, 0x8f)
      default: return .invalid
      }
      guard index + length <= count else { return .invalid }
      let second = base.load(fromByteOffset: index + 1, as: UInt8.self)
      guard second >= low, second <= high else { return .invalid }
      for offset in 2..<length {
        let byte = base.load(fromByteOffset: index + offset, as: UInt8.self)
        guard byte & 0xc0 == 0x80 else { return .invalid }
      }
      index += length
    }
    return sawNUL ? .containsNUL : .valid
  }
}
