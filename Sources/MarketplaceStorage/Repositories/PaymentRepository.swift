public import MarketplaceCore
public import Postgres

/// Payments and their idempotency. The index each statement uses is named in 0005_payments.sql.
public struct PaymentRepository {
  let session: PGSession

  public init(_ session: PGSession) { self.session = session }

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
  public func insert(
    id: PaymentID, bookingID: BookingID, payerID: UserID, propertyID: PropertyID, amount: Money,
    method: Payment.Method, idempotencyKey: String, requestFingerprint: [UInt8]
  ) throws(PGError) -> Payment {
    try session.query(
      """
      INSERT INTO payments (id, booking_id, payer_id, property_id, amount_minor, currency, method,
        idempotency_key, request_fingerprint)
      VALUES (\(id), \(bookingID), \(payerID), \(propertyID), \(amount.amountMinor),
        \(amount.currency.code), \(method.rawValue), \(idempotencyKey), \(requestFingerprint))
      """ + Self.returning
    ).decodeOne(Self.decode)
  }

  public func find(id: PaymentID) throws(PGError) -> Payment? {
    try session.query(Self.select + " WHERE id = \(id)").decodeFirst(Self.decode)
  }

  /// The payment a retry with this key refers to.
  public func find(payerID: UserID, idempotencyKey: String) throws(PGError) -> Payment? {
    try session.query(
      Self.select + " WHERE payer_id = \(payerID) AND idempotency_key = \(idempotencyKey)"
    ).decodeFirst(Self.decode)
  }

  /// A booking's payments, oldest first.
  public func list(bookingID: BookingID) throws(PGError) -> [Payment] {
    try session.query(Self.select + " WHERE booking_id = \(bookingID) ORDER BY created_at, id")
      .decodeAll(Self.decode)
  }

  /// A payer's payments, newest first.
  public func list(payerID: UserID, limit: Int) throws(PGError) -> [Payment] {
    try session.query(
      Self.select + " WHERE payer_id = \(payerID) ORDER BY created_at DESC, id DESC LIMIT \(limit)"
    ).decodeAll(Self.decode)
  }

  /// The booking's pending, succeeded or refunded payment, if any (at most one exists).
  public func livePayment(bookingID: BookingID) throws(PGError) -> Payment? {
    try session.query(
      Self.select
        + " WHERE booking_id = \(bookingID) AND status IN ('pending', 'succeeded', 'refunded')"
    ).decodeFirst(Self.decode)
  }

  /// Moves a payment from `from` to `to`, recording the gateway's reference when given; nil if it
  /// is not in `from` any more.
  public func transition(
    id: PaymentID, from: Payment.Status, to: Payment.Status, gatewayReference: String?
  ) throws(PGError) -> Payment? {
    try session.query(
      """
      UPDATE payments SET status = \(to.rawValue),
        gateway_reference = coalesce(\(gatewayReference), gateway_reference), updated_at = now()
      WHERE id = \(id) AND status = \(from.rawValue)
      """ + Self.returning
    ).decodeFirst(Self.decode)
  }
}
