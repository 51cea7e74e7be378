import MarketplaceCore
import Testing

@Suite("Booking rules")
struct BookingRulesTests {
  static let eur = CurrencyCode("EUR")!
  static let today = LocalDate(year: 2030, month: 6, day: 1)!

  static func listing(minNights: Int = 2, maxNights: Int = 14, fee: Int64? = 2_500) -> Listing {
    Listing(
      name: "Loft", description: "", location: .init(address: "1 rue", city: "Paris", country: "FR", coordinates: nil),
      pricePerNight: Money(amountMinor: 12_000, currency: eur), maxGuests: 3,
      terms: .init(timeZone: "Europe/Paris", minNights: minNights, maxNights: maxNights, cleaningFeeMinor: fee))
  }

  static func stay(_ fromToday: Int, nights: Int) -> DateRange {
    DateRange(checkIn: today.adding(days: fromToday), checkOut: today.adding(days: fromToday + nights))!
  }

  @Test("the price is nights x the nightly price plus the cleaning fee, in minor units")
  func pricing() throws {
    let quote = try PriceBreakdown.quote(for: Self.stay(10, nights: 3), at: Self.listing())
    #expect(quote.nights == 3 && quote.accommodation.amountMinor == 36_000 && quote.cleaningFee.amountMinor == 2_500)
    #expect(quote.total == Money(amountMinor: 38_500, currency: Self.eur))
    let noFee = try PriceBreakdown.quote(for: Self.stay(10, nights: 1), at: Self.listing(fee: nil))
    #expect(noFee.total.amountMinor == 12_000 && noFee.cleaningFee.amountMinor == 0)
    var dear = Self.listing()
    dear.pricePerNight = Money(amountMinor: .max / 2, currency: Self.eur)
    #expect(throws: BookingError.priceOverflow) { try PriceBreakdown.quote(for: Self.stay(10, nights: 3), at: dear) }
  }

  @Test("a request is checked against the listing's terms, today at the place, and its host")
  func requests() {
    let host = UserID.random()
    let guest = UserID.random()
    func check(_ stay: DateRange, guests: Int = 2, by booker: UserID = guest) throws(BookingError) {
      try BookingRules.check(
        stay: stay, guests: guests, at: Self.listing(), hostID: host, guestID: booker, today: Self.today)
    }
    #expect(throws: Never.self) { try check(Self.stay(0, nights: 2)) }  // checking in today is fine
    #expect(throws: Never.self) { try check(Self.stay(30, nights: 14)) }
    #expect(throws: BookingError.checkInInThePast) { try check(Self.stay(-1, nights: 3)) }
    #expect(throws: BookingError.stayTooShort(minimum: 2)) { try check(Self.stay(5, nights: 1)) }
    #expect(throws: BookingError.stayTooLong(maximum: 14)) { try check(Self.stay(5, nights: 15)) }
    #expect(throws: BookingError.tooManyGuests(maximum: 3)) { try check(Self.stay(5, nights: 2), guests: 4) }
    #expect(throws: BookingError.ownListing) { try check(Self.stay(5, nights: 2), by: host) }
  }

  @Test("every transition of the state machine, allowed or not")
  func lifecycle() {
    let allowed: [Booking.Status: [BookingAct: Booking.Status]] = [
      .pending: [.paymentSucceeded: .confirmed, .lapse: .cancelled, .cancel: .cancelled],
      .awaitingHost: [.accept: .confirmed, .decline: .declined, .cancel: .cancelled],
      .confirmed: [.cancel: .cancelled, .complete: .completed],
    ]
    for status in Booking.Status.allCases {
      for act in BookingAct.allCases {
        let outcome = Result { () throws(BookingError) in
          try BookingLifecycle.next(after: act, from: status, mode: .instant)
        }
        if let expected = allowed[status]?[act] {
          #expect((try? outcome.get()) == expected, "\(status) --\(act)-->")
        } else {
          #expect(throws: BookingError.invalidTransition(from: status, act: act)) { try outcome.get() }
        }
      }
    }
    // On a request-to-book listing a paid booking waits for the host, holding its dates.
    let paid = try? BookingLifecycle.next(after: .paymentSucceeded, from: .pending, mode: .request)
    #expect(paid == .awaitingHost && paid?.holdsDates == true)
    #expect(Booking.Status.allCases.filter(\.isFinal) == [.cancelled, .completed, .declined])
  }

  @Test(
    "refunds at each boundary day, by policy and by who cancels",
    arguments: [
      (Listing.CancellationPolicy.flexible, 1, 10_000), (.flexible, 0, 0), (.flexible, -1, 0),
      (.moderate, 5, 10_000), (.moderate, 4, 5_000), (.moderate, 0, 5_000),
      (.strict, 7, 5_000), (.strict, 6, 0), (.strict, 30, 5_000),
    ])
  func refunds(_ policy: Listing.CancellationPolicy, _ days: Int, _ expected: Int64) {
    let total = Money(amountMinor: 10_000, currency: Self.eur)
    #expect(
      CancellationRefund.amount(of: total, policy: policy, cancelledBy: .guest, daysBeforeCheckIn: days).amountMinor
        == expected)
    #expect(CancellationRefund.amount(of: total, policy: policy, cancelledBy: .host, daysBeforeCheckIn: days) == total)
  }

  @Test("a half refund of an odd amount rounds down to the minor unit")
  func rounding() {
    let odd = Money(amountMinor: 10_001, currency: Self.eur)
    #expect(
      CancellationRefund.amount(of: odd, policy: .moderate, cancelledBy: .guest, daysBeforeCheckIn: 0).amountMinor
        == 5_000)
  }
}
