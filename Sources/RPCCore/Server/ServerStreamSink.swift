/// The transport's side of one call's response, implemented over an HTTP/2 stream.
///
/// Every method is called on the connection's event loop.
public protocol ServerStreamSink: AnyObject {
  /// Frames and queues one response message, sending the response headers first if needed.
  /// `compress` asks for the context's response encoding; false sends the message uncompressed.
  func sendMessage(_ message: some MessageSerializer, compress: Bool)
  /// Ends the response with a status: trailers after messages, or a trailers-only response.
  func finish(status: Status, trailers: Metadata, error: (any Error)?)
  /// False while too many response bytes wait for the peer to read them.
  var isWritable: Bool { get }
  /// Calls `resume(true)` once writable again, or `resume(false)` if the stream closes first.
  func whenWritable(_ resume: @escaping (Bool) -> Void)
  /// The handler took request messages of `bytes` on the wire: the peer may send that much more
  /// (HTTP/2 flow control), so a slow handler holds back a fast client.
  func consumed(bytes: Int)
}

/// Carries loop-confined values into a task that runs on that same loop.
struct LoopTransfer<Value>: @unchecked Sendable {  // safe: the task runs on the loop that owns Value
  let value: Value
}
