/// What the guest or the host may do to a booking once it exists, and what follows: its next
/// status and the money that goes back.
public enum ChangeBooking {
  /// A change decided: the status the booking moves to, and the refund owed to the guest (zero
  /// when nothing was paid).
  public struct Outcome: Hashable, Sendable {
    public var status: Booking.Status
    public var refund: Money
  }

  /// A cancellation by `party` on `today` (at the listing) of `booking`, of which `paid` was
  /// charged (nil: nothing yet). Before check-in only. The listing's `policy` sets a confirmed
  /// booking's refund; a booking the host has not accepted yet is refunded in full, as is any
  /// cancellation by the host.
  public static func cancel(
    _ booking: Booking, by party: CancellationRefund.Party, policy: Listing.CancellationPolicy, today: LocalDate,
    paid: Money?
  ) throws(BookingError) -> Outcome {
    let status = try BookingLifecycle.next(after: .cancel, from: booking.status, mode: .instant)
    guard today < booking.stay.checkIn else { throw .stayAlreadyStarted }
    guard let paid else {
      return Outcome(status: status, refund: Money(amountMinor: 0, currency: booking.totalPrice.currency))
    }
    let refund =
      booking.status == .confirmed
      ? CancellationRefund.amount(
        of: paid, policy: policy, cancelledBy: party,
        daysBeforeCheckIn: booking.stay.checkIn.daysSinceEpoch - today.daysSinceEpoch)
      : paid
    return Outcome(status: status, refund: refund)
  }

  /// The host's answer to a request-to-book `booking` that was paid `paid`: accepted, it is
  /// confirmed; declined, refunded in full.
  public static func answer(_ booking: Booking, accept: Bool, paid: Money?) throws(BookingError) -> Outcome {
    let status = try BookingLifecycle.next(
      after: accept ? .accept : .decline, from: booking.status, mode: .request)
    let zero = Money(amountMinor: 0, currency: booking.totalPrice.currency)
    return Outcome(status: status, refund: accept ? zero : paid ?? zero)
  }
}

/// The host closes dates of a listing to bookings.
public enum BlockDates {
  /// The longest range a block or an availability window spans.
  public static let maximumDays = 366

  /// The range `start`..`end` in the request field `field`, or every rule it breaks.
  public static func validate(start: DateInput?, end: DateInput?, field: String) throws(ValidationError) -> DateRange {
    var violations = Violations()
    let range = DateRange.validate(start: start, end: end, field: field, maximumNights: maximumDays, &violations)
    try violations.throwIfAny()
    return range!
  }

  /// Throws unless `dates` may be blocked on `today` (at the listing): none of them is past.
  public static func check(_ dates: DateRange, today: LocalDate) throws(BookingError) {
    guard dates.checkIn >= today else { throw .checkInInThePast }
  }
}
