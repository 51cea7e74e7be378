/// The payment processor money moves through. Every call carries an idempotency key: a gateway
/// that saw the key before answers as it did then and moves no money again, so a call retried
/// after a timeout or a crash never charges twice.
public protocol PaymentGateway: Sendable {
  /// Charges `amount` to the payment method `methodToken` stands for.
  func charge(_ amount: Money, methodToken: String, idempotencyKey: String) async throws(GatewayError)
    -> GatewayOutcome

  /// Pays `amount` of the charge `chargeReference` back.
  func refund(_ amount: Money, of chargeReference: String, idempotencyKey: String) async throws(GatewayError)
    -> GatewayOutcome
}

/// What the gateway answered.
public enum GatewayOutcome: Hashable, Sendable {
  /// Money moved; the gateway's reference for it.
  case succeeded(reference: String)
  /// Refused for good (a declined card); the reason is safe to show the payer.
  case declined(reason: String)
}

/// The gateway could not answer now (timeout, outage): the same call may be retried later with
/// the same key.
public struct GatewayError: Error, Hashable, Sendable {
  public var reason: String

  public init(reason: String) { self.reason = reason }
}
