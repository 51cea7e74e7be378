public import Logging

/// An error from PostgreSQL, libpq or the pool.
///
/// `description` is deliberately generic (the kind and SQLSTATE only), so that logging or
/// forwarding `"\(error)"` leaks no data: server messages and DETAIL lines quote row values, and
/// constraint names are internals. Logs take `logMetadata` (SQLSTATE, constraint, table, the
/// statement's text: names, never values). `String(reflecting: error)` has everything, the
/// server's message and DETAIL included: for a debugger, never for a log. Nothing here is ever meant for a client: callers map `kind` and `sqlState` to
/// their own errors (e.g. 23P01 on `bookings_no_overlap` means the dates are taken).
public struct PGError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
  /// What went wrong, coarsely. Callers usually switch on this, then on `sqlState`.
  public enum Kind: Sendable, Hashable {
    /// The server answered with an error; `sqlState` says which.
    case server
    /// The connection broke during the call, or none could be made: the database is unreachable
    /// for now (the pool reconnects with backoff). Map to UNAVAILABLE. A transaction that was
    /// running may or may not have committed, so it is never retried automatically.
    case connectionLost
    /// The awaiting task was cancelled before the statement reached the server. `sqlState` is
    /// `queryCanceled`, as for a statement the server cancelled mid-way (kind `.server`).
    case cancelled
    /// No pooled connection became free before the deadline.
    case poolTimeout
    /// The deadline had already passed when the statement was about to start.
    case deadlineExceeded
    /// The pool or the connection is closed (shutting down).
    case closed
    /// A bound value cannot be sent, e.g. a string containing NUL.
    case invalidParameter
    /// A column could not be read as the requested type.
    case decoding
    /// A libpq call failed in a way its documentation does not list, or the server answered
    /// with something we did not ask for.
    case unexpected
  }

  public var kind: Kind
  /// The SQLSTATE (PG_DIAG_SQLSTATE) of a server error, or `queryCanceled` for `.cancelled`.
  public var sqlState: SQLState?
  /// The constraint the error is about (PG_DIAG_CONSTRAINT_NAME), e.g. `bookings_no_overlap`.
  public var constraint: String?
  /// The primary message, from the server or from us. May quote data: never show it to clients.
  public var message: String
  /// DETAIL; for constraint violations it contains the conflicting key values.
  public var detail: String?
  public var hint: String?
  /// ERROR, FATAL or PANIC (non-localized).
  public var severity: String?
  public var schema: String?
  public var table: String?
  public var column: String?
  /// The start of the failing statement's SQL text (its values are bound parameters, never in
  /// the text).
  public var statement: String?

  public init(_ kind: Kind, _ message: String, sqlState: SQLState? = nil) {
    self.kind = kind
    self.message = message
    self.sqlState = sqlState
  }

  /// A serialization failure or deadlock: the transaction may succeed if run again.
  public var isRetryableTransactionFailure: Bool {
    kind == .server && (sqlState == .serializationFailure || sqlState == .deadlockDetected)
  }

  /// The database cannot be reached (lost or refused connection, or shutting down): UNAVAILABLE.
  public var isUnavailable: Bool { kind == .connectionLost || kind == .closed }

  public var description: String {
    var text = "PGError.\(kind)"
    if let sqlState { text += " (SQLSTATE \(sqlState))" }
    return text
  }

  /// What a log line may say about the error: no message, DETAIL or HINT (they quote values).
  public var logMetadata: Logger.Metadata {
    var metadata: Logger.Metadata = ["db.error": "\(kind)"]
    if let sqlState { metadata["db.sqlstate"] = "\(sqlState.code)" }
    if let constraint { metadata["db.constraint"] = "\(constraint)" }
    if let table { metadata["db.table"] = "\(table)" }
    if let column { metadata["db.column"] = "\(column)" }
    if let statement { metadata["db.statement"] = "\(statement)" }
    return metadata
  }

  /// The same error, naming the statement it came from.
  func from(_ sql: SQL) -> PGError {
    var error = self
    error.statement = sql.logSummary
    return error
  }

  public var debugDescription: String {
    var parts = ["kind: \(kind)"]
    if let sqlState {
      parts.append("sqlState: \(sqlState)" + (sqlState.name.map { " \($0)" } ?? ""))
    }
    if let severity { parts.append("severity: \(severity)") }
    parts.append("message: \(message)")
    if let detail { parts.append("detail: \(detail)") }
    if let hint { parts.append("hint: \(hint)") }
    if let constraint { parts.append("constraint: \(constraint)") }
    if let schema { parts.append("schema: \(schema)") }
    if let table { parts.append("table: \(table)") }
    if let column { parts.append("column: \(column)") }
    if let statement { parts.append("statement: \(statement)") }
    return "PGError(" + parts.joined(separator: ", ") + ")"
  }
}
