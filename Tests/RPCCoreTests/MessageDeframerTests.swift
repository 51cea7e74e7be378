import RPCCore
import Testing

@Suite("message framing")
struct MessageDeframerTests {
  struct Message: Equatable {
    var compressed: Bool
    var bytes: [UInt8]
  }

  static func frame(_ bytes: [UInt8], compressed: Bool = false) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: 5)
    out.withUnsafeMutableBytes {
      MessageFramer.writePrefix(compressed: compressed, length: bytes.count, to: $0.baseAddress!)
    }
    return out + bytes
  }

  /// Feeds `chunks` and returns the messages, in order.
  static func deframe(_ chunks: [[UInt8]], limit: Int = 1 << 20) throws(RPCError) -> [Message] {
    var deframer = MessageDeframer(maxMessageBytes: limit)
    var messages: [Message] = []
    for chunk in chunks {
      let copy = chunk
      var failure: RPCError?
      copy.withUnsafeBytes { bytes in
        do {
          try deframer.process(bytes) { compressed, message in
            messages.append(Message(compressed: compressed, bytes: Array(message)))
          }
        } catch let error as RPCError {
          failure = error
        } catch {
          Issue.record("unexpected error \(error)")
        }
      }
      if let failure { throw failure }
    }
    #expect(!deframer.hasPartialMessage)
    return messages
  }

  @Test("prefix bytes are the flag and a big-endian length")
  func prefix() {
    #expect(Self.frame([1, 2, 3], compressed: true) == [1, 0, 0, 0, 3, 1, 2, 3])
    #expect(Self.frame(Array(repeating: 7, count: 258)).prefix(5) == [0, 0, 0, 1, 2])
  }

  @Test("a zero-length message")
  func zeroLength() throws {
    #expect(try Self.deframe([Self.frame([])]) == [Message(compressed: false, bytes: [])])
  }

  @Test("several messages packed into one chunk")
  func packed() throws {
    let chunk = Self.frame([1]) + Self.frame([2, 2], compressed: true) + Self.frame([])
    #expect(
      try Self.deframe([chunk]) == [
        Message(compressed: false, bytes: [1]), Message(compressed: true, bytes: [2, 2]),
        Message(compressed: false, bytes: []),
      ])
  }

  @Test("a message split at every possible point", arguments: 1..<12)
  func split(at point: Int) throws {
    let bytes = Self.frame([9, 8, 7, 6, 5, 4, 3]) + Self.frame([1])
    let chunks = [Array(bytes[..<point]), Array(bytes[point...])]
    #expect(
      try Self.deframe(chunks) == [
        Message(compressed: false, bytes: [9, 8, 7, 6, 5, 4, 3]), Message(compressed: false, bytes: [1]),
      ])
  }

  @Test("byte by byte")
  func byteByByte() throws {
    let bytes = Self.frame(Array(0..<40), compressed: true)
    let chunks = bytes.map { [$0] }
    #expect(try Self.deframe(chunks) == [Message(compressed: true, bytes: Array(0..<40))])
  }

  @Test("a message over the limit is RESOURCE_EXHAUSTED before its body arrives")
  func tooLarge() {
    let prefix = Array(Self.frame(Array(repeating: 0, count: 101)).prefix(5))
    #expect(throws: RPCError(code: .resourceExhausted, message: "received message larger than max (101 vs. 100)")) {
      _ = try Self.deframe([prefix], limit: 100)
    }
  }

  @Test("a compressed-flag byte other than 0 or 1 is INTERNAL")
  func badFlag() {
    #expect(throws: RPCError.self) { _ = try Self.deframe([[2, 0, 0, 0, 0]]) }
  }
}
