public import Logging
public import Postgres
public import RPCCore

/// How handlers reach the database: typed queries (`PGQuery`, built by the repositories) sent
/// through the pipelined client under the call's deadline (the wait for a connection and the
/// statement itself) and cancelled with it (a statement not yet sent is never sent; a running
/// one is cancelled on the server). Failures that are the database's, not the caller's, become
/// the statuses a gRPC client can act on.
///
/// ```swift
/// let property = try await database.run(context, PropertyRepository.find(id: id))
/// let (booking, _) = try await database.transaction(context, BookingRepository.insert(...), JobQueries.enqueue(...))
/// ```
public struct DatabaseAccess: Sendable {
  let client: PGClient
  let logger: Logger

  public init(client: PGClient, logger: Logger) {
    self.client = client
    self.logger = logger
  }

  /// Runs one statement and returns its decoded result. Throws the query's domain error for a
  /// constraint it maps (`PGQuery.onViolation(of:throw:)`), else an `RPCError`.
  public func run<T>(_ context: ServerContext, _ query: PGQuery<T>) async throws -> T {
    do {
      return try await client.run(query, deadline: context.deadline)
    } catch {
      throw query.mappedError(for: error) ?? rpcError(for: error, context: context)
    }
  }

  /// Runs the statements in one round trip, as one implicit transaction.
  public func run<each T>(
    _ context: ServerContext, _ queries: repeat PGQuery<each T>
  ) async throws -> (repeat each T) {
    do {
      return try await client.run(repeat each queries, deadline: context.deadline)
    } catch {
      throw mappedError(error, repeat each queries) ?? rpcError(for: error, context: context)
    }
  }

  /// Runs the statements between BEGIN and COMMIT in one round trip (retried on a serialization
  /// failure or a deadlock).
  public func transaction<each T>(
    _ context: ServerContext, isolation: PGIsolation = .readCommitted, _ queries: repeat PGQuery<each T>
  ) async throws -> (repeat each T) {
    do {
      return try await client.transaction(isolation: isolation, deadline: context.deadline, repeat each queries)
    } catch {
      throw mappedError(error, repeat each queries) ?? rpcError(for: error, context: context)
    }
  }

  /// Runs `body` in a transaction whose statements depend on each other's results (one round
  /// trip per `tx.run`; retried whole on a serialization failure or a deadlock). Errors `body`
  /// throws other than database ones pass through unchanged (domain errors).
  public func withTransaction<T: Sendable>(
    _ context: ServerContext, isolation: PGIsolation = .readCommitted,
    _ body: (DatabaseTransaction) async throws -> T
  ) async throws -> T {
    do {
      return try await client.withTransaction(isolation: isolation, deadline: context.deadline) { tx in
        try await body(DatabaseTransaction(transaction: tx))
      }
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
      // The transport cancels a call at its deadline too.
      return deadlinePassed
        ? RPCError(code: .deadlineExceeded, message: "deadline exceeded")
        : RPCError(code: .cancelled, message: "cancelled")
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

/// A transaction inside `DatabaseAccess.withTransaction`: its statements report the domain
/// errors their queries map, like `DatabaseAccess.run`.
public struct DatabaseTransaction: Sendable {
  let transaction: PGTransaction

  public func run<T>(_ query: PGQuery<T>) async throws -> T {
    do {
      return try await transaction.run(query)
    } catch {
      throw query.mappedError(for: error) ?? error
    }
  }

  public func run<each T>(_ queries: repeat PGQuery<each T>) async throws -> (repeat each T) {
    do {
      return try await transaction.run(repeat each queries)
    } catch {
      throw mappedError(error, repeat each queries) ?? error
    }
  }
}

/// The domain error the first of `queries` that maps `error`'s constraint stands for, if any.
private func mappedError<each T>(_ error: PGError, _ queries: repeat PGQuery<each T>) -> (any Error)? {
  for query in repeat each queries {
    if let mapped = query.mappedError(for: error) { return mapped }
  }
  return nil
}
