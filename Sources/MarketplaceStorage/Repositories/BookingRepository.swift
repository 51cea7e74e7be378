public import MarketplaceCore
public import Postgres

/// Bookings, and the hosts' blocks of dates (rows of status 'blocked' in the same table, so that
/// one exclusion constraint keeps every stay and block apart: bookings_no_overlap, SQLSTATE
/// 23P01). Booking reads never return blocks. The index each statement uses is named in
/// 0004_bookings.sql and 0012_booking_flow.sql.
public enum BookingRepository {
  static let columns = """
    id, property_id, guest_id, check_in, check_out, guests, total_price_minor, currency, cleaning_fee_minor,
    status, expires_at, created_at, updated_at
    """
  static let select = SQL(unsafeRaw: "SELECT \(columns) FROM bookings")
  /// `columns` of the table aliased `b`, for joins.
  static let qualifiedColumns = columns.split(separator: ",").map { "b." + $0.filter { !$0.isWhitespace } }
    .joined(separator: ", ")
  static let returning = SQL(unsafeRaw: " RETURNING \(columns)")

  /// The rows that hold dates: bookings_no_overlap's predicate, repeated exactly wherever dates
  /// are tested, so that its index serves the test.
  static let holdsDates = SQL(unsafeRaw: "status IN ('pending', 'awaiting_host', 'confirmed', 'blocked')")

  static func decode(_ row: inout ColumnReader) throws(PGError) -> Booking {
    let id: BookingID = try row.next()
    let propertyID: PropertyID = try row.next()
    let guestID: UserID = try row.next()
    let stay = try row.dateRange()
    let guests: Int = try row.next()
    let total = Money(amountMinor: try row.next(), currency: try row.currency())
    return Booking(
      id: id, propertyID: propertyID, guestID: guestID, stay: stay, guests: guests, totalPrice: total,
      cleaningFee: Money(amountMinor: try row.next(), currency: total.currency), status: try row.value(),
      expiresAt: try row.optional(), createdAt: try row.next(), updatedAt: try row.next())
  }

  /// A new pending booking that holds its dates until `expiresAt` unless paid. Dates taken by
  /// another active booking fail with 23P01 on `bookings_no_overlap`.
  public static func insert(
    id: BookingID, propertyID: PropertyID, guestID: UserID, stay: DateRange, guests: Int,
    totalPrice: Money, cleaningFee: Money? = nil, expiresAt: Timestamp
  ) -> PGQuery<Booking> {
    PGQuery(
      """
      INSERT INTO bookings (id, property_id, host_id, guest_id, check_in, check_out, guests, total_price_minor,
        currency, status, expires_at, cleaning_fee_minor)
      VALUES (\(id), \(propertyID), (SELECT host_id FROM properties WHERE id = \(propertyID)), \(guestID),
        \(stay.checkIn), \(stay.checkOut), \(guests),
        \(totalPrice.amountMinor), \(totalPrice.currency.code), 'pending', \(expiresAt),
        \(cleaningFee?.amountMinor ?? 0))
      """ + Self.returning
    ) { try $0.decodeOne(Self.decode) }
    .onViolation(of: "bookings_no_overlap", throw: BookingError.datesUnavailable)
  }

  public static func find(id: BookingID) -> PGQuery<Booking?> {
    PGQuery(Self.select + " WHERE id = \(id) AND status <> 'blocked'") { try $0.decodeFirst(Self.decode) }
  }

  /// The booking and its listing (deleted or not: its guest and host still see it), the booking
  /// locked until the transaction ends when `locked` (for a change decided in Swift).
  public static func findWithListing(id: BookingID, locked: Bool = false) -> PGQuery<
    (booking: Booking, listing: Property)?
  > {
    var sql = SQL(
      unsafeRaw: """
        SELECT \(Self.qualifiedColumns), \(PropertyRepository.columns)
        FROM bookings b JOIN properties p ON p.id = b.property_id
        """)
    sql.append(" WHERE b.id = \(id) AND b.status <> 'blocked'")
    if locked { sql.append(" FOR UPDATE OF b") }
    return PGQuery(sql) { result throws(PGError) in
      try result.decodeFirst { row throws(PGError) in (try Self.decode(&row), try PropertyRepository.decode(&row)) }
    }
  }

  /// Where a page of bookings (latest check-in first) ended.
  public struct Cursor: Hashable, Sendable {
    public var checkIn: LocalDate
    public var id: BookingID

    public init(checkIn: LocalDate, id: BookingID) {
      self.checkIn = checkIn
      self.id = id
    }
  }

  /// Whose bookings a page lists.
  public enum Owner: Hashable, Sendable {
    /// A guest's trips.
    case guest(UserID)
    /// The bookings of every listing of a host.
    case host(UserID)
    /// The bookings of one listing.
    case property(PropertyID)
  }

  /// One page of `owner`'s bookings in `statuses` (none: any), latest check-in first, after
  /// `cursor`.
  public static func page(
    of owner: Owner, statuses: [Booking.Status], after cursor: Cursor?, limit: Int
  ) -> PGQuery<[Booking]> {
    var sql = Self.select
    switch owner {
    case .guest(let id): sql.append(" WHERE guest_id = \(id)")
    case .host(let id): sql.append(" WHERE host_id = \(id)")
    case .property(let id): sql.append(" WHERE property_id = \(id)")
    }
    // One statement for every filter: the statuses travel as one text[] parameter. Blocks are
    // ruled out in words too, for the partial indexes (a parameter cannot imply their predicate).
    let wanted = statuses.isEmpty ? Booking.Status.allCases : statuses
    sql.append(
      " AND status <> 'blocked' AND status = ANY (\("{\(wanted.map(\.rawValue).joined(separator: ","))}")::text[])")
    if let cursor {
      sql.append(" AND (check_in, id) < (\(cursor.checkIn)::date, \(cursor.id)::uuid)")
    }
    sql.append(" ORDER BY check_in DESC, id DESC LIMIT \(limit)")
    return PGQuery(sql) { try $0.decodeAll(Self.decode) }
  }

  /// How many pending, awaiting or confirmed bookings of `property` have a stay that has not ended yet
  /// ("today" in the listing's `timeZone`): a listing with any cannot be deleted.
  public static func countUpcoming(propertyID: PropertyID, timeZone: String) -> PGQuery<Int> {
    PGQuery(
      """
      SELECT count(*) FROM bookings
      WHERE property_id = \(propertyID) AND status IN ('pending', 'awaiting_host', 'confirmed')
        AND check_out > (now() AT TIME ZONE \(timeZone))::date
      """
    ) { try $0.decodeOne { row throws(PGError) in try row.next(Int.self) } }
  }

  /// The stays of live bookings of `property` within `range` (blocks apart): its availability
  /// calendar.
  public static func activeStays(propertyID: PropertyID, within range: DateRange) -> PGQuery<[DateRange]> {
    PGQuery(
      """
      SELECT check_in, check_out FROM bookings
      WHERE property_id = \(propertyID) AND stay && daterange(\(range.checkIn)::date, \(range.checkOut)::date, '[)')
        AND \(Self.holdsDates) AND status <> 'blocked'
      ORDER BY check_in
      """
    ) { try $0.decodeAll { row throws(PGError) in try row.dateRange() } }
  }

  /// Moves a booking from `from` to `to`; nil if it is not in `from` any more (someone else moved
  /// it first). `deadline` is the new state's `expiresAt` (the host's answer for awaiting_host,
  /// the end of the stay for confirmed); a final state has none.
  public static func transition(
    id: BookingID, from: Booking.Status, to: Booking.Status, deadline: Timestamp? = nil
  ) -> PGQuery<Booking?> {
    // No parameter for an absent deadline: a NULL value cannot be given to a pgbench script.
    let newDeadline: SQL = deadline.map { "\($0)::timestamptz" } ?? "NULL::timestamptz"
    return PGQuery(
      """
      UPDATE bookings SET status = \(to.rawValue),
        expires_at = CASE WHEN \(to.rawValue) IN ('pending', 'awaiting_host', 'confirmed') THEN \(newDeadline) END,
        updated_at = now()
      WHERE id = \(id) AND status = \(from.rawValue)
      """ + Self.returning
    ) { try $0.decodeFirst(Self.decode) }
  }

  /// Moves a booking in `from` whose deadline passed by `now` to `to` (a lapse, a request left
  /// unanswered); nil if it is not due (paid, answered, or moved meanwhile).
  public static func transitionIfDue(id: BookingID, from: Booking.Status, to: Booking.Status, now: Timestamp)
    -> PGQuery<Booking?>
  {
    PGQuery(
      """
      UPDATE bookings SET status = \(to.rawValue), expires_at = NULL, updated_at = now()
      WHERE id = \(id) AND status = \(from.rawValue) AND expires_at <= \(now)
      """ + Self.returning
    ) { try $0.decodeFirst(Self.decode) }
  }

  // The sweep below picks its rows in a subquery (index order, LIMIT, SKIP LOCKED) and updates
  // them through `id = ANY (ARRAY (...))`, an index condition on the primary key. Written as
  // `id IN (subquery)`, the generic plan of the prepared statement (which cannot see the LIMIT's
  // value) hash-joined the picked ids against a sequential scan of all bookings.

  /// The completion sweep: confirmed stays that ended by `now` (check-out day began in their
  /// listing's time zone: their `expiresAt`) become completed, and so reviewable; returns them.
  /// Each change is announced (`announceChange`) by the same statement, so with its commit.
  public static func completeEnded(at now: Timestamp, limit: Int) -> PGQuery<[Booking]> {
    PGQuery(
      """
      UPDATE bookings SET status = 'completed', expires_at = NULL, updated_at = now()
      WHERE id = ANY (ARRAY (SELECT id FROM bookings WHERE status = 'confirmed' AND expires_at <= \(now)
                   ORDER BY expires_at LIMIT \(limit) FOR UPDATE SKIP LOCKED))
      """ + Self.returning + ", pg_notify(\(Self.changesChannel), id::text)"
    ) { try $0.decodeAll(Self.decode) }
  }

  /// The channel on which every change of a booking is announced, its id the payload
  /// (`WatchBooking` listens).
  public static let changesChannel = "marketplace_bookings"

  /// Announces, when the transaction commits, that booking `id` changed.
  public static func announceChange(of id: BookingID) -> PGQuery<Void> {
    PGQuery("SELECT pg_notify(\(Self.changesChannel), \(id.description))") { _ in }
  }

  // MARK: Blocks

  static let blockColumns = SQL(unsafeRaw: "id, property_id, check_in, check_out, created_at")

  static func decodeBlock(_ row: inout ColumnReader) throws(PGError) -> DateBlock {
    DateBlock(id: try row.next(), propertyID: try row.next(), dates: try row.dateRange(), createdAt: try row.next())
  }

  /// Closes `dates` of `propertyID` (hosted by `hostID`, priced in `currency`). Dates a booking
  /// or another block holds fail with 23P01 on `bookings_no_overlap`.
  public static func insertBlock(
    id: BookingID, propertyID: PropertyID, hostID: UserID, dates: DateRange, currency: CurrencyCode
  ) -> PGQuery<DateBlock> {
    PGQuery(
      """
      INSERT INTO bookings (id, property_id, host_id, guest_id, check_in, check_out, guests, total_price_minor,
        currency, status)
      VALUES (\(id), \(propertyID), \(hostID), \(hostID), \(dates.checkIn), \(dates.checkOut), 0, 0,
        \(currency.code), 'blocked')
      RETURNING \(Self.blockColumns)
      """
    ) { try $0.decodeOne(Self.decodeBlock) }
    .onViolation(of: "bookings_no_overlap", throw: BookingError.datesUnavailable)
  }

  public static func findBlock(id: BookingID) -> PGQuery<DateBlock?> {
    PGQuery("SELECT \(Self.blockColumns) FROM bookings WHERE id = \(id) AND status = 'blocked'") {
      try $0.decodeFirst(Self.decodeBlock)
    }
  }

  /// Reopens the dates of a block; false if there is none (removed meanwhile).
  public static func deleteBlock(id: BookingID) -> PGQuery<Bool> {
    PGQuery("DELETE FROM bookings WHERE id = \(id) AND status = 'blocked'") { $0.rowsAffected == 1 }
  }

  /// The blocks of `propertyID` that overlap `range`, by first day.
  public static func blocks(propertyID: PropertyID, within range: DateRange) -> PGQuery<[DateBlock]> {
    PGQuery(
      """
      SELECT \(Self.blockColumns) FROM bookings
      WHERE property_id = \(propertyID) AND stay && daterange(\(range.checkIn)::date, \(range.checkOut)::date, '[)')
        AND \(Self.holdsDates) AND status = 'blocked'
      ORDER BY check_in
      """
    ) { try $0.decodeAll(Self.decodeBlock) }
  }
}
