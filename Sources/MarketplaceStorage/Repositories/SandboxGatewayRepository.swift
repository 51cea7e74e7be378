public import MarketplaceCore
public import Postgres

/// The sandbox gateway's ledger (0012_booking_flow.sql): what it charged and refunded, once per
/// idempotency key, and how often a transiently failing key failed.
public enum SandboxGatewayRepository {
  /// Records an operation under `key`, or counts one more call of the key recorded before; the
  /// reference of the operation, the first one's on a repeat.
  public static func record(
    key: String, kind: String, amount: Money, methodToken: String, reference: String
  ) -> PGQuery<String> {
    PGQuery(
      """
      INSERT INTO sandbox_gateway_operations (idempotency_key, kind, amount_minor, currency, method_token, reference)
      VALUES (\(key), \(kind), \(amount.amountMinor), \(amount.currency.code), \(methodToken), \(reference))
      ON CONFLICT (idempotency_key) DO UPDATE SET calls = sandbox_gateway_operations.calls + 1
      RETURNING reference
      """
    ) { try $0.decodeOne { row throws(PGError) in try row.next(String.self) } }
  }

  /// Counts a failed call of `key`; how many calls of it failed so far.
  public static func countFailure(key: String) -> PGQuery<Int> {
    PGQuery(
      """
      INSERT INTO sandbox_gateway_failures (idempotency_key, failures) VALUES (\(key), 1)
      ON CONFLICT (idempotency_key) DO UPDATE SET failures = sandbox_gateway_failures.failures + 1
      RETURNING failures
      """
    ) { try $0.decodeOne { row throws(PGError) in try row.next(Int.self) } }
  }
}
