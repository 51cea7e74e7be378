/// Why a booking operation was refused, in the domain's words.
public enum BookingError: Error, Hashable, Sendable {
  /// Check-in is before today at the listing (its time zone).
  case checkInInThePast
  /// Fewer nights than the listing's minimum, or more than its maximum (never above 365).
  case stayTooShort(minimum: Int)
  case stayTooLong(maximum: Int)
  /// More guests than the listing takes.
  case tooManyGuests(maximum: Int)
  /// A host booking their own listing.
  case ownListing
  /// The stay overlaps another live booking or dates the host blocked (the database decides).
  case datesUnavailable
  /// The act is not allowed in the booking's current state.
  case invalidTransition(from: Booking.Status, act: BookingAct)
  /// The stay has started (or passed): too late to cancel.
  case stayAlreadyStarted
  case priceOverflow
}
