import Logging
import Postgres
import ServiceLifecycle
import StandardServices

/// Keeps `grpc.health.v1` honest about the database: NOT_SERVING while PostgreSQL cannot be
/// reached, SERVING again within one check interval of its return: for the whole server ("")
/// and for each service that needs the database.
///
/// It asks on a connection of its own (application_name `marketplace-health`), never the pool's:
/// a pool busy with calls says nothing about reachability, and a load balancer must not take a
/// loaded but healthy instance out. A check is one `SELECT 1` bounded by the interval; when it
/// fails, one fresh connection is tried at once, so a single dropped backend is not an outage.
struct DatabaseHealthMonitor: Service {
  let connection: PGConnection.Options
  let health: HealthService
  /// "" and the full names of the services that need the database.
  let services: [String]
  let interval: Duration
  let logger: Logger

  init(
    connection: PGConnection.Options, health: HealthService, services: [String], interval: Duration,
    logger: Logger
  ) {
    var options = connection
    options.applicationName = "marketplace-health"
    options.connectTimeout = interval
    self.connection = options
    self.health = health
    self.services = services
    self.interval = interval
    self.logger = logger
  }

  func run() async throws {
    var probe: PGConnection?
    var serving = true
    while !Task.isCancelled && !Task.isShuttingDownGracefully {
      let reachable = await check(&probe)
      if reachable != serving {
        serving = reachable
        for service in services { health.setStatus(serving ? .serving : .notServing, for: service) }
        if serving {
          logger.notice("database reachable again: health is SERVING")
        } else {
          logger.warning("database unreachable: health is NOT_SERVING")
        }
      }
      try? await Task.sleep(for: interval)
    }
    await probe?.close()
  }

  /// Whether the database answers: on the open probe connection, else (or if that fails) on a
  /// fresh one.
  private func check(_ probe: inout PGConnection?) async -> Bool {
    if let open = probe, !open.isBroken, await answers(open) { return true }
    await probe?.close()
    probe = nil
    do {
      let fresh = try await PGConnection.connect(options: connection, logger: logger)
      probe = fresh
      return await answers(fresh)
    } catch {
      logger.debug("health check cannot connect", metadata: (error as? PGError)?.logMetadata ?? [:])
      return false
    }
  }

  /// `SELECT 1` within the interval (a late answer is cancelled and counts as none).
  private func answers(_ connection: PGConnection) async -> Bool {
    let interval = interval
    return await withTaskGroup(of: Bool.self) { group in
      group.addTask { (try? await connection.withSession { try $0.query("SELECT 1") }) != nil }
      group.addTask {
        try? await Task.sleep(for: interval)
        return false
      }
      defer { group.cancelAll() }
      return await group.next() ?? false
    }
  }
}
