/// The request messages of a client- or bidirectional-streaming call, in arrival order.
///
/// The transport delivers into it on the event loop; the handler iterates it on the same loop.
public final class RequestStream: AsyncSequence {
  public typealias Element = InboundMessage
  public typealias Failure = any Error

  private var buffered: [InboundMessage] = []
  private var head = 0
  private var finished = false
  private var failure: (any Error)?
  // Messages cross into the waiting task wrapped: both sides run on the same event loop.
  private var waiter: CheckedContinuation<LoopTransfer<InboundMessage?>, any Error>?

  private let context: ServerContext
  /// Told the wire size of each message the handler takes (flow-control credit for the peer).
  private let taken: (Int) -> Void

  init(context: ServerContext, taken: @escaping (Int) -> Void) {
    self.context = context
    self.taken = taken
  }

  /// Returns true if the message now waits in the buffer (its credit is given back when taken).
  func deliver(_ message: InboundMessage) -> Bool {
    guard !finished, failure == nil else { return false }
    if let waiter {
      self.waiter = nil
      waiter.resume(returning: LoopTransfer(value: message))
      return false
    }
    buffered.append(message)
    return true
  }

  func finish() {
    finished = true
    if let waiter, head == buffered.count {
      self.waiter = nil
      waiter.resume(returning: LoopTransfer(value: nil))
    }
  }

  func fail(_ error: any Error) {
    guard failure == nil else { return }
    failure = error
    buffered.removeAll()
    head = 0
    if let waiter {
      self.waiter = nil
      waiter.resume(throwing: error)
    }
  }

  fileprivate func next() async throws -> InboundMessage? {
    if let failure { throw failure }
    if head < buffered.count {
      let message = buffered[head]
      taken(message.wireSize)
      context.isRequestMessageCompressed = message.compressed
      head += 1
      if head == buffered.count {
        buffered.removeAll(keepingCapacity: true)
        head = 0
      }
      return message
    }
    if finished { return nil }
    let message = try await withCheckedThrowingContinuation { continuation in
      self.waiter = continuation
    }.value
    if let message { context.isRequestMessageCompressed = message.compressed }
    return message
  }

  public struct AsyncIterator: AsyncIteratorProtocol {
    fileprivate let stream: RequestStream

    public mutating func next() async throws -> InboundMessage? {
      try await stream.next()
    }
  }

  public func makeAsyncIterator() -> AsyncIterator {
    AsyncIterator(stream: self)
  }
}
