public import RPCCore

/// The request messages of a streaming call, as views.
public struct RequestMessages<Message: ProtoMessage>: AsyncSequence {
  public typealias Element = Message.View
  public typealias Failure = any Error

  let stream: RequestStream

  public struct AsyncIterator: AsyncIteratorProtocol {
    var base: RequestStream.AsyncIterator

    public mutating func next() async throws -> Message.View? {
      guard let message = try await base.next() else { return nil }
      return Message.view(of: message)
    }
  }

  public func makeAsyncIterator() -> AsyncIterator {
    AsyncIterator(base: stream.makeAsyncIterator())
  }
}

/// Sends the response messages of a streaming call. Each message is built in place in an arena
/// of its own, which lives until the transport has packed it into the outbound frame.
public struct ResponseMessages<Message: ProtoMessage> {
  let writer: ResponseWriter

  /// Builds and sends one message; suspends while the peer reads slowly.
  /// `compress: false` sends it uncompressed even when the call compresses responses.
  public func send(compress: Bool = true, _ build: (Message.Builder) throws -> Void) async throws {
    let builder = Message.builder(in: Arena.make())
    try build(builder)
    try await writer.send(builder, compress: compress)
  }

  public var context: ServerContext { writer.context }
}
