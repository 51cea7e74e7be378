public import MarketplaceCore
import MarketplaceStorage
public import Postgres

/// The built-in gateway for development and tests: it moves no money and decides by the payment
/// method token (documented in payments.proto). Like a real gateway it keeps a ledger of what it
/// did per idempotency key (in the `sandbox_gateway_operations` table), so a repeated key
/// answers as the first call did and never charges twice; tests count the charges there.
public struct SandboxPaymentGateway: PaymentGateway {
  /// The tokens it knows.
  public enum Token {
    public static let succeeds = "pm_sandbox_ok"
    public static let declined = "pm_sandbox_declined"
    /// Fails transiently `transientFailures` times per key, then succeeds.
    public static let transient = "pm_sandbox_transient"
    /// Succeeds after `slowDelay`.
    public static let slow = "pm_sandbox_slow"
  }

  public static let transientFailures = 2
  public static let slowDelay = Duration.seconds(5)

  let database: PGClient

  public init(database: PGClient) { self.database = database }

  public func charge(_ amount: Money, methodToken: String, idempotencyKey: String) async throws(GatewayError)
    -> GatewayOutcome
  {
    switch methodToken {
    case Token.succeeds: break
    case Token.slow:
      try? await Task.sleep(for: Self.slowDelay)
    case Token.transient:
      let failures = try await call(SandboxGatewayRepository.countFailure(key: idempotencyKey))
      if failures <= Self.transientFailures { throw GatewayError(reason: "sandbox: transient failure \(failures)") }
    default:
      return .declined(reason: "the card was declined")
    }
    return try await record(idempotencyKey, "charge", amount, methodToken)
  }

  public func refund(_ amount: Money, of chargeReference: String, idempotencyKey: String) async throws(GatewayError)
    -> GatewayOutcome
  {
    try await record(idempotencyKey, "refund", amount, chargeReference)
  }

  private func record(_ key: String, _ kind: String, _ amount: Money, _ method: String) async throws(GatewayError)
    -> GatewayOutcome
  {
    let reference = "sandbox_\(kind)_\(BookingID.random())"
    return .succeeded(
      reference: try await call(
        SandboxGatewayRepository.record(key: key, kind: kind, amount: amount, methodToken: method, reference: reference)
      ))
  }

  /// The ledger being unreachable is the gateway being unreachable: retried later.
  private func call<T>(_ query: PGQuery<T>) async throws(GatewayError) -> T {
    do {
      return try await database.run(query)
    } catch {
      throw GatewayError(reason: "sandbox ledger: \(error.kind)")
    }
  }
}
