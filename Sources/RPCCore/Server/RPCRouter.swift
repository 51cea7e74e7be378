/// Maps `:path` to handlers. Built once at start-up, then read concurrently by every connection.
public struct RPCRouter: Sendable {
  private var handlers: [String: RPCHandler] = [:]
  private var services: Set<String> = []

  public init() {}

  /// Registers a handler; registering a method twice is a programming error.
  public mutating func register(_ handler: RPCHandler) {
    precondition(handlers[handler.method.path] == nil, "\(handler.method) registered twice")
    handlers[handler.method.path] = handler
    services.insert(handler.method.service)
  }

  /// Replaces the handler of an already registered method (for a faster variant of one method).
  public mutating func replace(_ handler: RPCHandler) {
    precondition(handlers[handler.method.path] != nil, "\(handler.method) is not registered")
    handlers[handler.method.path] = handler
  }

  public enum Lookup {
    case found(RPCHandler)
    case unknownService(String)
    case unknownMethod(service: String, method: String)
    case malformedPath
  }

  public func lookup(path: String) -> Lookup {
    if let handler = handlers[path] { return .found(handler) }
    let parts = path.split(separator: "/", omittingEmptySubsequences: false)
    guard parts.count == 3, parts[0].isEmpty, !parts[1].isEmpty, !parts[2].isEmpty else {
      return .malformedPath
    }
    let service = String(parts[1])
    guard services.contains(service) else { return .unknownService(service) }
    return .unknownMethod(service: service, method: String(parts[2]))
  }

  /// Fully qualified names of the registered services, sorted.
  public var serviceNames: [String] { services.sorted() }

  /// Every registered method, sorted by path.
  public var methods: [MethodDescriptor] { handlers.values.map(\.method).sorted { $0.path < $1.path } }
}

extension RPCRouter.Lookup {
  /// The status for a path that has no handler.
  public var status: Status? {
    switch self {
    case .found: nil
    case .unknownService(let service):
      Status(code: .unimplemented, message: "unknown service \(service)")
    case .unknownMethod(let service, let method):
      Status(code: .unimplemented, message: "unknown method \(method) for service \(service)")
    case .malformedPath:
      Status(code: .unimplemented, message: "malformed method path")
    }
  }
}
