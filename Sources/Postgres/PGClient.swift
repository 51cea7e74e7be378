public import Logging
public import ServiceLifecycle
import Synchronization

/// The database as the request path uses it: typed queries (`PGQuery`) sent over a few libpq
/// connections in pipeline mode by one I/O thread, never blocking the caller's thread.
///
/// - `run(query)` sends one statement; `run(q1, q2, ...)` several in one round trip, as one
///   implicit transaction; `transaction(q1, q2, ...)` the same between BEGIN and COMMIT, with an
///   isolation level. Statements of many callers share each connection's pipeline: what arrives
///   while the I/O thread works leaves in one write, results come back in one wake-up, and each
///   caller resumes on its own executor (an RPC's event loop) with its decoded result.
/// - `withTransaction { tx in ... }` holds a connection for a transaction whose statements depend
///   on each other's results: one round trip per `tx.run`, no thread hop of the caller.
/// - Fair waiting: calls wait for a connection in arrival order. A deadline ends the wait, or the
///   statement, at that instant (`.deadlineExceeded`); a cancelled task leaves at once
///   (`.cancelled`), and a statement not yet sent is never sent. Deadlines also become the
///   session's `statement_timeout` (rounded up to a few steps, so similar calls share it).
/// - Retries: a transaction that hits a serialization failure (40001) or a deadlock (40P01) runs
///   again, up to `Config.transactionRetries` times with jittered backoff, within its deadline.
/// - Loss: requests on a connection that breaks fail with `.connectionLost`; while no connection
///   can be made, calls fail fast with `.connectionLost` and one attempt per backoff step is made.
/// - Notifications: `notifications(on:)` delivers LISTEN/NOTIFY on a connection of its own, and
///   says when it lost it (notifications may have been missed) and when it listens again.
///
/// A `Service`: `run()` waits for graceful shutdown, then closes.
public final class PGClient: Service, Sendable {
  public let config: Config
  private let engine: PGEngine
  private let nextSubscriber = Atomic<Int>(0)

  public init(config: Config, logger: Logger) throws(PGError) {
    precondition(config.maximumConnections > 0 && config.pipelineDepth > 0, "PGClient needs a connection")
    self.config = config
    self.engine = try PGEngine(config: config, logger: logger)
  }

  deinit { engine.stop() }

  /// A snapshot of the client's connections and queue.
  public var statistics: Statistics { engine.statistics }

  // MARK: Statements

  /// Runs `query` and returns its decoded result.
  public func run<T>(_ query: PGQuery<T>, deadline: ContinuousClock.Instant? = nil) async throws(PGError) -> T {
    try await retryingCancelledByOthers(deadline: deadline) { () async throws(PGError) -> T in
      try await perform(.statements([query.sql], frame: .none), deadline: deadline) { results throws(PGError) in
        try query.decode(results[0])
      }
    }
  }

  /// Runs the queries in one round trip as one implicit transaction (a failure rolls back those
  /// before it and skips the rest) and returns their decoded results.
  public func run<each T>(
    _ queries: repeat PGQuery<each T>, deadline: ContinuousClock.Instant? = nil
  ) async throws(PGError) -> (repeat each T) {
    let results = try await statements(repeat each queries, frame: .none, deadline: deadline)
    var index = 0
    return (repeat try decodeNext(each queries, results, &index))
  }

  /// Runs the queries between BEGIN (at `isolation`) and COMMIT, all in one round trip, and
  /// returns their decoded results; the whole transaction runs again on a serialization failure
  /// or a deadlock. For statements that do not depend on each other's results.
  public func transaction<each T>(
    isolation: PGIsolation = .readCommitted, deadline: ContinuousClock.Instant? = nil,
    _ queries: repeat PGQuery<each T>
  ) async throws(PGError) -> (repeat each T) {
    let results: [PGResult]
    do {
      results = try await retryingTransaction(deadline: deadline) { () async throws(PGError) in
        try await statements(repeat each queries, frame: .transaction(isolation), deadline: deadline)
      }
    } catch let error as PGError {
      throw error
    } catch {
      preconditionFailure("only PGErrors come from statements")
    }
    var index = 0
    return (repeat try decodeNext(each queries, results, &index))
  }

  /// Runs `body` in a transaction on a connection held for it: each `tx.run` is one round trip,
  /// so `body` may branch on results. COMMIT when `body` returns, ROLLBACK when it throws; the
  /// whole body runs again on a serialization failure or a deadlock, so it must have no effects
  /// outside the database and let those errors through.
  public func withTransaction<T: Sendable>(
    isolation: PGIsolation = .readCommitted, deadline: ContinuousClock.Instant? = nil,
    _ body: (PGTransaction) async throws -> T
  ) async throws -> T {
    try await retryingTransaction(deadline: deadline) { () async throws in
      let lease = PGLease()
      try await perform(.lease(lease), deadline: deadline) { _ throws(PGError) in () }
      let transaction = PGTransaction(client: self, lease: lease, isolation: isolation, deadline: deadline)
      do {
        let value = try await body(transaction)
        try await transaction.end(commit: true)
        return value
      } catch {
        try? await transaction.end(commit: false)
        throw error
      }
    }
  }

  // MARK: Notifications

  /// Notifications on `channel`: `.listening` once LISTEN is in place (from then on nothing is
  /// missed), each `.notification`, and `.connectionLost` / `.resumedAfterGap` around a loss of the
  /// listener's connection (flush what the notifications keep fresh). Ends when the client closes
  /// or the stream is dropped.
  public func notifications(on channel: String) -> AsyncStream<PGNotification> {
    let id = nextSubscriber.add(1, ordering: .relaxed).newValue
    // Unbounded: a notification dropped here would be one missed with no gap reported, and a
    // listener that keeps a cache fresh must see every one or be told.
    let (stream, continuation) = AsyncStream<PGNotification>.makeStream(bufferingPolicy: .unbounded)
    engine.subscribers.withLock { $0[channel, default: [:]][id] = continuation }
    continuation.onTermination = { [engine] _ in
      engine.subscribers.withLock { subscribers in
        subscribers[channel]?[id] = nil
        if subscribers[channel]?.isEmpty == true { subscribers[channel] = nil }
      }
    }
    engine.channelsChanged()
    return stream
  }

  // MARK: Lifecycle

  /// Waits for graceful shutdown (or cancellation), then closes.
  public func run() async throws {
    try? await gracefulShutdown()
    close()
  }

  /// Fails what waits and runs (`.closed`), closes every connection and ends the I/O thread.
  public func close() {
    engine.stop()
    engine.subscribers.withLock { subscribers in
      for continuation in subscribers.values.flatMap(\.values) { continuation.finish() }
    }
  }

  // MARK: Internals

  func statements<each T>(
    _ queries: repeat PGQuery<each T>, frame: PGRequest.Frame, deadline: ContinuousClock.Instant?
  ) async throws(PGError) -> [PGResult] {
    var sql: [SQL] = []
    repeat sql.append((each queries).sql)
    let statements = sql
    return try await retryingCancelledByOthers(deadline: deadline) { () async throws(PGError) in
      try await perform(.statements(statements, frame: frame), deadline: deadline) { $0 }
    }
  }

  /// Sends `work` and awaits its outcome, transformed by `finish` on the I/O thread. Cancelling
  /// the task completes the request at once (`.cancelled`) and tells the engine.
  func perform<T: Sendable>(
    _ work: PGRequest.Work, deadline: ContinuousClock.Instant?, lease: PGLease? = nil,
    cancellable: Bool = true, finish: @escaping @Sendable ([PGResult]) throws(PGError) -> T
  ) async throws(PGError) -> T {
    let slot = PGCompletionSlot<T>()
    let executor = withUnsafeCurrentTask { $0?.unownedTaskExecutor?.asTaskExecutor() }
    let request = PGRequest(work, deadline: deadline, lease: lease, executor: executor) { outcome in
      slot.fulfill(outcome.flatMap { results in Result { () throws(PGError) in try finish(results) } })
    }
    let engine = engine
    let outcome = await withTaskCancellationHandler {
      await slot.wait { engine.submit(request) }
    } onCancel: {
      guard cancellable else { return }
      if request.complete(.failure(PGError(.cancelled, "cancelled", sqlState: .queryCanceled))) {
        engine.cancel(request)
      }
    }
    return try outcome.get()
  }

  /// Runs `attempt` again (twice at most) when its statement was cancelled although neither its
  /// caller nor its deadline asked: a PQcancel meant for the statement before it in the pipeline
  /// can land on it.
  private func retryingCancelledByOthers<T>(
    deadline: ContinuousClock.Instant?, _ attempt: () async throws(PGError) -> T
  ) async throws(PGError) -> T {
    var tries = 0
    while true {
      do {
        return try await attempt()
      } catch let error
        where error.kind == .server && error.sqlState == .queryCanceled && tries < 2
        && !Task.isCancelled && deadline.map({ ContinuousClock.now < $0 }) ?? true
      {
        tries += 1
      }
    }
  }

  /// Runs `attempt` again on a serialization failure or a deadlock, with backoff, within the
  /// deadline. Other errors pass through as they are.
  private func retryingTransaction<T>(
    deadline: ContinuousClock.Instant?, _ attempt: () async throws -> T
  ) async throws -> T {
    var attempts = 0
    while true {
      attempts += 1
      do {
        return try await attempt()
      } catch let error as PGError where error.isRetryableTransactionFailure && attempts <= config.transactionRetries {
        let delay = config.retryBackoff.delay(attempt: attempts)
        if let deadline, ContinuousClock.now + delay >= deadline { throw error }
        do {
          try await Task.sleep(for: delay)
        } catch {
          throw PGError(.cancelled, "cancelled while waiting to retry", sqlState: .queryCanceled)
        }
      }
    }
  }
}

/// A transaction on a connection held for it, inside `PGClient.withTransaction`.
///
/// - Important: valid only inside the closure it was passed to.
public final class PGTransaction: Sendable {
  private let client: PGClient
  private let lease: PGLease
  private let isolation: PGIsolation
  private let deadline: ContinuousClock.Instant?
  private let state = Mutex((began: false, ended: false))

  init(client: PGClient, lease: PGLease, isolation: PGIsolation, deadline: ContinuousClock.Instant?) {
    self.client = client
    self.lease = lease
    self.isolation = isolation
    self.deadline = deadline
  }

  /// Runs `query` in the transaction (one round trip) and returns its decoded result.
  public func run<T>(_ query: PGQuery<T>) async throws(PGError) -> T {
    let results = try await send([query.sql])
    guard let result = results.first else { throw PGError(.unexpected, "the statement returned no result") }
    return try query.decode(result)
  }

  /// Runs the queries in the transaction in one round trip and returns their decoded results.
  public func run<each T>(_ queries: repeat PGQuery<each T>) async throws(PGError) -> (repeat each T) {
    var sql: [SQL] = []
    repeat sql.append((each queries).sql)
    let results = try await send(sql)
    var index = 0
    return (repeat try decodeNext(each queries, results, &index))
  }

  /// Sends `sql` on the held connection (after BEGIN, the first time) and awaits the results.
  private func send(_ sql: [SQL]) async throws(PGError) -> [PGResult] {
    let (ended, first) = state.withLock { state in
      defer { state.began = true }
      return (state.ended, !state.began)
    }
    guard !ended else { throw PGError(.closed, "the transaction is over") }
    let work = PGRequest.Work.statements(sql, frame: first ? .begin(isolation) : .none)
    return try await client.perform(work, deadline: deadline, lease: lease) { $0 }
  }

  /// COMMIT or ROLLBACK (nothing if no statement ran), and the connection goes back. Not
  /// cancellable, and not bounded by the deadline: a connection is never left mid-transaction.
  func end(commit: Bool) async throws(PGError) {
    let began = state.withLock { state in
      defer { state.ended = true }
      return state.ended ? nil : state.began
    }
    guard let began else { return }
    let statements: [SQL] = began ? [commit ? "COMMIT" : "ROLLBACK"] : []
    _ = try await client.perform(
      .statements(statements, frame: .endsLease), deadline: nil, lease: lease, cancellable: false
    ) { $0 }
  }
}

/// What `PGClient.notifications(on:)` delivers.
public enum PGNotification: Sendable, Hashable {
  /// LISTEN is in place: every notification from now on is delivered.
  case listening
  /// A NOTIFY on the channel, with its payload.
  case notification(channel: String, payload: String)
  /// The listener's connection was lost: notifications are missed until `.resumedAfterGap`.
  case connectionLost
  /// Listening again after a loss: notifications sent meanwhile may have been missed.
  case resumedAfterGap
}

/// One awaited outcome, delivered once from any thread, possibly before the waiter arrives.
///
/// An unchecked continuation: the state below resumes it exactly once, and the checked kind costs
/// an allocation (its canary) per database call.
final class PGCompletionSlot<T: Sendable>: Sendable {
  private enum State {
    case empty
    case waiting(UnsafeContinuation<Result<T, PGError>, Never>)
    case done(Result<T, PGError>)
  }

  private let state = Mutex(State.empty)

  /// Suspends until `fulfill`; `start` runs once the waiter is in place.
  func wait(then start: () -> Void) async -> Result<T, PGError> {
    await withUnsafeContinuation { continuation in
      let early = state.withLock { state -> Result<T, PGError>? in
        if case .done(let outcome) = state { return outcome }
        state = .waiting(continuation)
        return nil
      }
      if let early { return continuation.resume(returning: early) }
      start()
    }
  }

  func fulfill(_ outcome: Result<T, PGError>) {
    let waiter = state.withLock { state -> UnsafeContinuation<Result<T, PGError>, Never>? in
      switch state {
      case .waiting(let continuation):
        state = .done(outcome)
        return continuation
      case .empty:
        state = .done(outcome)
        return nil
      case .done:
        return nil
      }
    }
    waiter?.resume(returning: outcome)
  }
}

/// `query`'s result, the `index`-th of `results`; moves `index` to the next.
private func decodeNext<T>(_ query: PGQuery<T>, _ results: [PGResult], _ index: inout Int) throws(PGError) -> T {
  defer { index += 1 }
  guard index < results.count else { throw PGError(.unexpected, "a statement returned no result") }
  return try query.decode(results[index])
}
