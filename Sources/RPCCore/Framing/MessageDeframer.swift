/// Splits a request body into gRPC length-prefixed messages: a compressed-flag byte, a 4-byte
/// big-endian length, then the message. Messages may be split across or packed into DATA frames.
///
/// A message wholly inside one chunk is handed out in place, without a copy; only a message that
/// spans chunks is gathered into a buffer, and only after its length passed the size limit.
public struct MessageDeframer {
  public static let prefixLength = 5

  public let maxMessageBytes: Int
  private var header: [UInt8] = []
  private var body: [UInt8] = []
  private var expected = 0
  private var compressed = false
  private var inBody = false

  public init(maxMessageBytes: Int) {
    self.maxMessageBytes = maxMessageBytes
  }

  /// True when bytes of an incomplete message are buffered (an error at end of stream).
  public var hasPartialMessage: Bool { inBody || !header.isEmpty }

  /// Bytes of an incomplete message held so far.
  public var bufferedBytes: Int { header.count + body.count }

  /// Feeds `chunk`, calling `onMessage(compressed, bytes)` for each complete message.
  /// The bytes are valid only during the call.
  public mutating func process(
    _ chunk: UnsafeRawBufferPointer,
    _ onMessage: (Bool, UnsafeRawBufferPointer) -> Void
  ) throws(RPCError) {
    var offset = 0
    let count = chunk.count
    while offset < count {
      if !inBody {
        // Fast path: a whole prefix and message in this chunk.
        if header.isEmpty, count - offset >= Self.prefixLength {
          let length = try readPrefix(chunk, at: offset)
          offset += Self.prefixLength
          if count - offset >= length {
            onMessage(compressed, UnsafeRawBufferPointer(rebasing: chunk[offset..<offset + length]))
            offset += length
            continue
          }
          startBody(length: length)
          continue
        }
        let take = min(Self.prefixLength - header.count, count - offset)
        header.append(contentsOf: chunk[offset..<offset + take])
        offset += take
        if header.count == Self.prefixLength {
          let length = try decodePrefix(header[0], header[1], header[2], header[3], header[4])
          header.removeAll(keepingCapacity: true)
          startBody(length: length)
          if length == 0 { finishBody(onMessage) }
        }
      } else {
        let take = min(expected - body.count, count - offset)
        if body.capacity - body.count < take {
          // Double, but never past the message's length: no message holds more than it needs.
          body.reserveCapacity(min(expected, max(body.count + take, 2 * body.capacity)))
        }
        body.append(contentsOf: chunk[offset..<offset + take])
        offset += take
        if body.count == expected { finishBody(onMessage) }
      }
    }
  }

  private mutating func readPrefix(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws(RPCError) -> Int {
    try decodePrefix(bytes[offset], bytes[offset + 1], bytes[offset + 2], bytes[offset + 3], bytes[offset + 4])
  }

  private mutating func decodePrefix(
    _ flag: UInt8, _ length0: UInt8, _ length1: UInt8, _ length2: UInt8, _ length3: UInt8
  ) throws(RPCError) -> Int {
    guard flag <= 1 else {
      throw RPCError(code: .internal, message: "invalid compressed-flag byte \(flag) in message prefix")
    }
    compressed = flag == 1
    let length = Int(length0) << 24 | Int(length1) << 16 | Int(length2) << 8 | Int(length3)
    guard length <= maxMessageBytes else {
      throw RPCError(
        code: .resourceExhausted,
        message: "received message larger than max (\(length) vs. \(maxMessageBytes))")
    }
    return length
  }

  private mutating func startBody(length: Int) {
    expected = length
    inBody = true
    body.removeAll(keepingCapacity: true)
    // Memory follows the bytes that arrive, not the length a prefix claims.
    body.reserveCapacity(min(length, 64 * 1024))
  }

  private mutating func finishBody(_ onMessage: (Bool, UnsafeRawBufferPointer) -> Void) {
    inBody = false
    body.withUnsafeBytes { onMessage(compressed, $0) }
    body.removeAll(keepingCapacity: body.capacity <= 64 * 1024)
  }
}
