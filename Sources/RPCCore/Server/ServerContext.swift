/// What a handler knows about its call, and the metadata it may add to the response.
///
/// Confined to the call's event loop, like the handler that receives it.
public final class ServerContext {
  /// The method being called.
  public let method: MethodDescriptor
  /// Custom metadata the client sent (reserved and pseudo headers removed), decoded on first use.
  public var requestMetadata: Metadata {
    if let decodedMetadata { return decodedMetadata }
    let decoded = wireMetadata.decoded()
    decodedMetadata = decoded
    return decoded
  }
  private var decodedMetadata: Metadata?
  private let wireMetadata: WireMetadata

  /// `requestMetadata[key]`, read from the wire bytes while the rest is not decoded: most calls
  /// look up one key (`authorization`), if any.
  public func requestMetadataValues(_ key: String) -> [MetadataValue] {
    decodedMetadata?[key] ?? wireMetadata.values(key)
  }
  /// The client's address, as "ipv4:127.0.0.1:5000" or "ipv6:[::1]:5000".
  public let peer: String
  /// When the call must be finished, from `grpc-timeout` clamped to the server's maximum.
  public let deadline: ContinuousClock.Instant?
  /// The algorithm the request messages were compressed with.
  public let requestEncoding: CompressionAlgorithm
  /// The largest response message the server sends: a larger one ends the call with
  /// RESOURCE_EXHAUSTED. Handlers that size responses from the request check it first.
  public let maxSendMessageBytes: Int

  /// Metadata sent with the response headers; changes after the first message is sent are ignored.
  public var initialMetadata = Metadata()
  /// Metadata sent with the status in the trailers.
  public var trailingMetadata = Metadata()
  /// Compression for response messages: starts as the best the client accepts that the server
  /// compresses with by default (identity); a handler may pick another the client accepts.
  public var responseEncoding: CompressionAlgorithm
  /// Algorithms the client accepts for response messages (parsed from `grpc-accept-encoding` on
  /// first use: most handlers never ask).
  public private(set) lazy var acceptedEncodings: [CompressionAlgorithm] =
    acceptEncodingHeader.map(CompressionAlgorithm.parseAcceptEncoding) ?? []
  private let acceptEncodingHeader: String?

  /// Whether the call has been cancelled (client reset, deadline, connection loss, shutdown).
  public internal(set) var isCancelled = false

  /// Whether the request message the handler holds (the latest one, when streaming) arrived
  /// compressed.
  public internal(set) var isRequestMessageCompressed = false

  public init(
    method: MethodDescriptor, requestMetadata: WireMetadata, peer: String,
    deadline: ContinuousClock.Instant?, requestEncoding: CompressionAlgorithm,
    acceptEncodingHeader: String?, maxSendMessageBytes: Int = .max
  ) {
    self.maxSendMessageBytes = maxSendMessageBytes
    self.method = method
    self.wireMetadata = requestMetadata
    self.peer = peer
    self.deadline = deadline
    self.requestEncoding = requestEncoding
    self.acceptEncodingHeader = acceptEncodingHeader
    self.responseEncoding = .identity
  }

  /// Throws RESOURCE_EXHAUSTED when a response of `size` bytes could not be sent.
  public func checkResponseSize(_ size: Int) throws(RPCError) {
    guard size <= maxSendMessageBytes else {
      throw RPCError(
        code: .resourceExhausted,
        message: "a response of \(size) bytes would exceed the server's limit of \(maxSendMessageBytes)")
    }
  }

  /// Values attached to the call before its handler runs (by a ``ServerInterceptor``), by key.
  private var attachments: [ObjectIdentifier: any Sendable] = [:]

  /// The value attached under `key`, if any.
  public subscript<Key: ServerContextKey>(key: Key.Type) -> Key.Value? {
    get {
      // Unwrapped before the cast: a cast of the optional itself is a run-time call even for nil.
      guard !attachments.isEmpty, let value = attachments[ObjectIdentifier(key)] else { return nil }
      return value as? Key.Value
    }
    set { attachments[ObjectIdentifier(key)] = newValue }
  }

  /// Time left before the deadline; nil without one.
  public var timeRemaining: Duration? {
    deadline.map { $0 - ContinuousClock.now }
  }
}

/// A method's identity: `/grpc.testing.TestService/UnaryCall`. A class (immutable), so each
/// call's context refers to it with one retain rather than three String copies.
public final class MethodDescriptor: Sendable, Hashable, CustomStringConvertible {
  /// Fully qualified service name ("grpc.testing.TestService").
  public let service: String
  /// Method name ("UnaryCall").
  public let method: String
  /// The HTTP/2 `:path`.
  public let path: String
  /// `path`'s UTF-8 bytes, for log lines formatted without Strings; valid while the descriptor is.
  /// Written once, in init, then only read: safe to share.
  nonisolated(unsafe) public let pathUTF8: UnsafeRawBufferPointer

  public init(service: String, method: String) {
    self.service = service
    self.method = method
    self.path = "/\(service)/\(method)"
    let bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: path.utf8.count, alignment: 1)
    bytes.copyBytes(from: path.utf8)
    self.pathUTF8 = UnsafeRawBufferPointer(bytes)
  }

  deinit { pathUTF8.deallocate() }

  public var description: String { path }

  public static func == (lhs: MethodDescriptor, rhs: MethodDescriptor) -> Bool { lhs.path == rhs.path }

  public func hash(into hasher: inout Hasher) { hasher.combine(path) }
}

/// A typed slot of ``ServerContext``: what an interceptor found out about a call (who the caller
/// is, say), read by the handler as a value of `Value`.
///
/// ```swift
/// enum CallerKey: ServerContextKey { typealias Value = Caller }
/// context[CallerKey.self] = caller
/// ```
public protocol ServerContextKey {
  associatedtype Value: Sendable
}
