import Postgres
import Testing

@Suite("errors, SQLSTATEs and backoff (no server)")
struct PGErrorTests {
  @Test(
    "named SQLSTATEs have PostgreSQL's codes",
    arguments: [
      (SQLState.uniqueViolation, "23505", "unique_violation"),
      (.exclusionViolation, "23P01", "exclusion_violation"),
      (.foreignKeyViolation, "23503", "foreign_key_violation"),
      (.checkViolation, "23514", "check_violation"),
      (.notNullViolation, "23502", "not_null_violation"),
      (.serializationFailure, "40001", "serialization_failure"),
      (.deadlockDetected, "40P01", "deadlock_detected"),
      (.queryCanceled, "57014", "query_canceled"),
      (.adminShutdown, "57P01", "admin_shutdown"),
      (.inFailedSQLTransaction, "25P02", "in_failed_sql_transaction"),
    ])
  func sqlStates(state: SQLState, code: String, name: String) {
    #expect(state.code == code)
    #expect(state.name == name)
    #expect(state == SQLState(code))
    #expect(state.errorClass == code.prefix(2))
  }

  @Test("description is generic; debugDescription has the details")
  func descriptions() {
    var error = PGError(
      .server, "conflicting key value violates exclusion constraint", sqlState: .exclusionViolation)
    error.constraint = "bookings_no_overlap"
    error.detail =
      "Key (property_id, stay)=(…, [2025-07-01,2025-07-04)) conflicts with existing key"
    #expect(error.description == "PGError.server (SQLSTATE 23P01)")
    for secret in ["bookings_no_overlap", "2025-07-01", "conflicting"] {
      #expect(!error.description.contains(secret))
      #expect(String(reflecting: error).contains(secret))
    }
    #expect(String(reflecting: error).contains("exclusion_violation"))
  }

  @Test("retryable and unavailable classification")
  func classification() {
    #expect(PGError(.server, "", sqlState: .serializationFailure).isRetryableTransactionFailure)
    #expect(PGError(.server, "", sqlState: .deadlockDetected).isRetryableTransactionFailure)
    #expect(!PGError(.server, "", sqlState: .uniqueViolation).isRetryableTransactionFailure)
    // A lost connection is never retried: the transaction may have committed.
    #expect(
      !PGError(.connectionLost, "", sqlState: .serializationFailure).isRetryableTransactionFailure)
    #expect(PGError(.connectionLost, "").isUnavailable)
    #expect(PGError(.closed, "").isUnavailable)
    #expect(!PGError(.poolTimeout, "").isUnavailable)
  }

  @Test("backoff doubles up to the maximum; jitter stays within its band", arguments: 1...12)
  func backoff(attempt: Int) {
    let backoff = PGBackoff(initial: .milliseconds(50), maximum: .seconds(1))
    let ceiling = backoff.ceiling(attempt: attempt)
    let expected = min(Duration.milliseconds(50 * (1 << (attempt - 1))), .seconds(1))
    #expect(ceiling == expected)
    var generator = SystemRandomNumberGenerator()
    for _ in 0..<100 {
      let delay = backoff.delay(attempt: attempt, using: &generator)
      #expect(delay <= ceiling)
      #expect(delay >= ceiling / 2)
    }
  }

  @Test("no jitter means the ceiling exactly")
  func noJitter() {
    let backoff = PGBackoff(initial: .milliseconds(5), maximum: .milliseconds(200), jitter: 0)
    #expect(backoff.delay(attempt: 1) == .milliseconds(5))
    #expect(backoff.delay(attempt: 3) == .milliseconds(20))
    #expect(backoff.delay(attempt: 100) == .milliseconds(200))
  }
}
