/// Money paid for a booking, processed asynchronously by the gateway.
public struct Payment: Hashable, Sendable {
  public enum Method: String, Hashable, Sendable, CaseIterable {
    case card
    case bankTransfer = "bank_transfer"
    case wallet
  }

  public enum Status: String, Hashable, Sendable, CaseIterable {
    case pending, succeeded, failed, refunded
    case partiallyRefunded = "partially_refunded"
  }

  public var id: PaymentID
  public var bookingID: BookingID
  public var payerID: UserID
  public var propertyID: PropertyID
  public var amount: Money
  public var method: Method
  public var status: Status
  /// The gateway's id for the charge, once it answered.
  public var gatewayReference: String?
  /// The gateway's token for the payer's payment method.
  public var methodToken: String
  /// What went back to the payer so far.
  public var refunded: Money
  /// Why the gateway declined it (failed only).
  public var failureReason: String?
  /// The payer's key: a retry with the same key is the same payment.
  public var idempotencyKey: String
  /// 32-byte digest of the request's parameters, to tell a retry from a reused key.
  public var requestFingerprint: [UInt8]
  public var createdAt: Timestamp
  public var updatedAt: Timestamp

  public init(
    id: PaymentID, bookingID: BookingID, payerID: UserID, propertyID: PropertyID, amount: Money,
    method: Method, status: Status, gatewayReference: String?, methodToken: String = "", refunded: Money? = nil,
    failureReason: String? = nil, idempotencyKey: String, requestFingerprint: [UInt8], createdAt: Timestamp,
    updatedAt: Timestamp
  ) {
    self.id = id
    self.bookingID = bookingID
    self.payerID = payerID
    self.propertyID = propertyID
    self.amount = amount
    self.method = method
    self.status = status
    self.gatewayReference = gatewayReference
    self.methodToken = methodToken
    self.refunded = refunded ?? Money(amountMinor: 0, currency: amount.currency)
    self.failureReason = failureReason
    self.idempotencyKey = idempotencyKey
    self.requestFingerprint = requestFingerprint
    self.createdAt = createdAt
    self.updatedAt = updatedAt
  }
}
