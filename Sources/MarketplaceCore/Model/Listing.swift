/// What a host sets on a listing: the place, its price and capacity, and the terms bookings
/// follow. The server adds the rest (`Property`: id, host, rating, times).
public struct Listing: Hashable, Sendable {
  public var name: String
  public var description: String
  public var location: Property.Location
  public var pricePerNight: Money
  public var maxGuests: Int
  public var terms: Terms

  public init(
    name: String, description: String, location: Property.Location, pricePerNight: Money, maxGuests: Int,
    terms: Terms = Terms()
  ) {
    self.name = name
    self.description = description
    self.location = location
    self.pricePerNight = pricePerNight
    self.maxGuests = maxGuests
    self.terms = terms
  }

  /// The rules a booking of the listing follows (enforced by the booking rules).
  public struct Terms: Hashable, Sendable {
    /// IANA name ("Europe/Paris"): which calendar day is "today" at the place.
    public var timeZone: String
    public var minNights: Int
    public var maxNights: Int
    /// Once per stay, in the nightly price's currency; nil for none.
    public var cleaningFeeMinor: Int64?
    public var bookingMode: BookingMode
    public var cancellationPolicy: CancellationPolicy

    public init(
      timeZone: String = "UTC", minNights: Int = 1, maxNights: Int = Listing.maximumNights,
      cleaningFeeMinor: Int64? = nil, bookingMode: BookingMode = .instant,
      cancellationPolicy: CancellationPolicy = .flexible
    ) {
      self.timeZone = timeZone
      self.minNights = minNights
      self.maxNights = maxNights
      self.cleaningFeeMinor = cleaningFeeMinor
      self.bookingMode = bookingMode
      self.cancellationPolicy = cancellationPolicy
    }
  }

  /// No stay is longer than a year.
  public static let maximumNights = 365

  /// How a paid booking becomes confirmed.
  public enum BookingMode: String, Hashable, Sendable, CaseIterable {
    /// At once.
    case instant
    /// When the host accepts it.
    case request
  }

  /// How much of a cancelled booking is refunded, by days left before check-in.
  public enum CancellationPolicy: String, Hashable, Sendable, CaseIterable {
    /// In full until 1 day before check-in; nothing after.
    case flexible
    /// In full until 5 days before; half after.
    case moderate
    /// Half until 7 days before; nothing after.
    case strict
  }
}
