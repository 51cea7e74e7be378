public import MarketplaceProtos
public import RPCCore

/// `grpc.testing.TestService`, as the gRPC interop test descriptions (interop-test-descriptions.md)
/// expect of a server: payloads of the requested sizes, requested statuses and compression,
/// metadata echo, and pauses between streamed responses.
public struct TestService: Grpc_Testing_TestService.ServiceProtocol {
  static let echoInitialKey = "x-grpc-test-echo-initial"
  static let echoTrailingKey = "x-grpc-test-echo-trailing-bin"

  public init() {}

  public func emptyCall(
    _ request: Grpc_Testing_Empty.View, context: ServerContext, response: Grpc_Testing_Empty.Builder
  ) async throws {
    echoMetadata(context)
  }

  public func unaryCall(
    _ request: Grpc_Testing_SimpleRequest.View, context: ServerContext, response: Grpc_Testing_SimpleResponse.Builder
  ) async throws {
    echoMetadata(context)
    try checkCompression(expected: request.expectCompressed?.value, context: context)
    if let status = request.responseStatus, status.code != 0 {
      throw RPCError(code: Status.Code(rawValue: Int(status.code)) ?? .unknown, message: status.message)
    }
    if request.responseCompressed?.value == true { context.responseEncoding = .gzip }
    try context.checkResponseSize(Int(request.responseSize))
    fill(response.payload, size: request.responseSize)
  }

  public func cacheableUnaryCall(
    _ request: Grpc_Testing_SimpleRequest.View, context: ServerContext, response: Grpc_Testing_SimpleResponse.Builder
  ) async throws {
    try await unaryCall(request, context: context, response: response)
  }

  public func streamingOutputCall(
    _ request: Grpc_Testing_StreamingOutputCallRequest.View, context: ServerContext,
    responses: ResponseMessages<Grpc_Testing_StreamingOutputCallResponse>
  ) async throws {
    echoMetadata(context)
    try await respond(to: request, context: context, responses: responses)
  }

  public func streamingInputCall(
    _ requests: RequestMessages<Grpc_Testing_StreamingInputCallRequest>, context: ServerContext,
    response: Grpc_Testing_StreamingInputCallResponse.Builder
  ) async throws {
    echoMetadata(context)
    var total = 0
    for try await request in requests {
      try checkCompression(expected: request.expectCompressed?.value, context: context)
      total += request.payload?.body.count ?? 0
    }
    response.aggregatedPayloadSize = Int32(clamping: total)
  }

  public func fullDuplexCall(
    _ requests: RequestMessages<Grpc_Testing_StreamingOutputCallRequest>, context: ServerContext,
    responses: ResponseMessages<Grpc_Testing_StreamingOutputCallResponse>
  ) async throws {
    echoMetadata(context)
    for try await request in requests {
      try await respond(to: request, context: context, responses: responses)
    }
  }

  public func halfDuplexCall(
    _ requests: RequestMessages<Grpc_Testing_StreamingOutputCallRequest>, context: ServerContext,
    responses: ResponseMessages<Grpc_Testing_StreamingOutputCallResponse>
  ) async throws {
    echoMetadata(context)
    var received: [Grpc_Testing_StreamingOutputCallRequest.View] = []
    for try await request in requests { received.append(request) }
    for request in received { try await respond(to: request, context: context, responses: responses) }
  }

  public func unimplementedCall(
    _ request: Grpc_Testing_Empty.View, context: ServerContext, response: Grpc_Testing_Empty.Builder
  ) async throws {
    throw RPCError(code: .unimplemented, message: "UnimplementedCall is, by design, not implemented")
  }

  // MARK: Helpers

  private func respond(
    to request: Grpc_Testing_StreamingOutputCallRequest.View, context: ServerContext,
    responses: ResponseMessages<Grpc_Testing_StreamingOutputCallResponse>
  ) async throws {
    if let status = request.responseStatus, status.code != 0 {
      throw RPCError(code: Status.Code(rawValue: Int(status.code)) ?? .unknown, message: status.message)
    }
    // grpc-encoding goes out with the first message: choose gzip before it if any message is
    // to be compressed; the others then go with the compressed flag 0.
    if request.responseParameters.contains(where: { $0.compressed?.value == true }) {
      context.responseEncoding = .gzip
    }
    for parameters in request.responseParameters { try context.checkResponseSize(Int(parameters.size)) }
    for parameters in request.responseParameters {
      if parameters.intervalUs > 0 {
        try await Task.sleep(for: .microseconds(Int64(parameters.intervalUs)))
      }
      let compress = parameters.compressed?.value == true
      try await responses.send(compress: compress) { response in
        fill(response.payload, size: parameters.size)
      }
    }
  }

  private func fill(_ payload: Grpc_Testing_Payload.Builder, size: Int32) {
    payload.setBody(count: Int(max(0, size))) { $0.initializeMemory(as: UInt8.self, repeating: 0) }
  }

  private func echoMetadata(_ context: ServerContext) {
    for value in context.requestMetadata[Self.echoInitialKey] {
      if case .string(let string) = value { context.initialMetadata.append(Self.echoInitialKey, string) }
    }
    for value in context.requestMetadata[Self.echoTrailingKey] {
      if case .binary(let bytes) = value { context.trailingMetadata.append(Self.echoTrailingKey, bytes: bytes) }
    }
  }

  /// `expect_compressed`: the request message must have arrived compressed.
  private func checkCompression(expected: Bool?, context: ServerContext) throws {
    if expected == true, !context.isRequestMessageCompressed {
      throw RPCError(code: .invalidArgument, message: "expected a compressed request message")
    }
  }
}
