import Logging
import Postgres
import ServiceLifecycle
import StandardServices

/// Keeps `grpc.health.v1` honest about the database: NOT_SERVING while PostgreSQL cannot be
/// reached, SERVING again within one check interval of its return: for the whole server ("")
/// and for each service that needs the database.
struct DatabaseHealthMonitor: Service {
  let pool: PGPool
  let health: HealthService
  /// "" and the full names of the services that need the database.
  let services: [String]
  let interval: Duration
  let logger: Logger

  func run() async throws {
    var serving = true
    while !Task.isCancelled && !Task.isShuttingDownGracefully {
      let reachable: Bool
      do {
        try await pool.withConnection(deadline: .now + interval) { session in
          _ = try session.query("SELECT 1")
        }
        reachable = true
      } catch {
        reachable = false
        if serving { logger.warning("database unreachable: health is NOT_SERVING", metadata: ["error": "\(error)"]) }
      }
      if reachable != serving {
        serving = reachable
        for service in services { health.setStatus(serving ? .serving : .notServing, for: service) }
        if serving { logger.notice("database reachable again: health is SERVING") }
      }
      try? await Task.sleep(for: interval)
    }
  }
}
