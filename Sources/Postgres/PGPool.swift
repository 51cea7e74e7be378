public import Logging
public import ServiceLifecycle
import Synchronization

/// A bounded pool of `PGConnection`s, leased to synchronous closures that run on the leased
/// connection's own thread (`withConnection`, `withTransaction`).
///
/// - Waiting: a caller waits for a free connection at most until its deadline (or
///   `Config.acquireTimeout`), then gets `.poolTimeout`.
/// - Deadlines: a lease's deadline becomes the session's `statement_timeout` (the time left), so
///   the server stops a statement that would outlive it (SQLSTATE 57014). The setting travels with
///   the lease's first statement, in the same round trip, and only when it changes; a lease
///   without a deadline gets the server's default. It bounds each statement, not the lease: a
///   lease of several statements can run past the deadline unless the caller is cancelled then
///   (as an RPC is), which cancels the statement running at that moment. Bodies must not change
///   `statement_timeout` at session level themselves (the pool would not know).
/// - Cancellation: cancelling the awaiting task cancels the running statement (`PQcancel`).
/// - Retries: `withTransaction` re-runs a transaction that hit a serialization failure or a
///   deadlock, a bounded number of times with jittered backoff.
/// - Loss: a connection found dead before use is dropped and replaced silently; one that breaks
///   during a call fails that call with `.connectionLost` and is dropped. While the database is
///   unreachable, one caller at a time tries to reconnect, with exponential backoff between
///   tries, and the others fail fast with `.connectionLost` (map it to UNAVAILABLE).
///
/// Connections are made on demand. A `Service`: `run()` waits for graceful shutdown, then closes
/// every connection (leased ones as they come back). The pool works before `run()` is called.
public final class PGPool: Service, Sendable {
  public let config: Config
  private let logger: Logger
  private let state = Mutex(State())

  private enum Handoff: Sendable {
    case connection(PGConnection)
    /// Capacity was freed (or the database's state changed): try again.
    case retry
  }

  private struct Waiter {
    var id: UInt64
    var continuation: CheckedContinuation<Handoff, any Error>
  }

  private struct State: ~Copyable {
    var idle: [PGConnection] = []
    /// Open or being opened; never above `maximumConnections`.
    var open = 0
    var leased = 0
    var waiters: [Waiter] = []
    var nextWaiterID: UInt64 = 0
    /// Waiters whose task was cancelled before they queued.
    var cancelledWaiters: Set<UInt64> = []
    var closed = false
    var consecutiveConnectFailures = 0
    var nextConnectAttempt: ContinuousClock.Instant?
    var reconnecting = false
    var closeWaiters: [CheckedContinuation<Void, Never>] = []
  }

  public init(config: Config, logger: Logger) {
    precondition(config.maximumConnections > 0, "PGPool needs at least one connection")
    self.config = config
    self.logger = logger
  }

  /// A snapshot of the pool's counters.
  public var statistics: Statistics {
    state.withLock { state in
      Statistics(
        open: state.open, idle: state.idle.count, leased: state.leased,
        waiting: state.waiters.count,
        isReachable: state.consecutiveConnectFailures == 0)
    }
  }

  // MARK: leases

  /// Runs `body` on a leased connection's thread and returns its result.
  ///
  /// With a `deadline`, the wait for a connection ends there (`.poolTimeout`), and the session's
  /// `statement_timeout` is the time left (without one, the server's default). The setting rides
  /// in the same round trip as `body`'s first statement, and only when it changes.
  /// A transaction `body` leaves open is rolled back before the connection goes back.
  @discardableResult
  public func withConnection<T: Sendable>(
    deadline: ContinuousClock.Instant? = nil,
    _ body: @escaping @Sendable (PGSession) throws -> T
  ) async throws -> T {
    try await lease(deadline: deadline) { core in try body(PGSession(core)) }
  }

  /// Runs `body` inside a transaction on a leased connection's thread: BEGIN (with the deadline's
  /// time left as `statement_timeout`, in the same round trip), `body`, COMMIT; ROLLBACK if
  /// `body` throws.
  ///
  /// A transaction that fails with a serialization failure (40001) or a deadlock (40P01), in
  /// `body` or at COMMIT, runs again (a new transaction, `body` called again) up to
  /// `Config.transactionRetries` times with jittered backoff, within the deadline. So `body` must
  /// have no effects outside the database, and must let those `PGError`s propagate.
  @discardableResult
  public func withTransaction<T: Sendable>(
    isolation: PGIsolation = .readCommitted,
    deadline: ContinuousClock.Instant? = nil,
    _ body: @escaping @Sendable (PGSession) throws -> T
  ) async throws -> T {
    var attempt = 0
    while true {
      attempt += 1
      do {
        return try await lease(deadline: deadline) { core in
          // A throw anywhere leaves the transaction to the lease's clean-up, which rolls it back.
          _ = try core.execute(isolation.beginStatement)
          let result = try body(PGSession(core))
          if core.transactionStatus == .inFailedTransaction {
            // `body` swallowed a statement's error: COMMIT would silently roll back.
            throw PGError(
              .server, "the transaction was aborted by an earlier statement's error",
              sqlState: .inFailedSQLTransaction)
          }
          _ = try core.execute("COMMIT")
          return result
        }
      } catch let error as PGError
        where error.isRetryableTransactionFailure && attempt <= config.transactionRetries
      {
        let delay = config.retryBackoff.delay(attempt: attempt)
        if let deadline, ContinuousClock.now + delay >= deadline { throw error }
        logger.debug(
          "retrying transaction",
          metadata: [
            "db.sqlstate": "\(error.sqlState?.code ?? "")", "db.attempt": "\(attempt + 1)",
          ])
        do {
          try await Task.sleep(for: delay)
        } catch {
          throw PGError(.cancelled, "cancelled while waiting to retry", sqlState: .queryCanceled)
        }
      }
    }
  }

  /// `statement_timeout` for the time left before `deadline`, in whole milliseconds (at least 1:
  /// 0 would mean no timeout). Throws `.deadlineExceeded` if no time is left.
  static func statementTimeout(until deadline: ContinuousClock.Instant) throws(PGError) -> Int64 {
    let left = deadline - ContinuousClock.now
    guard left > .zero else {
      throw PGError(.deadlineExceeded, "the deadline passed before the statement started")
    }
    return max(1, Int64((left.seconds * 1000).rounded(.up)))
  }

  private enum LeaseOutcome<T: Sendable>: Sendable {
    case done(T)
    /// The connection turned out dead before `job` ran: drop it, take another.
    case stale
  }

  /// Leases a connection, runs `job` on its thread, cleans up, and gives the connection back.
  private func lease<T: Sendable>(
    deadline: ContinuousClock.Instant?,
    _ job: @escaping @Sendable (PGConnectionCore) throws -> T
  ) async throws -> T {
    let acquireDeadline = deadline ?? ContinuousClock.now + config.acquireTimeout
    var staleConnections = 0
    while true {
      let connection = try await acquire(deadline: acquireDeadline)
      let outcome: Result<LeaseOutcome<T>, any Error>
      do {
        outcome = .success(
          try await connection.lease { core -> LeaseOutcome<T> in
            if core.isStale() { return .stale }
            core.wantedStatementTimeout =
              try deadline.map { .milliseconds(try Self.statementTimeout(until: $0)) }
              ?? .serverDefault
            defer { Self.cleanUp(core) }
            return .done(try job(core))
          })
      } catch {
        outcome = .failure(error)
      }
      await release(connection)
      switch outcome {
      case .success(.done(let value)):
        return value
      case .success(.stale):
        // Every idle connection may be dead (a database restart); each is dropped in turn, and
        // a fresh one is made. Bounded, in case fresh ones die at once too.
        staleConnections += 1
        logger.debug(
          "dropped a dead idle connection", metadata: ["db.backend_pid": "\(connection.backendPID)"]
        )
        if staleConnections > config.maximumConnections {
          throw PGError(.connectionLost, "every connection was closed by the server")
        }
      case .failure(let error):
        throw error
      }
    }
  }

  /// After a lease's job, on the connection's thread: no transaction may outlive the lease.
  private static func cleanUp(_ core: PGConnectionCore) {
    guard !core.isBroken else { return }
    switch core.transactionStatus {
    case .idle:
      break
    case .inTransaction, .inFailedTransaction:
      core.rollbackOrMarkBroken()
    case .active, .unknown:
      core.markBroken()
    }
  }

  // MARK: acquiring and releasing

  private enum AcquireAction {
    case use(PGConnection)
    case connect
    case wait
    case fail(PGError)
  }

  private func acquire(deadline: ContinuousClock.Instant) async throws -> PGConnection {
    while true {
      if Task.isCancelled {
        throw PGError(
          .cancelled, "cancelled while waiting for a connection", sqlState: .queryCanceled)
      }
      let now = ContinuousClock.now
      let maximum = config.maximumConnections
      let action = state.withLock { state -> AcquireAction in
        if state.closed { return .fail(PGError(.closed, "the pool is closed")) }
        if let connection = state.idle.popLast() {
          state.leased += 1
          return .use(connection)
        }
        if state.open < maximum {
          if state.consecutiveConnectFailures > 0 {
            // Unreachable: one caller at a time probes, after the backoff; the rest fail fast.
            if state.reconnecting || state.nextConnectAttempt.map({ now < $0 }) ?? false {
              return .fail(PGError(.connectionLost, "the database is unreachable; reconnecting"))
            }
            state.reconnecting = true
          }
          state.open += 1
          state.leased += 1
          return .connect
        }
        if now >= deadline {
          return .fail(PGError(.poolTimeout, "no connection became free before the deadline"))
        }
        return .wait
      }
      switch action {
      case .use(let connection):
        return connection
      case .fail(let error):
        throw error
      case .connect:
        return try await connect(deadline: deadline)
      case .wait:
        switch try await waitForConnection(until: deadline) {
        case .connection(let connection)?:
          return connection
        case .retry?:
          continue
        case nil:
          throw PGError(.poolTimeout, "no connection became free before the deadline")
        }
      }
    }
  }

  /// Opens a connection for a slot already counted in `open` and `leased`.
  private func connect(deadline: ContinuousClock.Instant) async throws -> PGConnection {
    let left = deadline - ContinuousClock.now
    let timeout = min(config.connection.connectTimeout, max(left, .seconds(1)))
    do {
      let connection = try await PGConnection.connect(
        options: config.connection, connectTimeout: timeout, logger: logger)
      let (recovered, closed) = state.withLock { state in
        defer {
          state.consecutiveConnectFailures = 0
          state.nextConnectAttempt = nil
          state.reconnecting = false
        }
        return (state.consecutiveConnectFailures > 0, state.closed)
      }
      if recovered { logger.notice("database reachable again") }
      if closed {
        await connection.close()
        settle(openDelta: -1, leasedDelta: -1)
        throw PGError(.closed, "the pool is closed")
      }
      return connection
    } catch let error as PGError where error.kind != .closed {
      let backoff = config.reconnectBackoff
      let (failures, waiters) = state.withLock { state in
        state.open -= 1
        state.leased -= 1
        state.consecutiveConnectFailures += 1
        state.reconnecting = false
        state.nextConnectAttempt =
          ContinuousClock.now + backoff.delay(attempt: state.consecutiveConnectFailures)
        // Everyone waiting re-evaluates: they fail fast until the database is back.
        defer { state.waiters.removeAll() }
        return (state.consecutiveConnectFailures, state.waiters)
      }
      for waiter in waiters { waiter.continuation.resume(returning: .retry) }
      let level: Logger.Level = failures == 1 ? .warning : .debug
      // libpq's message says why (refused, no such role, bad password) without the password.
      logger.log(
        level: level, "cannot connect to the database",
        metadata: ["db.error": "\(error.message)", "db.failures": "\(failures)"])
      var lost = error
      lost.kind = .connectionLost
      throw lost
    }
  }

  private enum WaitEvent: Sendable {
    case handoff(Handoff)
    case deadline
    case timerCancelled
  }

  /// Waits until a connection is handed over (or capacity frees up: `.retry`), or the deadline
  /// passes (nil).
  private func waitForConnection(until deadline: ContinuousClock.Instant) async throws -> Handoff? {
    let id = state.withLock { state in
      state.nextWaiterID += 1
      return state.nextWaiterID
    }
    defer { state.withLock { _ = $0.cancelledWaiters.remove(id) } }
    let results = await withThrowingTaskGroup(of: WaitEvent.self) { group in
      group.addTask { .handoff(try await self.queue(waiter: id)) }
      group.addTask {
        do {
          try await Task.sleep(until: deadline, clock: .continuous)
          return .deadline
        } catch {
          return .timerCancelled
        }
      }
      var results: [Result<WaitEvent, any Error>] = []
      while let result = await group.nextResult() {
        results.append(result)
        group.cancelAll()
      }
      return results
    }
    var wokenForRoom = false
    for result in results {
      switch result {
      case .success(.handoff(.connection(let connection))):
        // Handed over in the same instant as the deadline or a cancellation: it is ours now;
        // use it rather than leak it.
        return .connection(connection)
      case .success(.handoff(.retry)):
        wokenForRoom = true
      case .failure(let error as PGError):
        throw error
      default:
        break
      }
    }
    let timedOut = results.contains { if case .success(.deadline) = $0 { true } else { false } }
    if timedOut || Task.isCancelled {
      // Leaving: if we were woken to use freed room, wake the next waiter in our place.
      if wokenForRoom { passOnRoom() }
      return timedOut ? nil : .retry
    }
    return .retry
  }

  /// Wakes the first waiter if a connection could be opened for it.
  private func passOnRoom() {
    let maximum = config.maximumConnections
    let waiter = state.withLock { state -> Waiter? in
      guard !state.closed, state.open < maximum, !state.waiters.isEmpty else { return nil }
      return state.waiters.removeFirst()
    }
    waiter?.continuation.resume(returning: .retry)
  }

  private func queue(waiter id: UInt64) async throws -> Handoff {
    let maximum = config.maximumConnections
    return try await withTaskCancellationHandler {
      try await withCheckedThrowingContinuation {
        (continuation: CheckedContinuation<Handoff, any Error>) in
        let immediate = state.withLock { state -> Result<Handoff, any Error>? in
          if state.closed { return .failure(PGError(.closed, "the pool is closed")) }
          if state.cancelledWaiters.remove(id) != nil { return .failure(CancellationError()) }
          if let connection = state.idle.popLast() {
            state.leased += 1
            return .success(.connection(connection))
          }
          if state.open < maximum { return .success(.retry) }
          state.waiters.append(Waiter(id: id, continuation: continuation))
          return nil
        }
        if let immediate { continuation.resume(with: immediate) }
      }
    } onCancel: {
      let continuation = state.withLock { state -> CheckedContinuation<Handoff, any Error>? in
        if let index = state.waiters.firstIndex(where: { $0.id == id }) {
          return state.waiters.remove(at: index).continuation
        }
        state.cancelledWaiters.insert(id)
        return nil
      }
      continuation?.resume(throwing: CancellationError())
    }
  }

  /// Gives a leased connection back: to the first waiter, to the idle list, or (broken, or the
  /// pool closing) closed.
  private func release(_ connection: PGConnection) async {
    enum Decision {
      case handedOver(Waiter)
      case kept
      case close
    }
    let broken = connection.isBroken
    let decision = state.withLock { state -> Decision in
      if broken || state.closed { return .close }
      if !state.waiters.isEmpty { return .handedOver(state.waiters.removeFirst()) }
      state.leased -= 1
      state.idle.append(connection)
      return .kept
    }
    switch decision {
    case .handedOver(let waiter):
      waiter.continuation.resume(returning: .connection(connection))
    case .kept:
      break
    case .close:
      await connection.close()
      settle(openDelta: -1, leasedDelta: -1)
    }
  }

  /// Applies counter changes after a connection closed, then wakes whoever can use the room:
  /// the first waiter (to open a new one), or `close()` once nothing is open.
  private func settle(openDelta: Int, leasedDelta: Int) {
    let (waiter, closeWaiters) = state.withLock { state in
      state.open += openDelta
      state.leased += leasedDelta
      let waiter = !state.closed && !state.waiters.isEmpty ? state.waiters.removeFirst() : nil
      var closeWaiters: [CheckedContinuation<Void, Never>] = []
      if state.closed && state.open == 0 { swap(&closeWaiters, &state.closeWaiters) }
      return (waiter, closeWaiters)
    }
    waiter?.continuation.resume(returning: .retry)
    for closeWaiter in closeWaiters { closeWaiter.resume() }
  }

  // MARK: lifecycle

  /// Waits for graceful shutdown (or cancellation), then closes the pool.
  public func run() async throws {
    try? await gracefulShutdown()
    await close()
  }

  /// Refuses new leases, fails the waiting ones (`.closed`), closes idle connections, and returns
  /// once the leased ones have come back and been closed too.
  public func close() async {
    let (idle, waiters) = state.withLock { state in
      state.closed = true
      defer {
        state.idle.removeAll()
        state.waiters.removeAll()
      }
      return (state.idle, state.waiters)
    }
    for waiter in waiters {
      waiter.continuation.resume(throwing: PGError(.closed, "the pool is closed"))
    }
    for connection in idle {
      await connection.close()
      settle(openDelta: -1, leasedDelta: 0)
    }
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
      let done = state.withLock { state in
        if state.open == 0 { return true }
        state.closeWaiters.append(continuation)
        return false
      }
      if done { continuation.resume() }
    }
    logger.debug("database pool closed")
  }
}
