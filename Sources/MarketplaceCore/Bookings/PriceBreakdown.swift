/// What a stay costs, computed by the server in integer minor units (never sent by a client):
/// nights x the nightly price, plus the listing's cleaning fee.
public struct PriceBreakdown: Hashable, Sendable {
  public var nights: Int
  public var pricePerNight: Money
  /// nights x pricePerNight.
  public var accommodation: Money
  /// Zero when the listing has none.
  public var cleaningFee: Money
  public var total: Money

  /// The price of `stay` at `listing`'s terms, or `.priceOverflow` when it does not fit in 64 bits
  /// (which the listing's bounds make impossible; checked anyway).
  public static func quote(for stay: DateRange, at listing: Listing) throws(BookingError) -> PriceBreakdown {
    let price = listing.pricePerNight
    guard let accommodation = price.multiplied(by: stay.nights) else { throw .priceOverflow }
    let fee = Money(amountMinor: listing.terms.cleaningFeeMinor ?? 0, currency: price.currency)
    let (total, overflow) = accommodation.amountMinor.addingReportingOverflow(fee.amountMinor)
    guard !overflow else { throw .priceOverflow }
    return PriceBreakdown(
      nights: stay.nights, pricePerNight: price, accommodation: accommodation, cleaningFee: fee,
      total: Money(amountMinor: total, currency: price.currency))
  }
}
