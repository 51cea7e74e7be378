import Logging
import MarketplaceRPC
import ServiceLifecycle

/// `WatchBooking`'s listener, for the server's lifetime.
struct BookingWatchListener: Service {
  let watchers: BookingWatchers
  let logger: Logger

  func run() async throws {
    await cancelWhenGracefulShutdown { await watchers.run(logger: logger) }
  }
}

/// Completes stays after check-out, every `interval` (and when `wake` is called: the test clock
/// moved). Several processes may sweep at once: each takes rows the others do not hold.
struct CompletionSweep: Service {
  let workflows: BookingWorkflows
  let interval: Duration
  let wakeUps: AsyncStream<Void>
  let logger: Logger

  func run() async throws {
    await cancelWhenGracefulShutdown {
      await withTaskGroup(of: Void.self) { group in
        // A tick every interval, merged with the wake-ups.
        let (ticks, tick) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        group.addTask {
          while !Task.isCancelled {
            tick.yield()
            try? await Task.sleep(for: interval)
          }
          tick.finish()
        }
        group.addTask {
          for await _ in wakeUps { tick.yield() }
        }
        for await _ in ticks {
          do {
            let completed = try await workflows.completeEndedStays()
            if completed > 0 { logger.info("stays completed", metadata: ["bookings.completed": "\(completed)"]) }
          } catch {
            logger.warning("completion sweep failed; retried at the next tick", metadata: ["error": "\(error)"])
          }
        }
        group.cancelAll()
      }
    }
  }
}
