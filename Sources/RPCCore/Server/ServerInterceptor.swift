/// Work done before the handler of every method it is installed for (``RPCRouter/register(contentsOf:interceptor:)``):
/// resolving the caller from the request metadata, say. It may attach typed values to the
/// context (``ServerContextKey``) or end the call by throwing, before any handler code runs.
public protocol ServerInterceptor: Sendable {
  func intercept(_ context: ServerContext) async throws

  /// The same work, done at once on the event loop if it needs no waiting: true when done, false
  /// when only `intercept` can do it. Lets a call answered from memory stay on the loop.
  func interceptInline(_ context: ServerContext) throws -> Bool
}

extension ServerInterceptor {
  public func interceptInline(_ context: ServerContext) throws -> Bool { false }
}

extension RPCHandler {
  /// This handler, with `interceptor` run first. Inline handlers stay inline while the
  /// interceptor can work inline too, and run as a task when it has to wait.
  public func intercepted(by interceptor: some ServerInterceptor) -> RPCHandler {
    let intercepted: Body
    switch body {
    case .inlineUnary(let handler):
      // An inline handler is an inline-first one whose inline attempt always answers.
      intercepted = Self.inlineFirst(interceptor, inline: handler) { message, context in try handler(message, context) }
    case .unaryInlineFirst(let inline, let handler):
      intercepted = Self.inlineFirst(interceptor, inline: inline, body: handler)
    case .unary(let handler):
      intercepted = .unary { message, context in
        try await interceptor.intercept(context)
        return try await handler(message, context)
      }
    case .serverStreaming(let handler):
      intercepted = .serverStreaming { message, context, writer in
        try await interceptor.intercept(context)
        try await handler(message, context, writer)
      }
    case .clientStreaming(let handler):
      intercepted = .clientStreaming { requests, context in
        try await interceptor.intercept(context)
        return try await handler(requests, context)
      }
    case .bidirectionalStreaming(let handler):
      intercepted = .bidirectionalStreaming { requests, context, writer in
        try await interceptor.intercept(context)
        try await handler(requests, context, writer)
      }
    }
    return RPCHandler(method: method, decode: decode, body: intercepted)
  }

  /// Inline while the interceptor can work inline; else the interceptor, then `body`, in a task.
  private static func inlineFirst(
    _ interceptor: some ServerInterceptor,
    inline: @escaping @Sendable (InboundMessage, ServerContext) throws -> (any MessageSerializer)?,
    body: @escaping @Sendable (InboundMessage, ServerContext) async throws -> any MessageSerializer
  ) -> Body {
    .unaryInlineFirst(
      inline: { message, context in try interceptor.interceptInline(context) ? try inline(message, context) : nil },
      body: { message, context in
        try await interceptor.intercept(context)
        return try await body(message, context)
      })
  }
}

extension RPCRouter {
  /// Registers every method of `other`, each with `interceptor` run before its handler.
  public mutating func register(contentsOf other: RPCRouter, interceptor: some ServerInterceptor) {
    for handler in other.handlersInRegistrationOrder { register(handler.intercepted(by: interceptor)) }
  }
}
