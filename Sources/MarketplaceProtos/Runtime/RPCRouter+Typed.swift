public import RPCCore

/// Typed registration: the generated services call these with their views and builders.
extension RPCRouter {
  public mutating func registerUnary<Request: ProtoMessage, Response: ProtoMessage>(
    _ method: MethodDescriptor, _: Request.Type, _: Response.Type,
    _ handler: @escaping @Sendable (Request.View, ServerContext, Response.Builder) async throws -> Void
  ) {
    register(
      RPCHandler(
        method: method,
        decode: { bytes, arena throws(MessageDecodingError) in try Request.decode(bytes, arena: arena) },
        body: .unary { message, context in
          let response = Response.builder(in: message.arena)
          try await handler(Request.view(of: message), context, response)
          return response
        }))
  }

  /// A unary method that does no blocking work: it runs on the connection's event loop with no
  /// task. Use it only for handlers that neither block nor wait.
  public mutating func registerInlineUnary<Request: ProtoMessage, Response: ProtoMessage>(
    _ method: MethodDescriptor, _: Request.Type, _: Response.Type, replacing: Bool = false,
    _ handler: @escaping @Sendable (Request.View, ServerContext, Response.Builder) throws -> Void
  ) {
    let entry = RPCHandler(
      method: method, decode: { bytes, arena throws(MessageDecodingError) in try Request.decode(bytes, arena: arena) },
      body: .inlineUnary { message, context in
        let response = Response.builder(in: message.arena)
        try handler(Request.view(of: message), context, response)
        return response
      })
    if replacing { replace(entry) } else { register(entry) }
  }

  /// A unary method that first tries `inline` on the connection's event loop, with no task: it
  /// returns the response (an `EncodedMessage` kept in memory, say), or nil when only the async
  /// `handler` can answer, which then runs as for `registerUnary`.
  public mutating func registerUnary<Request: ProtoMessage, Response: ProtoMessage>(
    _ method: MethodDescriptor, _: Request.Type, _: Response.Type, replacing: Bool = false,
    inlineFirst inline: @escaping @Sendable (Request.View, ServerContext) throws -> (any MessageSerializer)?,
    _ handler: @escaping @Sendable (Request.View, ServerContext, Response.Builder) async throws -> Void
  ) {
    let entry = RPCHandler(
      method: method, decode: { bytes, arena throws(MessageDecodingError) in try Request.decode(bytes, arena: arena) },
      body: .unaryInlineFirst(
        inline: { message, context in try inline(Request.view(of: message), context) },
        body: { message, context in
          let response = Response.builder(in: message.arena)
          try await handler(Request.view(of: message), context, response)
          return response
        }))
    if replacing { replace(entry) } else { register(entry) }
  }

  public mutating func registerServerStreaming<Request: ProtoMessage, Response: ProtoMessage>(
    _ method: MethodDescriptor, _: Request.Type, _: Response.Type,
    _ handler: @escaping @Sendable (Request.View, ServerContext, ResponseMessages<Response>) async throws -> Void
  ) {
    register(
      RPCHandler(
        method: method,
        decode: { bytes, arena throws(MessageDecodingError) in try Request.decode(bytes, arena: arena) },
        body: .serverStreaming { message, context, writer in
          try await handler(Request.view(of: message), context, ResponseMessages(writer: writer))
        }))
  }

  public mutating func registerClientStreaming<Request: ProtoMessage, Response: ProtoMessage>(
    _ method: MethodDescriptor, _: Request.Type, _: Response.Type,
    _ handler: @escaping @Sendable (RequestMessages<Request>, ServerContext, Response.Builder) async throws -> Void
  ) {
    register(
      RPCHandler(
        method: method,
        decode: { bytes, arena throws(MessageDecodingError) in try Request.decode(bytes, arena: arena) },
        body: .clientStreaming { requests, context in
          let response = Response.builder(in: Arena.make())
          try await handler(RequestMessages(stream: requests), context, response)
          return response
        }))
  }

  public mutating func registerBidirectionalStreaming<Request: ProtoMessage, Response: ProtoMessage>(
    _ method: MethodDescriptor, _: Request.Type, _: Response.Type,
    _ handler:
      @escaping @Sendable (RequestMessages<Request>, ServerContext, ResponseMessages<Response>) async throws -> Void
  ) {
    register(
      RPCHandler(
        method: method,
        decode: { bytes, arena throws(MessageDecodingError) in try Request.decode(bytes, arena: arena) },
        body: .bidirectionalStreaming { requests, context, writer in
          try await handler(RequestMessages(stream: requests), context, ResponseMessages(writer: writer))
        }))
  }
}
