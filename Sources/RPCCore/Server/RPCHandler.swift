/// One method's server-side implementation at the byte level, as the router stores it.
/// Generated code builds these from typed handlers (views in, builders out).
///
/// A class, though immutable: every call holds its handler, and passing one reference costs one
/// retain where a struct of closures and strings would cost one per field.
public final class RPCHandler: Sendable {
  /// How the handler runs.
  public enum Body: Sendable {
    /// A unary call that does no blocking work, run to completion on the connection's event loop
    /// with no task and no thread hop.
    case inlineUnary(@Sendable (InboundMessage, ServerContext) throws -> any MessageSerializer)
    case unary(@Sendable (InboundMessage, ServerContext) async throws -> any MessageSerializer)
    /// A unary call that first tries to answer on the connection's event loop, with no task (from
    /// memory, say): `inline` returns nil when it would have to wait, and `body` then runs as for
    /// `.unary`. `inline` must not have effects `body` would repeat.
    case unaryInlineFirst(
      inline: @Sendable (InboundMessage, ServerContext) throws -> (any MessageSerializer)?,
      body: @Sendable (InboundMessage, ServerContext) async throws -> any MessageSerializer)
    case serverStreaming(@Sendable (InboundMessage, ServerContext, ResponseWriter) async throws -> Void)
    case clientStreaming(@Sendable (RequestStream, ServerContext) async throws -> any MessageSerializer)
    case bidirectionalStreaming(
      @Sendable (RequestStream, ServerContext, ResponseWriter) async throws -> Void)
  }

  public let method: MethodDescriptor
  public let decode: MessageDecoder
  public let body: Body

  public init(method: MethodDescriptor, decode: @escaping MessageDecoder, body: Body) {
    self.method = method
    self.decode = decode
    self.body = body
  }

  /// Whether the client sends one message (unary and server streaming).
  public var hasSingleRequest: Bool {
    switch body {
    case .inlineUnary, .unary, .unaryInlineFirst, .serverStreaming: true
    case .clientStreaming, .bidirectionalStreaming: false
    }
  }
}
