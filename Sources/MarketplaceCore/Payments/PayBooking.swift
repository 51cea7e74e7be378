/// A guest pays for a booking: which requests are well-formed, and whether the booking takes the
/// payment. A request is identified by its idempotency key: a retry is the same payment.
public enum PayBooking {
  public struct Request: Sendable {
    public var bookingID = ""
    public var methodToken = ""
    public var idempotencyKey = ""
    /// The amount as sent, when sent.
    public var amount: (amountMinor: Int64, currency: String)?

    public init() {}
  }

  public struct Valid: Hashable, Sendable {
    public var bookingID: BookingID
    public var methodToken: String
    public var idempotencyKey: String
    public var amount: Money

    /// The request's parameters in one canonical byte string: the same for a retry, different
    /// for another payment under the same key (digested and kept with the payment).
    public var canonicalParameters: [UInt8] {
      Array("\(bookingID)\n\(amount.amountMinor)\n\(amount.currency)\n\(methodToken)".utf8)
    }
  }

  /// Most bytes of a payment method token or an idempotency key.
  public static let maximumKeyBytes = 255

  public static func validate(_ request: Request) throws(ValidationError) -> Valid {
    var violations = Violations()
    let bookingID = violations.check("booking_id") { () throws(RuleViolation) in
      try BookingID(validating: request.bookingID)
    }
    for (field, value) in [("payment_method_token", request.methodToken), ("idempotency_key", request.idempotencyKey)]
    where value.isEmpty || value.utf8.count > maximumKeyBytes {
      violations.add(field, "must be 1 to \(maximumKeyBytes) bytes")
    }
    var amount: Money?
    if let sent = request.amount {
      let currency = violations.check("amount.currency") { () throws(RuleViolation) in
        try ListingRules.currencyCode(sent.currency)
      }
      if sent.amountMinor <= 0 { violations.add("amount.amount_minor", "must be positive") }
      amount = currency.map { Money(amountMinor: sent.amountMinor, currency: $0) }
    } else {
      violations.add("amount", "is required: the booking's total")
    }
    try violations.throwIfAny()
    return Valid(
      bookingID: bookingID!, methodToken: request.methodToken, idempotencyKey: request.idempotencyKey,
      amount: amount!)
  }

  /// Throws unless `booking` takes this payment now: it waits for one, and the amount is its total.
  public static func check(_ request: Valid, for booking: Booking) throws(PaymentError) {
    guard booking.status == .pending else { throw .bookingNotPayable(booking.status) }
    guard request.amount == booking.totalPrice else { throw .amountMismatch(expected: booking.totalPrice) }
  }

  /// Throws unless `existing`, the payment already made under the request's key, is this same
  /// request retried (its fingerprint `fingerprint` matches).
  public static func checkRetry(of existing: Payment, fingerprint: [UInt8]) throws(PaymentError) {
    guard existing.requestFingerprint == fingerprint else { throw .idempotencyKeyReused }
  }
}

/// Why a payment was refused, in the domain's words.
public enum PaymentError: Error, Hashable, Sendable {
  /// Only a pending booking is paid.
  case bookingNotPayable(Booking.Status)
  /// The amount is not the booking's total.
  case amountMismatch(expected: Money)
  /// The key was used before for another request.
  case idempotencyKeyReused
  /// Another payment of the booking is pending or went through.
  case alreadyPaid
}
