public import MarketplaceCore
public import Postgres

/// Payments and their idempotency. The index each statement uses is named in 0005_payments.sql.
public enum PaymentRepository {
  static let columns = """
    id, booking_id, payer_id, property_id, amount_minor, currency, method, status,
    gateway_reference, method_token, refunded_minor, failure_reason, idempotency_key, request_fingerprint,
    created_at, updated_at
    """
  static let select = SQL(unsafeRaw: "SELECT \(columns) FROM payments")
  static let returning = SQL(unsafeRaw: " RETURNING \(columns)")

  static func decode(_ row: inout ColumnReader) throws(PGError) -> Payment {
    let (id, bookingID, payerID, propertyID): (PaymentID, BookingID, UserID, PropertyID) = (
      try row.next(), try row.next(), try row.next(), try row.next()
    )
    let amount = Money(amountMinor: try row.next(), currency: try row.currency())
    return Payment(
      id: id, bookingID: bookingID, payerID: payerID, propertyID: propertyID, amount: amount,
      method: try row.value(), status: try row.value(), gatewayReference: try row.optional(),
      methodToken: try row.next(), refunded: Money(amountMinor: try row.next(), currency: amount.currency),
      failureReason: try row.optional(), idempotencyKey: try row.next(), requestFingerprint: try row.next(),
      createdAt: try row.next(), updatedAt: try row.next())
  }

  /// A new pending payment. A key the payer used before fails with 23505 on
  /// `payments_payer_idempotency_key` (read the first one with `find(payerID:idempotencyKey:)`);
  /// a booking that already has a live payment fails with 23505 on `payments_booking_live_key`.
  public static func insert(
    id: PaymentID, bookingID: BookingID, payerID: UserID, propertyID: PropertyID, amount: Money,
    method: Payment.Method, methodToken: String = "", idempotencyKey: String, requestFingerprint: [UInt8]
  ) -> PGQuery<Payment> {
    PGQuery(
      """
      INSERT INTO payments (id, booking_id, payer_id, property_id, amount_minor, currency, method,
        method_token, idempotency_key, request_fingerprint)
      VALUES (\(id), \(bookingID), \(payerID), \(propertyID), \(amount.amountMinor),
        \(amount.currency.code), \(method.rawValue), \(methodToken), \(idempotencyKey), \(requestFingerprint))
      """ + Self.returning
    ) { try $0.decodeOne(Self.decode) }
    .onViolation(of: "payments_payer_idempotency_key", throw: IdempotencyKeyTaken())
    .onViolation(of: "payments_booking_live_key", throw: PaymentError.alreadyPaid)
  }

  public static func find(id: PaymentID) -> PGQuery<Payment?> {
    PGQuery(Self.select + " WHERE id = \(id)") { try $0.decodeFirst(Self.decode) }
  }

  /// A payment under the payer's key was stored first (by a concurrent retry, say): read it with
  /// `find(payerID:idempotencyKey:)`.
  public struct IdempotencyKeyTaken: Error, Hashable, Sendable {}

  /// The payment a retry with this key refers to.
  public static func find(payerID: UserID, idempotencyKey: String) -> PGQuery<Payment?> {
    PGQuery(
      Self.select + " WHERE payer_id = \(payerID) AND idempotency_key = \(idempotencyKey)"
    ) { try $0.decodeFirst(Self.decode) }
  }

  /// The booking's payment that is pending or moved money, if any (at most one exists).
  public static func livePayment(bookingID: BookingID) -> PGQuery<Payment?> {
    PGQuery(
      Self.select
        + " WHERE booking_id = \(bookingID) AND status IN ('pending', 'succeeded', 'refunded', 'partially_refunded')"
    ) { try $0.decodeFirst(Self.decode) }
  }

  /// Moves a payment from `from` to `to`, recording the gateway's reference when given; nil if it
  /// is not in `from` any more.
  public static func transition(
    id: PaymentID, from: Payment.Status, to: Payment.Status, gatewayReference: String?
  ) -> PGQuery<Payment?> {
    PGQuery(
      """
      UPDATE payments SET status = \(to.rawValue),
        gateway_reference = coalesce(\(gatewayReference), gateway_reference), updated_at = now()
      WHERE id = \(id) AND status = \(from.rawValue)
      """ + Self.returning
    ) { try $0.decodeFirst(Self.decode) }
  }

  /// Where a page of payments (newest first) ended.
  public struct Cursor: Hashable, Sendable {
    public var createdAt: Timestamp
    public var id: PaymentID

    public init(createdAt: Timestamp, id: PaymentID) {
      self.createdAt = createdAt
      self.id = id
    }
  }

  /// Whose payments a page lists.
  public enum Owner: Hashable, Sendable {
    case payer(UserID)
    case booking(BookingID)
  }

  /// One page of `owner`'s payments, newest first, after `cursor`.
  public static func page(of owner: Owner, after cursor: Cursor?, limit: Int) -> PGQuery<[Payment]> {
    var sql = Self.select
    switch owner {
    case .payer(let id): sql.append(" WHERE payer_id = \(id)")
    case .booking(let id): sql.append(" WHERE booking_id = \(id)")
    }
    if let cursor {
      sql.append(" AND (created_at, id) < (\(cursor.createdAt)::timestamptz, \(cursor.id)::uuid)")
    }
    sql.append(" ORDER BY created_at DESC, id DESC LIMIT \(limit)")
    return PGQuery(sql) { try $0.decodeAll(Self.decode) }
  }

  /// The gateway declined the payment, for `reason`; nil unless it was pending.
  public static func fail(id: PaymentID, reason: String) -> PGQuery<Payment?> {
    PGQuery(
      """
      UPDATE payments SET status = 'failed', failure_reason = \(reason), updated_at = now()
      WHERE id = \(id) AND status = 'pending'
      """ + Self.returning
    ) { try $0.decodeFirst(Self.decode) }
  }

  /// Records a refund of `amount` in all (refunded in full when it is the whole amount); nil
  /// unless the payment had succeeded and was not refunded yet.
  public static func recordRefund(id: PaymentID, amount: Money) -> PGQuery<Payment?> {
    PGQuery(
      """
      UPDATE payments SET refunded_minor = \(amount.amountMinor), updated_at = now(),
        status = CASE WHEN \(amount.amountMinor) = amount_minor THEN 'refunded' ELSE 'partially_refunded' END
      WHERE id = \(id) AND status = 'succeeded'
      """ + Self.returning
    ) { try $0.decodeFirst(Self.decode) }
  }
}
