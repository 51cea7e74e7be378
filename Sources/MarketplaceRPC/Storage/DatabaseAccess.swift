public import Logging
public import Postgres
public import RPCCore

/// How handlers reach the database: a pooled connection for the call, bounded by the call's
/// deadline (waiting for a connection, and each statement through `statement_timeout`), and
/// cancelled with it (a cancelled call cancels its running statement with PQcancel). Failures
/// that are the database's, not the caller's, become the statuses a gRPC client can act on.
public struct DatabaseAccess: Sendable {
  let pool: PGPool
  let logger: Logger

  public init(pool: PGPool, logger: Logger) {
    self.pool = pool
    self.logger = logger
  }

  /// Runs `body` on a pooled connection, outside any transaction: for reads of one statement.
  public func read<T: Sendable>(
    _ context: ServerContext, _ body: @escaping @Sendable (PGSession) throws -> T
  ) async throws -> T {
    try await mappingErrors(context) { try await pool.withConnection(deadline: context.deadline, body) }
  }

  /// Runs `body` in a transaction (retried on serialization failure or deadlock).
  public func transaction<T: Sendable>(
    _ context: ServerContext, _ body: @escaping @Sendable (PGSession) throws -> T
  ) async throws -> T {
    try await mappingErrors(context) { try await pool.withTransaction(deadline: context.deadline, body) }
  }

  private func mappingErrors<T>(_ context: ServerContext, _ work: () async throws -> T) async throws -> T {
    do {
      return try await work()
    } catch let error as PGError {
      throw rpcError(for: error, context: context)
    }
  }

  /// The status for a database failure. Server messages are never forwarded nor logged (they
  /// quote data); errors a handler should have turned into a domain answer (a constraint, say)
  /// are INTERNAL, logged by SQLSTATE, constraint and statement.
  func rpcError(for error: PGError, context: ServerContext) -> RPCError {
    let deadlinePassed = context.deadline.map { ContinuousClock.now >= $0 } ?? false
    switch error.kind {
    case .connectionLost, .closed:
      return RPCError(code: .unavailable, message: "the database is unavailable; retry later")
    case .poolTimeout:
      return deadlinePassed
        ? RPCError(code: .deadlineExceeded, message: "deadline exceeded waiting for a database connection")
        : RPCError(code: .unavailable, message: "the database is busy; retry later")
    case .deadlineExceeded:
      return RPCError(code: .deadlineExceeded, message: "deadline exceeded")
    case .cancelled:
      return RPCError(code: .cancelled, message: "cancelled")
    case .server where error.sqlState == .queryCanceled:
      // Our statement_timeout (from the deadline), or the call's cancellation through PQcancel.
      return Task.isCancelled && !deadlinePassed
        ? RPCError(code: .cancelled, message: "cancelled")
        : RPCError(code: .deadlineExceeded, message: "deadline exceeded")
    case .server where error.isRetryableTransactionFailure:
      return RPCError(code: .aborted, message: "conflicting concurrent update; retry")
    case .server where error.sqlState.map(Self.isUnavailable) == true:
      return RPCError(code: .unavailable, message: "the database is unavailable; retry later")
    case .server, .invalidParameter, .decoding, .unexpected:
      var metadata = error.logMetadata
      metadata["rpc.method"] = "\(context.method)"
      logger.error("database error", metadata: metadata)
      return RPCError(code: .internal, message: "internal error")
    }
  }

  /// Connection exceptions (08), insufficient resources (53), operator intervention (57: admin
  /// shutdown, crash recovery, cannot connect now): the server, not the request.
  static func isUnavailable(_ state: SQLState) -> Bool {
    state.errorClass == "08" || state.errorClass == "53" || state.code.hasPrefix("57P")
  }
}
