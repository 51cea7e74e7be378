/// Sends the response messages of a streaming call, waiting while the peer reads slowly, so the
/// server never buffers without bound.
public final class ResponseWriter {
  private let call: ServerCall

  init(call: ServerCall) {
    self.call = call
  }

  /// Sends one message; suspends while too many sent bytes wait for the peer.
  /// Throws `CancellationError` once the call has ended.
  public func send(_ message: some MessageSerializer, compress: Bool = true) async throws {
    while !call.isWritable {
      let writable = await withCheckedContinuation { continuation in
        call.whenWritable { continuation.resume(returning: $0) }
      }
      if !writable { throw CancellationError() }
    }
    try call.sendMessage(message, compress: compress)
  }

  public var context: ServerContext { call.context }
}
