import Logging
import MarketplaceRPC
import ServiceLifecycle

/// Runs the job runner's workers for the server's lifetime. At shutdown they stop claiming and the
/// jobs in hand finish (and their outcomes are recorded) before the database client closes, which
/// stops after this service.
struct JobWorkers: Service {
  let runner: JobRunner

  func run() async throws {
    await cancelWhenGracefulShutdown {
      await runner.run()
    }
    // With no workers (or no handlers) the runner returns at once; a service that returns would
    // end the whole group, so this one stays until shutdown.
    try? await gracefulShutdown()
  }
}
