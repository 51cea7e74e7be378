/// A notice the server sent during a statement (severity NOTICE, WARNING, INFO, LOG, DEBUG),
/// as opposed to an error, which fails the statement.
public struct PGNotice: Sendable, Equatable {
  /// PG_DIAG_SEVERITY_NONLOCALIZED, e.g. "NOTICE".
  public var severity: String
  /// PG_DIAG_SQLSTATE, e.g. "00000".
  public var sqlState: String?
  /// The primary message.
  public var message: String

  public init(severity: String, sqlState: String?, message: String) {
    self.severity = severity
    self.sqlState = sqlState
    self.message = message
  }
}
