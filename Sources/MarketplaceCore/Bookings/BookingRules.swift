/// What makes a booking request acceptable, before the database checks the dates are free.
public enum BookingRules {
  /// Throws the first rule `stay` for `guests` breaks at `listing` (hosted by `hostID`), for a
  /// guest `guestID` on `today` (the calendar day at the listing's time zone).
  public static func check(
    stay: DateRange, guests: Int, at listing: Listing, hostID: UserID, guestID: UserID, today: LocalDate
  ) throws(BookingError) {
    guard guestID != hostID else { throw .ownListing }
    guard stay.checkIn >= today else { throw .checkInInThePast }
    let terms = listing.terms
    guard stay.nights >= terms.minNights else { throw .stayTooShort(minimum: terms.minNights) }
    let maximum = min(terms.maxNights, Listing.maximumNights)
    guard stay.nights <= maximum else { throw .stayTooLong(maximum: maximum) }
    guard guests <= listing.maxGuests else { throw .tooManyGuests(maximum: listing.maxGuests) }
  }
}
