public import MarketplaceProtos
public import RPCCore

/// `grpc.testing.BenchmarkService`: the load-test target. UnaryCall runs inline on the event loop
/// (no task, no hop), which is what the benchmark measures.
public struct BenchmarkService: Grpc_Testing_BenchmarkService.ServiceProtocol {
  public init() {}

  /// Registers the service, with UnaryCall on the inline path.
  public func register(with router: inout RPCRouter) {
    registerMethods(with: &router)
    router.registerInlineUnary(
      Grpc_Testing_BenchmarkService.Method.unaryCall, Grpc_Testing_SimpleRequest.self,
      Grpc_Testing_SimpleResponse.self, replacing: true
    ) { request, context, response in
      try Self.answer(request, context: context, into: response)
    }
  }

  /// A payload of the requested size, refused before it is built if it could not be sent.
  static func answer(
    _ request: Grpc_Testing_SimpleRequest.View, context: ServerContext,
    into response: Grpc_Testing_SimpleResponse.Builder
  ) throws(RPCError) {
    let size = Int(max(0, request.responseSize))
    try context.checkResponseSize(size)
    response.payload.setBody(count: size) { $0.initializeMemory(as: UInt8.self, repeating: 0) }
  }

  public func unaryCall(
    _ request: Grpc_Testing_SimpleRequest.View, context: ServerContext, response: Grpc_Testing_SimpleResponse.Builder
  ) async throws {
    try Self.answer(request, context: context, into: response)
  }

  public func streamingCall(
    _ requests: RequestMessages<Grpc_Testing_SimpleRequest>, context: ServerContext,
    responses: ResponseMessages<Grpc_Testing_SimpleResponse>
  ) async throws {
    for try await request in requests {
      try await responses.send { try Self.answer(request, context: context, into: $0) }
    }
  }

  public func streamingFromClient(
    _ requests: RequestMessages<Grpc_Testing_SimpleRequest>, context: ServerContext,
    response: Grpc_Testing_SimpleResponse.Builder
  ) async throws {
    var size: Int32 = 0
    for try await request in requests { size = request.responseSize }
    try context.checkResponseSize(Int(size))
    response.payload.setBody(count: Int(max(0, size))) { $0.initializeMemory(as: UInt8.self, repeating: 0) }
  }

  /// Sends answers until the client cancels.
  public func streamingFromServer(
    _ request: Grpc_Testing_SimpleRequest.View, context: ServerContext,
    responses: ResponseMessages<Grpc_Testing_SimpleResponse>
  ) async throws {
    while !context.isCancelled {
      try await responses.send { try Self.answer(request, context: context, into: $0) }
    }
  }

  public func streamingBothWays(
    _ requests: RequestMessages<Grpc_Testing_SimpleRequest>, context: ServerContext,
    responses: ResponseMessages<Grpc_Testing_SimpleResponse>
  ) async throws {
    try await streamingCall(requests, context: context, responses: responses)
  }
}
