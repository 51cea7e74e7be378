/// A listing as a request gives it (create, or the new values of an update): plain values,
/// unchecked. `ListingRules.validate` turns it into a `Listing` or names every field it breaks.
public struct ListingInput: Sendable {
  /// An amount as sent: minor units and a currency code.
  public struct Amount: Hashable, Sendable {
    public var amountMinor: Int64
    public var currency: String

    public init(amountMinor: Int64, currency: String) {
      self.amountMinor = amountMinor
      self.currency = currency
    }
  }

  public var name = ""
  public var description = ""
  public var address = ""
  public var city = ""
  public var country = ""
  public var coordinates: Property.Coordinates?
  public var pricePerNight: Amount?
  public var maxGuests = 0
  /// Empty: UTC.
  public var timeZone = ""
  /// 0: 1.
  public var minNights = 0
  /// 0: the most (365).
  public var maxNights = 0
  public var cleaningFee: Amount?
  public var bookingMode: Requested<Listing.BookingMode> = .unspecified
  public var cancellationPolicy: Requested<Listing.CancellationPolicy> = .unspecified

  public init() {}

  /// The input that stands for `listing` as it is (what an update starts from).
  public init(_ listing: Listing) {
    name = listing.name
    description = listing.description
    address = listing.location.address
    city = listing.location.city
    country = listing.location.country
    coordinates = listing.location.coordinates
    pricePerNight = Amount(
      amountMinor: listing.pricePerNight.amountMinor, currency: listing.pricePerNight.currency.code)
    maxGuests = listing.maxGuests
    timeZone = listing.terms.timeZone
    minNights = listing.terms.minNights
    maxNights = listing.terms.maxNights
    cleaningFee = listing.terms.cleaningFeeMinor.map {
      Amount(amountMinor: $0, currency: listing.pricePerNight.currency.code)
    }
    bookingMode = .value(listing.terms.bookingMode)
    cancellationPolicy = .value(listing.terms.cancellationPolicy)
  }
}
