/// A guest's stay at a property. Its lifecycle is `BookingLifecycle`'s.
public struct Booking: Hashable, Sendable {
  public enum Status: String, Hashable, Sendable, CaseIterable {
    case pending, confirmed, cancelled, completed
    /// Paid, on a request-to-book listing: waiting for the host to accept or decline.
    case awaitingHost = "awaiting_host"
    /// Declined by the host (or unanswered in time): refunded in full.
    case declined

    /// Whether the booking holds its dates (no other live booking may overlap it).
    public var holdsDates: Bool { self == .pending || self == .awaitingHost || self == .confirmed }

    /// Whether nothing more can happen to it.
    public var isFinal: Bool { self == .cancelled || self == .completed || self == .declined }
  }

  public var id: BookingID
  public var propertyID: PropertyID
  public var guestID: UserID
  public var stay: DateRange
  public var guests: Int
  public var totalPrice: Money
  /// The part of `totalPrice` that is the listing's cleaning fee (zero for none).
  public var cleaningFee: Money
  public var status: Status
  /// When an unpaid (pending) booking lapses; nil once paid or ended.
  public var expiresAt: Timestamp?
  public var createdAt: Timestamp
  public var updatedAt: Timestamp

  public init(
    id: BookingID, propertyID: PropertyID, guestID: UserID, stay: DateRange, guests: Int,
    totalPrice: Money, cleaningFee: Money? = nil, status: Status, expiresAt: Timestamp?, createdAt: Timestamp,
    updatedAt: Timestamp
  ) {
    self.id = id
    self.propertyID = propertyID
    self.guestID = guestID
    self.stay = stay
    self.guests = guests
    self.totalPrice = totalPrice
    self.cleaningFee = cleaningFee ?? Money(amountMinor: 0, currency: totalPrice.currency)
    self.status = status
    self.expiresAt = expiresAt
    self.createdAt = createdAt
    self.updatedAt = updatedAt
  }
}

extension Booking {
  /// How `totalPrice` was made up when the booking was priced (the listing's price may have
  /// changed since): exact, because the total is nights x the nightly price + the fee.
  public var price: PriceBreakdown {
    let accommodation = Money(
      amountMinor: totalPrice.amountMinor - cleaningFee.amountMinor, currency: totalPrice.currency)
    return PriceBreakdown(
      nights: stay.nights,
      pricePerNight: Money(amountMinor: accommodation.amountMinor / Int64(stay.nights), currency: totalPrice.currency),
      accommodation: accommodation, cleaningFee: cleaningFee, total: totalPrice)
  }
}

/// Dates a host closed to bookings. Held by the same database constraint as bookings, so a block
/// and a booking never overlap either.
public struct DateBlock: Hashable, Sendable {
  public var id: BookingID
  public var propertyID: PropertyID
  public var dates: DateRange
  public var createdAt: Timestamp

  public init(id: BookingID, propertyID: PropertyID, dates: DateRange, createdAt: Timestamp) {
    self.id = id
    self.propertyID = propertyID
    self.dates = dates
    self.createdAt = createdAt
  }
}
