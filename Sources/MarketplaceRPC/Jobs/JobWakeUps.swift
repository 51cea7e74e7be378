import Synchronization

/// Where idle workers wait for work: until `wakeOne()` (a job was enqueued) or `wakeAll()`, a
/// timeout, or their cancellation.
///
/// A worker reads `generation` before it looks for a job and, finding none, waits only if no
/// wake-up came since: a job enqueued between its empty claim and its wait is not slept through.
final class JobWakeUps: Sendable {
  private struct State {
    var generation: UInt64 = 0
    var nextWaiter: UInt64 = 0
    var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
  }

  private let state = Mutex(State())

  /// Counts wake-ups; pass it to `wait(unlessRungSince:timeout:)`.
  var generation: UInt64 { state.withLock { $0.generation } }

  /// How many workers wait now.
  var waitingCount: Int { state.withLock { $0.waiters.count } }

  /// Wakes the worker waiting longest, or with none waiting the next one about to wait: for one
  /// new job, which one worker claims (waking them all, the others would claim nothing).
  func wakeOne() {
    let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
      state.generation &+= 1
      guard let longest = state.waiters.keys.min() else { return nil }
      return state.waiters.removeValue(forKey: longest)
    }
    waiter?.resume()
  }

  /// Wakes every waiting worker, and the next one about to wait.
  func wakeAll() {
    let waiters = state.withLock { state in
      state.generation &+= 1
      defer { state.waiters.removeAll() }
      return Array(state.waiters.values)
    }
    for waiter in waiters { waiter.resume() }
  }

  /// Returns at the first wake-up after `generation` `seen` (at once if one came already), after
  /// `timeout`, or when the task is cancelled.
  func wait(unlessRungSince seen: UInt64, timeout: Duration) async {
    await withTaskGroup(of: Void.self) { group in
      group.addTask { try? await Task.sleep(for: timeout) }
      group.addTask { await self.waitForWakeUp(since: seen) }
      await group.next()
      group.cancelAll()
    }
  }

  private func waitForWakeUp(since seen: UInt64) async {
    let id = state.withLock { state in
      state.nextWaiter += 1
      return state.nextWaiter
    }
    await withTaskCancellationHandler {
      await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
        // Cancelled before the continuation was stored: the handler below found nothing to resume.
        let resumeNow = state.withLock { state in
          guard state.generation == seen, !Task.isCancelled else { return true }
          state.waiters[id] = continuation
          return false
        }
        if resumeNow { continuation.resume() }
      }
    } onCancel: {
      state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
    }
  }
}
