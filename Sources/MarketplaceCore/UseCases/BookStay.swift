/// A guest books a stay: which requests are well-formed, and the booking a valid one makes.
public enum BookStay {
  public struct Request: Sendable {
    public var propertyID = ""
    /// The stay's check-in and check-out, when given (either may be missing).
    public var stay: (checkIn: DateInput?, checkOut: DateInput?)?
    public var guests: Int32 = 0

    public init() {}
  }

  /// A well-formed request; whether the listing takes it is `decide`'s.
  public struct Valid: Hashable, Sendable {
    public var propertyID: PropertyID
    public var stay: DateRange
    public var guests: Int
  }

  /// What a booking the listing accepts holds: its price and its payment deadline.
  public struct Decision: Hashable, Sendable {
    public var price: PriceBreakdown
    public var paymentDeadline: Timestamp
  }

  /// The request's values, or every field that is malformed.
  public static func validate(_ request: Request) throws(ValidationError) -> Valid {
    var violations = Violations()
    let propertyID = violations.check("property_id") { () throws(RuleViolation) in
      try PropertyID(validating: request.propertyID)
    }
    let stay = DateRange.validate(
      start: request.stay?.checkIn, end: request.stay?.checkOut, field: "stay", maximumNights: Listing.maximumNights,
      &violations)
    if !(1...Int32(ListingRules.maximumGuests)).contains(request.guests) {
      violations.add("guests", "must be between 1 and \(ListingRules.maximumGuests)")
    }
    try violations.throwIfAny()
    return Valid(propertyID: propertyID!, stay: stay!, guests: Int(request.guests))
  }

  /// The booking `guestID` gets at `listing` at `now`, or the listing's rule it breaks. Whether
  /// the dates are free is the database's to decide, when the booking is stored.
  public static func decide(
    _ request: Valid, at listing: Property, guestID: UserID, now: Timestamp, timeZones: any TimeZoneDirectory,
    paymentWindow: Duration
  ) throws(BookingError) -> Decision {
    let today = timeZones.localDate(at: now, in: listing.terms.timeZone)
    try BookingRules.check(
      stay: request.stay, guests: request.guests, at: listing.listing, hostID: listing.hostID, guestID: guestID,
      today: today)
    return Decision(
      price: try PriceBreakdown.quote(for: request.stay, at: listing.listing),
      paymentDeadline: now.adding(paymentWindow))
  }
}
