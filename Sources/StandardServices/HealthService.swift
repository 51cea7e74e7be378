public import MarketplaceProtos
public import RPCCore
import Synchronization

/// `grpc.health.v1.Health`: per-service serving status, with Watch streams that follow changes.
/// The empty service name stands for the whole server.
public final class HealthService: Grpc_Health_V1_Health.ServiceProtocol {
  public enum ServingStatus: Sendable, Equatable {
    case serving, notServing

    var wire: Grpc_Health_V1_HealthCheckResponse.ServingStatus {
      self == .serving ? .serving : .notServing
    }
  }

  private struct State {
    var statuses: [String: ServingStatus] = [:]
    var watchers: [String: [Int: AsyncStream<Grpc_Health_V1_HealthCheckResponse.ServingStatus>.Continuation]] = [:]
    var nextWatcher = 0
  }

  private let state = Mutex(State())

  public init() {
    setStatus(.serving, for: "")
  }

  /// Sets a service's status and tells its watchers.
  public func setStatus(_ status: ServingStatus, for service: String) {
    let watchers = state.withLock { state in
      state.statuses[service] = status
      return Array(state.watchers[service, default: [:]].values)
    }
    for watcher in watchers { watcher.yield(status.wire) }
  }

  public func status(of service: String) -> ServingStatus? {
    state.withLock { $0.statuses[service] }
  }

  public func check(
    _ request: Grpc_Health_V1_HealthCheckRequest.View, context: ServerContext,
    response: Grpc_Health_V1_HealthCheckResponse.Builder
  ) async throws {
    guard let status = status(of: request.service) else {
      throw RPCError(code: .notFound, message: "unknown service \(request.service)")
    }
    response.status = status.wire
  }

  public func watch(
    _ request: Grpc_Health_V1_HealthCheckRequest.View, context: ServerContext,
    responses: ResponseMessages<Grpc_Health_V1_HealthCheckResponse>
  ) async throws {
    let service = request.service
    let (updates, continuation) = AsyncStream.makeStream(
      of: Grpc_Health_V1_HealthCheckResponse.ServingStatus.self, bufferingPolicy: .bufferingNewest(1))
    let id = state.withLock { state in
      let id = state.nextWatcher
      state.nextWatcher += 1
      state.watchers[service, default: [:]][id] = continuation
      continuation.yield(state.statuses[service]?.wire ?? .serviceUnknown)
      return id
    }
    defer {
      state.withLock { _ = $0.watchers[service]?.removeValue(forKey: id) }
      continuation.finish()
    }
    var last: Grpc_Health_V1_HealthCheckResponse.ServingStatus?
    for await status in updates where status != last {
      last = status
      try await responses.send { $0.status = status }
    }
  }
}
