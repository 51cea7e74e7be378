/// What can happen to a booking.
public enum BookingAct: String, Hashable, Sendable, CaseIterable {
  /// Its payment succeeded.
  case paymentSucceeded
  /// The host of a request-to-book listing accepts it.
  case accept
  /// The host declines it, or does not answer in time.
  case decline
  /// The guest or the host cancels it.
  case cancel
  /// Unpaid past its payment deadline.
  case lapse
  /// Its check-out day has passed.
  case complete
}

/// The booking state machine: which act is allowed in which state, and where it leads.
///
/// ```
/// pending --paymentSucceeded--> confirmed            (instant booking)
/// pending --paymentSucceeded--> awaitingHost         (request-to-book; dates stay held)
/// awaitingHost --accept--> confirmed,  --decline--> declined (refunded in full)
/// pending --lapse--> cancelled;  pending, awaitingHost, confirmed --cancel--> cancelled
/// confirmed --complete--> completed
/// ```
public enum BookingLifecycle {
  /// The state after `act` on a booking in `status` at a listing taking bookings `mode`, or
  /// `.invalidTransition`.
  public static func next(
    after act: BookingAct, from status: Booking.Status, mode: Listing.BookingMode
  ) throws(BookingError) -> Booking.Status {
    switch (status, act) {
    case (.pending, .paymentSucceeded): return mode == .instant ? .confirmed : .awaitingHost
    case (.awaitingHost, .accept): return .confirmed
    case (.awaitingHost, .decline): return .declined
    case (.pending, .lapse): return .cancelled
    case (.pending, .cancel), (.awaitingHost, .cancel), (.confirmed, .cancel): return .cancelled
    case (.confirmed, .complete): return .completed
    default: throw .invalidTransition(from: status, act: act)
    }
  }
}
