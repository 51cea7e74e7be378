import Logging
import Postgres
import ServiceLifecycle
import StandardServices

/// Keeps `grpc.health.v1` honest about the database: NOT_SERVING while PostgreSQL cannot be
/// reached, SERVING again within one check interval of its return.
struct DatabaseHealthMonitor: Service {
  let pool: PGPool
  let health: HealthService
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
        health.setStatus(serving ? .serving : .notServing, for: "")
        if serving { logger.notice("database reachable again: health is SERVING") }
      }
      try? await Task.sleep(for: interval)
    }
  }
}
