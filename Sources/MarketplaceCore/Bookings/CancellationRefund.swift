/// How much of a booking's total goes back when it is cancelled.
public enum CancellationRefund {
  /// Who cancels.
  public enum Party: Hashable, Sendable {
    case guest, host
  }

  /// The refund of `total` for a cancellation by `party` `daysBeforeCheckIn` days before check-in
  /// (counted in the listing's time zone; 0 on the check-in day, negative after it) under
  /// `policy`:
  /// - a host's cancellation refunds everything;
  /// - flexible: everything until 1 day before check-in, nothing after;
  /// - moderate: everything until 5 days before, half after;
  /// - strict: half until 7 days before, nothing after.
  ///
  /// Halves round down to the minor unit (the guest never gets more than the policy says).
  public static func amount(
    of total: Money, policy: Listing.CancellationPolicy, cancelledBy party: Party, daysBeforeCheckIn: Int
  ) -> Money {
    let share: (numerator: Int64, denominator: Int64)
    if party == .host {
      share = (1, 1)
    } else {
      switch policy {
      case .flexible: share = daysBeforeCheckIn >= 1 ? (1, 1) : (0, 1)
      case .moderate: share = daysBeforeCheckIn >= 5 ? (1, 1) : (1, 2)
      case .strict: share = daysBeforeCheckIn >= 7 ? (1, 2) : (0, 1)
      }
    }
    return Money(amountMinor: total.amountMinor / share.denominator * share.numerator, currency: total.currency)
  }
}
