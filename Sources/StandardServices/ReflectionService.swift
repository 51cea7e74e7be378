public import MarketplaceProtos
public import RPCCore

/// Server reflection, `grpc.reflection.v1` and `v1alpha` (identical but for the package): lists
/// the services, and serves the embedded file descriptors by file name or by symbol.
public struct ReflectionService: Sendable {
  /// What a reflection request asks, in either version.
  enum Query {
    case fileByFilename(String)
    case fileContainingSymbol(String)
    case fileContainingExtension
    case allExtensionNumbers(String)
    case listServices
  }

  /// The answer, in either version.
  enum Answer {
    case files([[UInt8]])
    case services([String])
    case error(Status.Code, String)
  }

  private let services: [String]
  private let filesByName: [String: ProtoFile]
  private let fileBySymbol: [String: String]

  /// Serves the registry's files; `services` are the names `list_services` reports.
  public init(services: [String], files: [ProtoFile] = ProtoRegistry.files) {
    self.services = services.sorted()
    var byName: [String: ProtoFile] = [:]
    var bySymbol: [String: String] = [:]
    for file in files {
      byName[file.name] = file
      for symbol in file.symbols { bySymbol[symbol] = file.name }
    }
    self.filesByName = byName
    self.fileBySymbol = bySymbol
  }

  func answer(_ query: Query) -> Answer {
    switch query {
    case .listServices:
      return .services(services)
    case .fileByFilename(let name):
      guard filesByName[name] != nil else { return .error(.notFound, "file not found: \(name)") }
      return .files(descriptors(including: name))
    case .fileContainingSymbol(let symbol):
      guard let name = fileBySymbol[symbol] else { return .error(.notFound, "symbol not found: \(symbol)") }
      return .files(descriptors(including: name))
    case .fileContainingExtension:
      return .error(.notFound, "extensions are not supported")
    case .allExtensionNumbers(let type):
      return .error(.notFound, "extensions are not supported (type \(type))")
    }
  }

  /// The file and everything it imports, transitively, the file itself first.
  private func descriptors(including name: String) -> [[UInt8]] {
    var seen: Set<String> = []
    var order: [String] = []
    func visit(_ name: String) {
      guard seen.insert(name).inserted, let file = filesByName[name] else { return }
      order.append(name)
      file.dependencies.forEach(visit)
    }
    visit(name)
    return order.compactMap { filesByName[$0]?.serializedDescriptor }
  }

  /// Registers both versions. v1alpha is v1 on the wire (same messages, same field numbers), so
  /// one implementation decodes both with the v1 types.
  public func register(with router: inout RPCRouter) {
    let v1 = V1(reflection: self)
    v1.registerMethods(with: &router)
    router.registerBidirectionalStreaming(
      Grpc_Reflection_V1alpha_ServerReflection.Method.serverReflectionInfo,
      Grpc_Reflection_V1_ServerReflectionRequest.self, Grpc_Reflection_V1_ServerReflectionResponse.self
    ) { requests, context, responses in
      try await v1.serverReflectionInfo(requests, context: context, responses: responses)
    }
  }

  struct V1: Grpc_Reflection_V1_ServerReflection.ServiceProtocol {
    let reflection: ReflectionService

    func serverReflectionInfo(
      _ requests: RequestMessages<Grpc_Reflection_V1_ServerReflectionRequest>, context: ServerContext,
      responses: ResponseMessages<Grpc_Reflection_V1_ServerReflectionResponse>
    ) async throws {
      for try await request in requests {
        let query: Query =
          switch request.messageRequest {
          case .fileByFilename(let name): .fileByFilename(name)
          case .fileContainingSymbol(let symbol): .fileContainingSymbol(symbol)
          case .fileContainingExtension: .fileContainingExtension
          case .allExtensionNumbersOfType(let type): .allExtensionNumbers(type)
          case .listServices, nil: .listServices
          }
        let answer = reflection.answer(query)
        try await responses.send { response in
          response.validHost = request.host
          let original = response.originalRequest
          original.host = request.host
          switch request.messageRequest {
          case .fileByFilename(let name): original.fileByFilename = name
          case .fileContainingSymbol(let symbol): original.fileContainingSymbol = symbol
          case .allExtensionNumbersOfType(let type): original.allExtensionNumbersOfType = type
          case .listServices(let value): original.listServices = value
          case .fileContainingExtension, nil: break
          }
          switch answer {
          case .files(let files):
            let out = response.fileDescriptorResponse
            for file in files { out.appendFileDescriptorProto(file) }
          case .services(let names):
            let out = response.listServicesResponse
            for name in names { out.addService().name = name }
          case .error(let code, let message):
            response.errorResponse.errorCode = Int32(code.rawValue)
            response.errorResponse.errorMessage = message
          }
        }
      }
    }
  }
}
