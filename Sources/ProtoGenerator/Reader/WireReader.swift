/// Reads the protobuf wire format: just enough to decode `descriptor.proto` messages.
struct WireReader {
  enum WireType: UInt8 {
    case varint = 0
    case fixed64 = 1
    case lengthDelimited = 2
    case startGroup = 3
    case endGroup = 4
    case fixed32 = 5
  }

  struct Field {
    var number: Int
    var wireType: WireType
    var varint: UInt64 = 0
    var bytes: ArraySlice<UInt8> = []

    var string: String { String(decoding: bytes, as: UTF8.self) }
    var bool: Bool { varint != 0 }
    var int32: Int32 { Int32(truncatingIfNeeded: varint) }
  }

  private let data: ArraySlice<UInt8>
  private var position: Int

  init(_ data: ArraySlice<UInt8>) {
    self.data = data
    self.position = data.startIndex
  }

  /// The next field, or nil at the end of the message.
  mutating func next() throws(DescriptorError) -> Field? {
    guard position < data.endIndex else { return nil }
    let key = try readVarint()
    guard let wireType = WireType(rawValue: UInt8(key & 7)), key >> 3 > 0 else {
      throw .malformed("bad field key \(key)")
    }
    var field = Field(number: Int(key >> 3), wireType: wireType)
    switch wireType {
    case .varint:
      field.varint = try readVarint()
    case .fixed64:
      field.bytes = try take(8)
    case .fixed32:
      field.bytes = try take(4)
    case .lengthDelimited:
      let length = try readVarint()
      guard length <= UInt64(data.endIndex - position) else { throw .malformed("truncated field") }
      field.bytes = try take(Int(length))
    case .startGroup, .endGroup:
      throw .malformed("groups are not supported")
    }
    return field
  }

  private mutating func take(_ count: Int) throws(DescriptorError) -> ArraySlice<UInt8> {
    guard data.endIndex - position >= count else { throw .malformed("truncated field") }
    defer { position += count }
    return data[position..<position + count]
  }

  private mutating func readVarint() throws(DescriptorError) -> UInt64 {
    var result: UInt64 = 0
    var shift: UInt64 = 0
    while position < data.endIndex, shift < 64 {
      let byte = data[position]
      position += 1
      result |= UInt64(byte & 0x7f) << shift
      if byte & 0x80 == 0 { return result }
      shift += 7
    }
    throw .malformed("truncated varint")
  }
}

enum DescriptorError: Error, CustomStringConvertible {
  case malformed(String)
  case unsupported(String)

  var description: String {
    switch self {
    case .malformed(let why): "malformed descriptor set: \(why)"
    case .unsupported(let why): "unsupported proto construct: \(why)"
    }
  }
}
