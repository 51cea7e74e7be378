public import MarketplaceCore
public import Postgres

/// Listings: writes by their host, reads by id, by host, and the guest's search. The index each
/// statement uses is named in 0003_properties.sql (the search's in 0008).
public enum PropertyRepository {
  static let columns = """
    p.id, p.host_id, p.name, p.description, p.address, p.city, p.country, p.latitude, p.longitude,
    p.price_per_night_minor, p.currency, p.max_guests, p.time_zone, p.min_nights, p.max_nights,
    p.cleaning_fee_minor, p.booking_mode, p.cancellation_policy, p.rating_sum, p.rating_count, p.created_at,
    p.updated_at, p.deleted_at
    """
  static let select = SQL(unsafeRaw: "SELECT \(columns) FROM properties p")
  static let returning = SQL(unsafeRaw: " RETURNING \(columns)")

  static func decode(_ row: inout ColumnReader) throws(PGError) -> Property {
    let id: PropertyID = try row.next()
    let hostID: UserID = try row.next()
    let name: String = try row.next()
    let description: String = try row.next()
    let address: String = try row.next()
    let city: String = try row.next()
    let country: String = try row.next()
    let latitude: Double? = try row.optional()
    let longitude: Double? = try row.optional()
    let price: Int64 = try row.next()
    let currency = try row.currency()
    return Property(
      id: id, hostID: hostID, name: name, description: description,
      location: Property.Location(
        address: address, city: city, country: country,
        coordinates: latitude.flatMap { latitude in
          longitude.map { Property.Coordinates(latitude: latitude, longitude: $0) }
        }),
      pricePerNight: Money(amountMinor: price, currency: currency), maxGuests: try row.next(),
      terms: Listing.Terms(
        timeZone: try row.next(), minNights: try row.next(), maxNights: try row.next(),
        cleaningFeeMinor: { (fee: Int64) in fee == 0 ? nil : fee }(try row.next()), bookingMode: try row.value(),
        cancellationPolicy: try row.value()),
      rating: Property.Rating(sum: try row.next(), count: try row.next()),
      createdAt: try row.next(), updatedAt: try row.next(), deletedAt: try row.optional())
  }

  public static func insert(id: PropertyID, hostID: UserID, listing: Listing) -> PGQuery<Property> {
    let location = listing.location
    let terms = listing.terms
    return PGQuery(
      """
      INSERT INTO properties AS p (id, host_id, name, description, address, city, country, latitude,
        longitude, price_per_night_minor, currency, max_guests, time_zone, min_nights, max_nights,
        cleaning_fee_minor, booking_mode, cancellation_policy)
      VALUES (\(id), \(hostID), \(listing.name), \(listing.description), \(location.address),
        \(location.city), \(location.country), \(location.coordinates?.latitude),
        \(location.coordinates?.longitude), \(listing.pricePerNight.amountMinor),
        \(listing.pricePerNight.currency.code), \(listing.maxGuests), \(terms.timeZone), \(terms.minNights),
        \(terms.maxNights), \(terms.cleaningFeeMinor ?? 0), \(terms.bookingMode.rawValue),
        \(terms.cancellationPolicy.rawValue))
      """ + Self.returning
    ) { try $0.decodeOne(Self.decode) }
  }

  /// A listing that is not deleted.
  public static func find(id: PropertyID) -> PGQuery<Property?> {
    PGQuery(Self.select + " WHERE p.id = \(id) AND p.deleted_at IS NULL") { try $0.decodeFirst(Self.decode) }
  }

  /// A listing that is not deleted, its row locked until the transaction ends: a deletion's
  /// check for upcoming bookings cannot race a booking that locks it too (`FOR SHARE`).
  public static func findForUpdate(id: PropertyID) -> PGQuery<Property?> {
    PGQuery(Self.select + " WHERE p.id = \(id) AND p.deleted_at IS NULL FOR UPDATE") {
      try $0.decodeFirst(Self.decode)
    }
  }

  /// A listing that is not deleted, its row locked to share until the transaction ends: a
  /// booking made under it cannot be missed by a deletion's check (`findForUpdate`).
  public static func findForShare(id: PropertyID) -> PGQuery<Property?> {
    PGQuery(Self.select + " WHERE p.id = \(id) AND p.deleted_at IS NULL FOR SHARE") {
      try $0.decodeFirst(Self.decode)
    }
  }

  /// Replaces what the host sets; nil if the listing is deleted (or unknown).
  public static func update(id: PropertyID, listing: Listing) -> PGQuery<Property?> {
    let location = listing.location
    let terms = listing.terms
    return PGQuery(
      """
      UPDATE properties AS p SET name = \(listing.name), description = \(listing.description),
        address = \(location.address), city = \(location.city), country = \(location.country),
        latitude = \(location.coordinates?.latitude), longitude = \(location.coordinates?.longitude),
        price_per_night_minor = \(listing.pricePerNight.amountMinor),
        currency = \(listing.pricePerNight.currency.code), max_guests = \(listing.maxGuests),
        time_zone = \(terms.timeZone), min_nights = \(terms.minNights), max_nights = \(terms.maxNights),
        cleaning_fee_minor = \(terms.cleaningFeeMinor ?? 0), booking_mode = \(terms.bookingMode.rawValue),
        cancellation_policy = \(terms.cancellationPolicy.rawValue), updated_at = now()
      WHERE p.id = \(id) AND p.deleted_at IS NULL
      """ + Self.returning
    ) { try $0.decodeFirst(Self.decode) }
  }

  /// Soft-deletes; false if it was deleted already (or unknown).
  public static func delete(id: PropertyID) -> PGQuery<Bool> {
    PGQuery(
      "UPDATE properties SET deleted_at = now(), updated_at = now() WHERE id = \(id) AND deleted_at IS NULL"
    ) { $0.rowsAffected == 1 }
  }

  /// Where a page of a host's listings ended: the last one's creation time and id.
  public struct HostCursor: Hashable, Sendable {
    public var createdAt: Timestamp
    public var id: PropertyID

    public init(createdAt: Timestamp, id: PropertyID) {
      self.createdAt = createdAt
      self.id = id
    }
  }

  /// A host's listings, newest first (deleted ones too when asked), one page after `after`.
  public static func list(hostID: UserID, includingDeleted: Bool, after: HostCursor? = nil, limit: Int)
    -> PGQuery<[Property]>
  {
    var sql = Self.select + " WHERE p.host_id = \(hostID)"
    if !includingDeleted { sql.append(" AND p.deleted_at IS NULL") }
    if let after { sql.append(" AND (p.created_at, p.id) < (\(after.createdAt)::timestamptz, \(after.id)::uuid)") }
    sql.append(" ORDER BY p.created_at DESC, p.id DESC LIMIT \(limit)")
    return PGQuery(sql) { try $0.decodeAll(Self.decode) }
  }

  /// The guest's search: listings that are not deleted, in the place, currency, price range,
  /// party size and minimum rating asked, free for the whole stay if one is given, in the order
  /// asked (then by id), one page.
  ///
  /// The statement's text depends only on which filters are present (place: city, country, both
  /// or neither; a currency or not; a stay or not; a cursor or not) and the order, so there are 96
  /// shapes, and each has an index path (the EXPLAIN test runs them all): every place and order has an index that leads with the place and holds listings
  /// in page order (0011), so nothing is sorted and LIMIT stops the scan; a country given with a
  /// city is checked on the city's rows. Price bounds, guests and the minimum rating are always
  /// bound (defaults 0, Int64.max, 1, 0), as index conditions; free dates are an anti-join
  /// probing bookings_no_overlap's GiST index per candidate.
  public static func search(_ search: PropertySearch) -> PGQuery<[Property]> {
    var sql = Self.select + " WHERE p.deleted_at IS NULL"
    if let city = search.city {
      sql.append(" AND lower(p.city) = lower(\(city))")
      // Not `p.country = ...`: that would let a generic plan pick the country index (0008).
      if let country = search.country { sql.append(" AND upper(p.country) = upper(\(country))") }
    } else if let country = search.country {
      sql.append(" AND p.country = \(country)")
    }
    if let currency = search.currency { sql.append(" AND p.currency = \(currency.code)") }
    sql.append(
      """
       AND p.price_per_night_minor BETWEEN \(search.minPricePerNightMinor ?? 0) \
      AND \(search.maxPricePerNightMinor ?? .max) AND p.max_guests >= \(search.guests) \
      AND p.rating_average >= \(search.minRating)
      """)
    if let stay = search.stay {
      sql.append(
        """
         AND NOT EXISTS (SELECT 1 FROM bookings b WHERE b.property_id = p.id \
        AND b.stay && daterange(\(stay.checkIn)::date, \(stay.checkOut)::date, '[)') \
        AND b.status IN ('pending', 'awaiting_host', 'confirmed', 'blocked'))
        """)
    }
    switch search.after {
    case .price(let price, let id)?: sql.append(" AND (p.price_per_night_minor, p.id) > (\(price), \(id)::uuid)")
    case .rating(let rating, let id)?: sql.append(" AND (p.rating_average, p.id) < (\(rating), \(id)::uuid)")
    case .newest(let createdAt, let id)?:
      sql.append(" AND (p.created_at, p.id) < (\(createdAt)::timestamptz, \(id)::uuid)")
    case nil: break
    }
    switch search.order {
    case .price: sql.append(" ORDER BY p.price_per_night_minor, p.id")
    case .rating: sql.append(" ORDER BY p.rating_average DESC, p.id DESC")
    case .newest: sql.append(" ORDER BY p.created_at DESC, p.id DESC")
    }
    sql.append(" LIMIT \(search.limit)")
    let query = PGQuery(sql) { try $0.decodeAll(Self.decode) }
    // By price, every bound is on the order's index (price) or checked in it: one plan fits all
    // values, prepared once. By rating or age, the best path depends on how selective the price
    // bounds and the minimum rating are (the order's index, or the price index and a sort of a
    // few matches): a generic plan cannot see them, so those shapes are planned per execution.
    return search.order == .price ? query : query.plannedPerExecution()
  }
}
