public import MarketplaceCore
public import Postgres

/// Bookings. The database itself refuses overlapping active stays of one property
/// (bookings_no_overlap, SQLSTATE 23P01); the index each statement uses is named in
/// 0004_bookings.sql.
public enum BookingRepository {
  static let columns = """
    id, property_id, guest_id, check_in, check_out, guests, total_price_minor, currency, status,
    expires_at, created_at, updated_at
    """
  static let select = SQL(unsafeRaw: "SELECT \(columns) FROM bookings")
  static let returning = SQL(unsafeRaw: " RETURNING \(columns)")

  static func decode(_ row: inout ColumnReader) throws(PGError) -> Booking {
    Booking(
      id: try row.next(), propertyID: try row.next(), guestID: try row.next(),
      stay: try row.dateRange(), guests: try row.next(),
      totalPrice: Money(amountMinor: try row.next(), currency: try row.currency()),
      status: try row.value(), expiresAt: try row.optional(), createdAt: try row.next(),
      updatedAt: try row.next())
  }

  /// A new pending booking that holds its dates until `expiresAt` unless paid. Dates taken by
  /// another active booking fail with 23P01 on `bookings_no_overlap`.
  public static func insert(
    id: BookingID, propertyID: PropertyID, guestID: UserID, stay: DateRange, guests: Int,
    totalPrice: Money, expiresAt: Timestamp
  ) -> PGQuery<Booking> {
    PGQuery(
      """
      INSERT INTO bookings (id, property_id, guest_id, check_in, check_out, guests, total_price_minor,
        currency, status, expires_at)
      VALUES (\(id), \(propertyID), \(guestID), \(stay.checkIn), \(stay.checkOut), \(guests),
        \(totalPrice.amountMinor), \(totalPrice.currency.code), 'pending', \(expiresAt))
      """ + Self.returning
    ) { try $0.decodeOne(Self.decode) }
  }

  public static func find(id: BookingID) -> PGQuery<Booking?> {
    PGQuery(Self.select + " WHERE id = \(id)") { try $0.decodeFirst(Self.decode) }
  }

  /// The booking, locked until the transaction ends (for a status change decided in Swift).
  public static func findForUpdate(id: BookingID) -> PGQuery<Booking?> {
    PGQuery(Self.select + " WHERE id = \(id) FOR UPDATE") { try $0.decodeFirst(Self.decode) }
  }

  /// A guest's trips, latest check-in first.
  public static func list(guestID: UserID, limit: Int) -> PGQuery<[Booking]> {
    PGQuery(
      Self.select + " WHERE guest_id = \(guestID) ORDER BY check_in DESC, id DESC LIMIT \(limit)"
    ) { try $0.decodeAll(Self.decode) }
  }

  /// A property's bookings (any status) checking in on or after `from`, by date: the host's
  /// reservations list.
  public static func list(propertyID: PropertyID, from: LocalDate, limit: Int) -> PGQuery<[Booking]> {
    PGQuery(
      Self.select
        + " WHERE property_id = \(propertyID) AND check_in >= \(from) ORDER BY check_in, id LIMIT \(limit)"
    ) { try $0.decodeAll(Self.decode) }
  }

  /// How many pending or confirmed bookings of `property` have a stay that has not ended yet
  /// ("today" in the listing's `timeZone`): a listing with any cannot be deleted.
  public static func countUpcoming(propertyID: PropertyID, timeZone: String) -> PGQuery<Int> {
    PGQuery(
      """
      SELECT count(*) FROM bookings
      WHERE property_id = \(propertyID) AND status IN ('pending', 'confirmed')
        AND check_out > (now() AT TIME ZONE \(timeZone))::date
      """
    ) { try $0.decodeOne { row throws(PGError) in try row.next(Int.self) } }
  }

  /// The stays that hold dates of `property` within `range`: its availability calendar.
  public static func activeStays(propertyID: PropertyID, within range: DateRange) -> PGQuery<[DateRange]> {
    PGQuery(
      """
      SELECT check_in, check_out FROM bookings
      WHERE property_id = \(propertyID) AND stay && daterange(\(range.checkIn)::date, \(range.checkOut)::date, '[)')
        AND status IN ('pending', 'confirmed')
      ORDER BY check_in
      """
    ) { try $0.decodeAll { row throws(PGError) in try row.dateRange() } }
  }

  /// Whether no active booking of `property` overlaps `stay`.
  public static func isFree(propertyID: PropertyID, stay: DateRange) -> PGQuery<Bool> {
    PGQuery(
      """
      SELECT NOT EXISTS (SELECT 1 FROM bookings
        WHERE property_id = \(propertyID) AND stay && daterange(\(stay.checkIn)::date, \(stay.checkOut)::date, '[)')
          AND status IN ('pending', 'confirmed'))
      """
    ) { try $0.decodeOne { row throws(PGError) in try row.next(Bool.self) } }
  }

  /// Moves a booking from `from` to `to` (confirming clears the expiry); nil if it is not in
  /// `from` any more (someone else moved it first).
  public static func transition(
    id: BookingID, from: Booking.Status, to: Booking.Status
  ) -> PGQuery<Booking?> {
    PGQuery(
      """
      UPDATE bookings SET status = \(to.rawValue),
        expires_at = CASE WHEN \(to.rawValue) = 'pending' THEN expires_at END, updated_at = now()
      WHERE id = \(id) AND status = \(from.rawValue)
      """ + Self.returning
    ) { try $0.decodeFirst(Self.decode) }
  }

  // The sweeps below pick their rows in a subquery (index order, LIMIT, SKIP LOCKED) and update
  // them through `id = ANY (ARRAY (...))`, an index condition on the primary key. Written as
  // `id IN (subquery)`, the generic plan of the prepared statement (which cannot see the LIMIT's
  // value) hash-joined the picked ids against a sequential scan of all bookings.

  /// The expiry sweep: cancels up to `limit` pending bookings whose time to pay ran out, oldest
  /// first, skipping rows other workers hold; returns them.
  public static func expireUnpaid(limit: Int) -> PGQuery<[Booking]> {
    PGQuery(
      """
      UPDATE bookings SET status = 'cancelled', expires_at = NULL, updated_at = now()
      WHERE id = ANY (ARRAY (SELECT id FROM bookings WHERE status = 'pending' AND expires_at <= now()
                   ORDER BY expires_at LIMIT \(limit) FOR UPDATE SKIP LOCKED))
      """ + Self.returning
    ) { try $0.decodeAll(Self.decode) }
  }

  /// The completion sweep: confirmed stays that checked out by `today` become completed (and so
  /// reviewable); returns them.
  public static func completeEnded(today: LocalDate, limit: Int) -> PGQuery<[Booking]> {
    PGQuery(
      """
      UPDATE bookings SET status = 'completed', updated_at = now()
      WHERE id = ANY (ARRAY (SELECT id FROM bookings WHERE status = 'confirmed' AND check_out <= \(today)
                   ORDER BY check_out LIMIT \(limit) FOR UPDATE SKIP LOCKED))
      """ + Self.returning
    ) { try $0.decodeAll(Self.decode) }
  }
}
