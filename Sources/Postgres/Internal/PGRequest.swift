import Synchronization

/// One unit of work for the pipelined engine: statements sent together and answered together
/// (one pipeline segment, ending in a Sync), or the grant of a connection for an interactive
/// transaction. Completed exactly once: by its results, its failure, its deadline, or its
/// caller's cancellation, whichever comes first.
final class PGRequest: Sendable {
  enum Work: Sendable {
    /// Statements in one segment, framed by `frame`.
    case statements([SQL], frame: Frame)
    /// A connection of its own for `lease`, granted when it has nothing else in flight.
    case lease(PGLease)
  }

  /// What surrounds a segment's statements.
  enum Frame: Sendable {
    /// Nothing: the segment is one implicit transaction.
    case none
    /// BEGIN before, COMMIT after: one transaction in one round trip.
    case transaction(PGIsolation)
    /// BEGIN before: the first statements of a lease's transaction, which stays open.
    case begin(PGIsolation)
    /// The lease's last statement (COMMIT, ROLLBACK, or nothing): the connection is free after.
    case endsLease
  }

  let work: Work
  let deadline: ContinuousClock.Instant?
  /// Set for statements that must run on a lease's connection (inside its transaction).
  let lease: PGLease?
  /// The `statement_timeout` the statements run under, from the deadline.
  let timeout: StatementTimeout
  /// The caller's executor (an RPC's event loop), when its task has one: the engine hands its
  /// results over in batches, one hop per executor per turn, rather than waking it per request.
  let executor: (any TaskExecutor)?
  private let onCompletion: @Sendable (Result<[PGResult], PGError>) -> Void
  private let completed = Atomic<Bool>(false)

  init(
    _ work: Work, deadline: ContinuousClock.Instant?, lease: PGLease? = nil, executor: (any TaskExecutor)? = nil,
    onCompletion: @escaping @Sendable (Result<[PGResult], PGError>) -> Void
  ) {
    self.work = work
    self.deadline = deadline
    self.lease = lease
    self.executor = executor
    self.timeout = deadline.map(StatementTimeout.bounding) ?? .serverDefault
    self.onCompletion = onCompletion
  }

  /// Whether the request was answered (or given up) already: its statements need not run.
  var isCompleted: Bool { completed.load(ordering: .acquiring) }

  /// Delivers the outcome, unless one was delivered already. True if this call delivered it.
  @discardableResult
  func complete(_ outcome: Result<[PGResult], PGError>) -> Bool {
    guard completed.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged
    else { return false }
    onCompletion(outcome)
    return true
  }
}

/// A connection held by one interactive transaction (`PGClient.withTransaction`), from its grant
/// to its COMMIT or ROLLBACK. The engine's thread alone reads and writes `connectionID`.
final class PGLease: @unchecked Sendable {  // connectionID: the engine's thread only
  /// The connection granted; nil until then, and again once it broke or was released.
  var connectionID: Int?
}

extension StatementTimeout {
  /// A `statement_timeout` at least the time left before `deadline`, rounded up to one of a few
  /// steps, so that calls with similar deadlines share the session's setting rather than change
  /// it per call (each change is a statement). The call itself is cancelled at its deadline; this
  /// bounds what the server does if that cancel is lost.
  static func bounding(_ deadline: ContinuousClock.Instant) -> StatementTimeout {
    let left = deadline - .now
    let milliseconds = max(1, Int64((left.seconds * 1000).rounded(.up)))
    let steps: [Int64] = [
      50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 30_000, 60_000, 120_000, 300_000, 600_000,
      1_800_000, 3_600_000,
    ]
    return .milliseconds(steps.first { $0 >= milliseconds } ?? milliseconds)
  }
}
