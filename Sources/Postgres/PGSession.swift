/// The statements of one leased connection, for the synchronous closure that holds the lease
/// (`PGPool.withConnection`, `PGPool.withTransaction`, `PGConnection.withSession`).
///
/// Every call blocks the connection's own thread (never an event loop or the cooperative pool)
/// and is a prepared statement with bound parameters: prepared on the connection's first use
/// of that SQL text, then reused.
///
/// - Important: valid only inside the closure it was passed to, on that thread; not Sendable.
public struct PGSession {
  let core: PGConnectionCore

  init(_ core: PGConnectionCore) {
    self.core = core
  }

  /// Runs `sql` and returns its rows.
  @discardableResult
  public func query(_ sql: SQL) throws(PGError) -> PGResult {
    try core.execute(sql)
  }

  /// Runs `sql` and returns how many rows it inserted, updated or deleted.
  @discardableResult
  public func execute(_ sql: SQL) throws(PGError) -> Int {
    try core.execute(sql).rowsAffected
  }

  /// Sends all `statements` in one round trip (libpq pipeline mode) and returns their results in
  /// order. Outside a transaction they form one implicit transaction: if one fails, the ones
  /// before it are rolled back, the rest are skipped, and its error is thrown.
  public func pipeline(_ statements: [SQL]) throws(PGError) -> [PGResult] {
    try core.pipeline(statements)
  }

  /// Runs a script of several statements through the simple query protocol (not prepared, no
  /// parameters): for SQL shipped with the program, such as migrations. Statements in it run
  /// in one implicit transaction unless the script or the caller opened one.
  public func executeScript(_ script: SQL) throws(PGError) {
    guard script.bindings.count == 0 else {
      throw PGError(.invalidParameter, "a script cannot have bound parameters")
    }
    try core.executeScript(script.text)
  }

  /// Runs `body` and returns, with its result, the notices the server sent meanwhile (NOTICE,
  /// WARNING, INFO: e.g. `RAISE NOTICE`, or plans from `auto_explain.log_level = notice`),
  /// instead of logging them.
  /// Nested, the inner call's notices reach the outer one too.
  public func capturingNotices<T>(_ body: () throws(PGError) -> T) throws(PGError) -> (T, [PGNotice]) {
    let outer = core.capturedNotices
    core.capturedNotices = []
    defer {
      if let outer { core.capturedNotices = outer + (core.capturedNotices ?? []) } else { core.capturedNotices = nil }
    }
    let result = try body()
    return (result, core.capturedNotices ?? [])
  }

  /// The process id of the server backend serving this connection (`pg_backend_pid()`).
  public var backendPID: Int32 { core.backendPID }

  /// Whether a transaction is open (or failed and awaiting ROLLBACK).
  public var isInTransaction: Bool {
    switch core.transactionStatus {
    case .inTransaction, .inFailedTransaction, .active: true
    case .idle, .unknown: false
    }
  }
}

@available(*, unavailable)
extension PGSession: Sendable {}
