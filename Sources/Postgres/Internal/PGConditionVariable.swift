import Glibc

/// State guarded by a pthread mutex, plus a condition variable to block a thread until the state
/// says so. Only for the threads this target owns (connection threads, cancel senders, process
/// waiters): never block an event loop or the cooperative pool on it. Short critical sections
/// that never wait use `Synchronization.Mutex` instead.
final class PGConditionVariable<State> {
  private let mutex: UnsafeMutablePointer<pthread_mutex_t>
  private let condition: UnsafeMutablePointer<pthread_cond_t>
  // Guarded by `mutex`.
  private var state: State

  init(_ state: State) {
    self.state = state
    mutex = .allocate(capacity: 1)
    condition = .allocate(capacity: 1)
    let mutexRC = pthread_mutex_init(mutex, nil)
    let conditionRC = pthread_cond_init(condition, nil)
    // Both only fail for lack of memory or with bad attributes (we pass none).
    precondition(
      mutexRC == 0 && conditionRC == 0, "pthread init failed (\(mutexRC), \(conditionRC))")
  }

  deinit {
    pthread_cond_destroy(condition)
    pthread_mutex_destroy(mutex)
    condition.deallocate()
    mutex.deallocate()
  }

  /// Runs `body` with the lock held and wakes every waiter afterwards.
  func withLock<R>(_ body: (inout State) throws -> R) rethrows -> R {
    pthread_mutex_lock(mutex)
    defer {
      pthread_cond_broadcast(condition)
      pthread_mutex_unlock(mutex)
    }
    return try body(&state)
  }

  /// Blocks the calling thread until `ready` holds, then runs `body` with the lock held (and
  /// wakes every waiter afterwards).
  func withLock<R>(waitingUntil ready: (State) -> Bool, body: (inout State) throws -> R) rethrows
    -> R
  {
    pthread_mutex_lock(mutex)
    defer {
      pthread_cond_broadcast(condition)
      pthread_mutex_unlock(mutex)
    }
    while !ready(state) {
      pthread_cond_wait(condition, mutex)
    }
    return try body(&state)
  }
}

// Safe because every access to `state` holds `mutex`, and State itself is Sendable.
extension PGConditionVariable: @unchecked Sendable where State: Sendable {}
