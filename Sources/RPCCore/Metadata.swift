/// Custom metadata: ordered key/value pairs, keys lower-case ASCII. Keys ending in `-bin` carry
/// bytes (base64 on the wire); all others carry printable ASCII strings.
public struct Metadata: Sendable, Hashable, ExpressibleByDictionaryLiteral, Sequence {
  public typealias Key = String
  public typealias Value = String
  public typealias Element = (key: String, value: MetadataValue)

  private var storage: [Entry] = []

  private struct Entry: Sendable, Hashable {
    var key: String
    var value: MetadataValue
  }

  public init() {}

  public init(dictionaryLiteral elements: (String, String)...) {
    for (key, value) in elements { append(key, value) }
  }

  public var isEmpty: Bool { storage.isEmpty }
  public var count: Int { storage.count }

  /// Appends a string value. The key is lower-cased.
  public mutating func append(_ key: String, _ value: String) {
    storage.append(Entry(key: key.lowercased(), value: .string(value)))
  }

  /// Appends a binary value; the key must end in `-bin`.
  public mutating func append(_ key: String, bytes: [UInt8]) {
    precondition(key.hasSuffix("-bin"), "binary metadata keys end in -bin")
    storage.append(Entry(key: key.lowercased(), value: .binary(bytes)))
  }

  /// Appends a value decoded from the wire: `-bin` values are base64, others taken as they are.
  /// Returns false (and appends nothing) for a `-bin` value that is not valid base64.
  @discardableResult
  public mutating func appendWireValue(_ key: String, _ value: String) -> Bool {
    guard let decoded = Self.decodeWireValue(key, value) else { return false }
    storage.append(Entry(key: key, value: decoded))
    return true
  }

  /// A value as it came off the wire under `key`: `-bin` values are base64 (nil if invalid),
  /// others taken as they are.
  static func decodeWireValue(_ key: String, _ value: String) -> MetadataValue? {
    guard key.hasSuffix("-bin") else { return .string(value) }
    return Base64.decode(value).map { .binary($0) }
  }

  /// Appends every entry of `other`, in order.
  public mutating func append(contentsOf other: Metadata) {
    guard !other.storage.isEmpty else { return }  // the usual case, per call: no work
    storage += other.storage
  }

  public subscript(key: String) -> [MetadataValue] {
    guard !storage.isEmpty else { return [] }  // most requests carry none: no work, no allocation
    let key =
      key.utf8.contains(where: { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) }) ? key.lowercased() : key
    return storage.filter { $0.key == key }.map(\.value)
  }

  /// The first string value for `key`.
  public func first(_ key: String) -> String? {
    let key = key.lowercased()
    for entry in storage where entry.key == key {
      if case .string(let value) = entry.value { return value }
    }
    return nil
  }

  public func makeIterator() -> some IteratorProtocol<Element> {
    storage.lazy.map { (key: $0.key, value: $0.value) }.makeIterator()
  }

  /// The value as it goes on the wire (base64 for binary values).
  public static func wireValue(_ value: MetadataValue) -> String {
    switch value {
    case .string(let string): string
    case .binary(let bytes): Base64.encode(bytes)
    }
  }

  /// `grpc-status-details-bin`: the one `grpc-` key a handler sets, in trailers only: a
  /// serialized `google.rpc.Status` with details about the error (gRPC's richer error model).
  public static let statusDetailsKey = "grpc-status-details-bin"

  /// Whether `key` may be sent as custom metadata: lower-case `0-9 a-z _ - .`, and not reserved
  /// (pseudo-headers and `grpc-` keys belong to the protocol).
  public static func isValidCustomKey(_ key: String) -> Bool {
    guard !key.isEmpty, !key.hasPrefix("grpc-") else { return false }
    return key.utf8.allSatisfy { byte in
      (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
        || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
        || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
    }
  }
}

/// A metadata value: a string, or bytes for keys ending in `-bin`.
public enum MetadataValue: Sendable, Hashable {
  case string(String)
  case binary([UInt8])
}

/// Request metadata as it came off the wire: the raw name and value bytes, decoded into
/// ``Metadata`` (Strings, base64 of `-bin` values) only if a handler reads it.
public struct WireMetadata: Sendable {
  /// name length (2 bytes), name, value length (4 bytes), value; repeated.
  private var bytes: [UInt8] = []

  public init() {}

  public var isEmpty: Bool { bytes.isEmpty }

  public mutating func append(name: UnsafeBufferPointer<UInt8>, value: UnsafeBufferPointer<UInt8>) {
    precondition(name.count <= Int(UInt16.max) && value.count <= Int(UInt32.max))
    let needed = bytes.count + 6 + name.count + value.count
    // Room for a few more at once: clients send several headers, and each growth is a copy.
    if needed > bytes.capacity { bytes.reserveCapacity(max(needed, 2 * bytes.capacity, 256)) }
    withUnsafeBytes(of: UInt16(name.count).littleEndian) { bytes += $0 }
    bytes += name
    withUnsafeBytes(of: UInt32(value.count).littleEndian) { bytes += $0 }
    bytes += value
  }

  /// The metadata as Strings and bytes; a `-bin` value that is not base64 is left out.
  public func decoded() -> Metadata {
    var metadata = Metadata()
    forEachEntry { name, value in
      metadata.appendWireValue(String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self))
    }
    return metadata
  }

  /// The values of `key` (any case), as `decoded()[key]` would give them, decoding nothing else.
  public func values(_ key: String) -> [MetadataValue] {
    guard !bytes.isEmpty else { return [] }
    let key = key.lowercased()  // names on the wire are lower case (HTTP/2)
    var values: [MetadataValue] = []
    forEachEntry { name, value in
      guard name.elementsEqual(key.utf8),
        let decoded = Metadata.decodeWireValue(key, String(decoding: value, as: UTF8.self))
      else { return }
      values.append(decoded)
    }
    return values
  }

  private func forEachEntry(_ body: (_ name: UnsafeBufferPointer<UInt8>, _ value: UnsafeBufferPointer<UInt8>) -> Void) {
    bytes.withUnsafeBufferPointer { bytes in
      var index = 0
      while index < bytes.count {
        let nameCount = Int(bytes[index]) | Int(bytes[index + 1]) << 8
        let name = UnsafeBufferPointer(rebasing: bytes[index + 2..<index + 2 + nameCount])
        index += 2 + nameCount
        let valueCount =
          Int(bytes[index]) | Int(bytes[index + 1]) << 8 | Int(bytes[index + 2]) << 16 | Int(bytes[index + 3]) << 24
        body(name, UnsafeBufferPointer(rebasing: bytes[index + 4..<index + 4 + valueCount]))
        index += 4 + valueCount
      }
    }
  }
}
