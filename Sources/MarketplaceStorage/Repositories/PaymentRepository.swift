public import MarketplaceCore
public import Postgres

/// Payments and their idempotency. The index each statement uses is named in 0005_payments.sql.
public enum PaymentRepository {
  static let columns = """
    id, booking_id, payer_id, property_id, amount_minor, currency, method, status,
    gateway_reference, idempotency_key, request_fingerprint, created_at, updated_at
    """
  static let select = SQL(unsafeRaw: "SELECT \(columns) FROM payments")
  static let returning = SQL(unsafeRaw: " RETURNING \(columns)")

  static func decode(_ row: inout ColumnReader) throws(PGError) -> Payment {
    Payment(
      id: try row.next(), bookingID: try row.next(), payerID: try row.next(),
      propertyID: try row.next(),
      amount: Money(amountMinor: try row.next(), currency: try row.currency()),
      method: try row.value(), status: try row.value(), gatewayReference: try row.optional(),
      idempotencyKey: try row.next(), requestFingerprint: try row.next(), createdAt: try row.next(),
      updatedAt: try row.next())
  }

  /// A new pending payment. A key the payer used before fails with 23505 on
  /// `payments_payer_idempotency_key` (read the first one with `find(payerID:idempotencyKey:)`);
  /// a booking that already has a live payment fails with 23505 on `payments_booking_live_key`.
  public static func insert(
    id: PaymentID, bookingID: BookingID, payerID: UserID, propertyID: PropertyID, amount: Money,
    method: Payment.Method, idempotencyKey: String, requestFingerprint: [UInt8]
  ) -> PGQuery<Payment> {
    PGQuery(
      """
      INSERT INTO payments (id, booking_id, payer_id, property_id, amount_minor, currency, method,
        idempotency_key, request_fingerprint)
      VALUES (\(id), \(bookingID), \(payerID), \(propertyID), \(amount.amountMinor),
        \(amount.currency.code), \(method.rawValue), \(idempotencyKey), \(requestFingerprint))
      """ + Self.returning
    ) { try $0.decodeOne(Self.decode) }
  }

  public static func find(id: PaymentID) -> PGQuery<Payment?> {
    PGQuery(Self.select + " WHERE id = \(id)") { try $0.decodeFirst(Self.decode) }
  }

  /// The payment a retry with this key refers to.
  public static func find(payerID: UserID, idempotencyKey: String) -> PGQuery<Payment?> {
    PGQuery(
      Self.select + " WHERE payer_id = \(payerID) AND idempotency_key = \(idempotencyKey)"
    ) { try $0.decodeFirst(Self.decode) }
  }

  /// A booking's payments, oldest first.
  public static func list(bookingID: BookingID) -> PGQuery<[Payment]> {
    PGQuery(Self.select + " WHERE booking_id = \(bookingID) ORDER BY created_at, id") { try $0.decodeAll(Self.decode) }
  }

  /// A payer's payments, newest first.
  public static func list(payerID: UserID, limit: Int) -> PGQuery<[Payment]> {
    PGQuery(
      Self.select + " WHERE payer_id = \(payerID) ORDER BY created_at DESC, id DESC LIMIT \(limit)"
    ) { try $0.decodeAll(Self.decode) }
  }

  /// The booking's pending, succeeded or refunded payment, if any (at most one exists).
  public static func livePayment(bookingID: BookingID) -> PGQuery<Payment?> {
    PGQuery(
      Self.select
        + " WHERE booking_id = \(bookingID) AND status IN ('pending', 'succeeded', 'refunded')"
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
}
