import Glibc
import Synchronization

/// One OS thread that runs submitted closures one after another, in submission order.
///
/// libpq blocks, so each `PGConnection` owns one of these and every libpq call on its `PGconn`
/// runs here: never on an event loop or Swift's cooperative pool. Async callers submit a closure
/// and await one continuation (`run`).
///
/// - Important: call `stop()` when done; the thread exits once the queued closures have run.
final class PGThread: Sendable {
  private struct Queue: Sendable {
    var jobs: [@Sendable () -> Void] = []
    var head = 0
    var stopping = false
  }

  private let queue = PGConditionVariable(Queue())
  private let thread = Mutex<pthread_t?>(nil)

  /// Starts the thread.
  init() throws(PGError) {
    // The running thread holds this object until it exits (after `stop()`).
    try Self.detach { [self] in
      thread.withLock { $0 = pthread_self() }
      Self.loop(queue)
    }
  }

  private static func loop(_ queue: PGConditionVariable<Queue>) {
    while true {
      let job: (@Sendable () -> Void)? = queue.withLock(
        waitingUntil: { $0.head < $0.jobs.count || $0.stopping },
        body: { queue in
          guard queue.head < queue.jobs.count else { return nil }
          let job = queue.jobs[queue.head]
          queue.head += 1
          if queue.head == queue.jobs.count {
            queue.jobs.removeAll(keepingCapacity: true)
            queue.head = 0
          }
          return job
        })
      guard let job else { return }  // stopping, and nothing left to run
      job()
    }
  }

  /// Queues `job`; false once `stop()` was called (the job will not run).
  @discardableResult
  func submit(_ job: @escaping @Sendable () -> Void) -> Bool {
    queue.withLock { queue in
      guard !queue.stopping else { return false }
      queue.jobs.append(job)
      return true
    }
  }

  /// Runs `body` on this thread and returns its result to the awaiting caller.
  func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
      let accepted = submit {
        continuation.resume(with: Result { try body() })
      }
      if !accepted { continuation.resume(throwing: PGError(.closed, "the connection is closed")) }
    }
  }

  /// Lets the queued jobs run, then ends the thread. Later submissions are refused.
  func stop() {
    queue.withLock { $0.stopping = true }
  }

  /// Whether the caller runs on this thread.
  var isCurrent: Bool {
    thread.withLock { thread in thread.map { pthread_equal($0, pthread_self()) != 0 } ?? false }
  }

  // MARK: one-off threads

  private final class Box {
    let body: @Sendable () -> Void
    init(_ body: @escaping @Sendable () -> Void) { self.body = body }
  }

  /// Runs `body` on a new detached thread (for blocking one-offs: PQcancel, waiting for a child
  /// process). Throws if the system refuses another thread.
  static func detach(_ body: @escaping @Sendable () -> Void) throws(PGError) {
    // Retained here, released by the new thread (or below if it never starts).
    let box = Unmanaged.passRetained(Box(body)).toOpaque()
    var attributes = pthread_attr_t()
    pthread_attr_init(&attributes)
    defer { pthread_attr_destroy(&attributes) }
    pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
    var id = pthread_t()
    let rc = pthread_create(
      &id, &attributes,
      { argument in
        Unmanaged<Box>.fromOpaque(argument!).takeRetainedValue().body()
        return nil
      }, box)
    guard rc == 0 else {
      Unmanaged<Box>.fromOpaque(box).release()
      throw PGError(.unexpected, "pthread_create failed (\(rc))")
    }
  }

  /// Runs `body` on a new thread and returns its result to the awaiting caller.
  static func runDetached<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
      do {
        try detach { continuation.resume(with: Result { try body() }) }
      } catch {
        continuation.resume(throwing: error)
      }
    }
  }
}
