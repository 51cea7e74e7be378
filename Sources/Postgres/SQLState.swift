/// A PostgreSQL SQLSTATE error code, e.g. `23P01` (exclusion_violation).
///
/// Compare against the named constants (`error.sqlState == .exclusionViolation`) rather than
/// parsing messages. The list is the subset this project maps or tests; any other code still
/// round-trips through `code`. See https://www.postgresql.org/docs/15/errcodes-appendix.html
public struct SQLState: Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
  /// The five-character code.
  public let code: String

  public init(_ code: String) { self.code = code }
  public init(stringLiteral code: String) { self.code = code }

  /// The class: the first two characters (`23` integrity constraint violation, `40` transaction
  /// rollback, `57` operator intervention, `08` connection exception, ...).
  public var errorClass: Substring { code.prefix(2) }

  public var description: String { code }

  // Class 08: connection exception.
  public static let connectionException: Self = "08000"
  public static let connectionFailure: Self = "08006"
  // Class 22: data exception.
  public static let stringDataRightTruncation: Self = "22001"
  public static let numericValueOutOfRange: Self = "22003"
  public static let datetimeFieldOverflow: Self = "22008"
  public static let divisionByZero: Self = "22012"
  public static let invalidParameterValue: Self = "22023"
  public static let invalidTextRepresentation: Self = "22P02"
  // Class 23: integrity constraint violation.
  public static let notNullViolation: Self = "23502"
  public static let foreignKeyViolation: Self = "23503"
  public static let uniqueViolation: Self = "23505"
  public static let checkViolation: Self = "23514"
  public static let exclusionViolation: Self = "23P01"
  // Class 25: invalid transaction state.
  public static let readOnlySQLTransaction: Self = "25006"
  public static let inFailedSQLTransaction: Self = "25P02"
  // Class 40: transaction rollback.
  public static let serializationFailure: Self = "40001"
  public static let deadlockDetected: Self = "40P01"
  // Class 42: syntax error or access rule violation.
  public static let syntaxError: Self = "42601"
  public static let insufficientPrivilege: Self = "42501"
  public static let undefinedTable: Self = "42P01"
  public static let undefinedObject: Self = "42704"
  public static let duplicateDatabase: Self = "42P04"
  // Class 53: insufficient resources.
  public static let tooManyConnections: Self = "53300"
  // Class 55: object not in prerequisite state.
  public static let lockNotAvailable: Self = "55P03"
  // Class 57: operator intervention.
  public static let queryCanceled: Self = "57014"
  public static let adminShutdown: Self = "57P01"
  public static let crashShutdown: Self = "57P02"
  public static let cannotConnectNow: Self = "57P03"

  /// The condition name PostgreSQL gives the code, for the named constants above.
  public var name: String? {
    switch code {
    case "08000": "connection_exception"
    case "08006": "connection_failure"
    case "22001": "string_data_right_truncation"
    case "22003": "numeric_value_out_of_range"
    case "22008": "datetime_field_overflow"
    case "22012": "division_by_zero"
    case "22023": "invalid_parameter_value"
    case "22P02": "invalid_text_representation"
    case "23502": "not_null_violation"
    case "23503": "foreign_key_violation"
    case "23505": "unique_violation"
    case "23514": "check_violation"
    case "23P01": "exclusion_violation"
    case "25006": "read_only_sql_transaction"
    case "25P02": "in_failed_sql_transaction"
    case "40001": "serialization_failure"
    case "40P01": "deadlock_detected"
    case "42601": "syntax_error"
    case "42501": "insufficient_privilege"
    case "42P01": "undefined_table"
    case "42704": "undefined_object"
    case "42P04": "duplicate_database"
    case "53300": "too_many_connections"
    case "55P03": "lock_not_available"
    case "57014": "query_canceled"
    case "57P01": "admin_shutdown"
    case "57P02": "crash_shutdown"
    case "57P03": "cannot_connect_now"
    default: nil
    }
  }
}
