import MarketplaceCore
import Testing

@Suite("Booking, payment and review use cases")
struct BookingUseCasesTests {
  static let eur = BookingRulesTests.eur
  static let host = UserID.random()
  static let guest = UserID.random()
  /// 2030-06-01T10:00:00Z: the same day in Paris and Tokyo.
  static let now = Timestamp(
    microsecondsSinceEpoch: (Int64(BookingRulesTests.today.daysSinceEpoch) * 86_400 + 36_000) * 1_000_000)

  static func property(timeZone: String = "Europe/Paris", fee: Int64? = 2_500) -> Property {
    let listing = BookingRulesTests.listing(fee: fee)
    var terms = listing.terms
    terms.timeZone = timeZone
    return Property(
      id: .random(), hostID: host, name: listing.name, description: "", location: listing.location,
      pricePerNight: listing.pricePerNight, maxGuests: listing.maxGuests, terms: terms,
      rating: .init(sum: 0, count: 0), createdAt: now, updatedAt: now, deletedAt: nil)
  }

  static func booking(_ status: Booking.Status, checkInInDays: Int = 10, nights: Int = 3) -> Booking {
    let stay = BookingRulesTests.stay(checkInInDays, nights: nights)
    return Booking(
      id: .random(), propertyID: .random(), guestID: guest, stay: stay, guests: 2,
      totalPrice: Money(amountMinor: Int64(nights) * 12_000 + 2_500, currency: eur),
      cleaningFee: Money(amountMinor: 2_500, currency: eur), status: status, expiresAt: now, createdAt: now,
      updatedAt: now)
  }

  static func request(_ change: (inout BookStay.Request) -> Void = { _ in }) -> BookStay.Request {
    var request = BookStay.Request()
    request.propertyID = PropertyID.random().description
    request.stay = (DateInput(year: 2030, month: 6, day: 11), DateInput(year: 2030, month: 6, day: 14))
    request.guests = 2
    change(&request)
    return request
  }

  @Test("a booking request names every malformed field")
  func bookingValidation() throws {
    let valid = try BookStay.validate(Self.request())
    #expect(valid.stay.nights == 3 && valid.guests == 2)
    let error = #expect(throws: ValidationError.self) {
      try BookStay.validate(
        Self.request {
          $0.propertyID = "nope"
          $0.stay = (DateInput(year: 2030, month: 2, day: 30), nil)
          $0.guests = 0
        })
    }
    #expect(error?.violations.map(\.field) == ["property_id", "stay.start", "stay.end", "guests"])
    let backwards = #expect(throws: ValidationError.self) {
      try BookStay.validate(
        Self.request { $0.stay = (DateInput(year: 2030, month: 6, day: 14), DateInput(year: 2030, month: 6, day: 11)) })
    }
    #expect(backwards?.violations.map(\.field) == ["stay.end"])
  }

  @Test("the server prices the stay and sets the payment deadline; today is the listing's")
  func bookingDecision() throws {
    let valid = try BookStay.validate(Self.request())
    let decision = try BookStay.decide(
      valid, at: Self.property(), guestID: Self.guest, now: Self.now, timeZones: KnownTimeZones(),
      paymentWindow: .seconds(900))
    #expect(decision.price.total.amountMinor == 3 * 12_000 + 2_500)
    #expect(decision.paymentDeadline == Self.now.adding(.seconds(900)))
    // 2030-06-01T20:00Z is already the 2nd in Tokyo: a stay from the 1st starts in the past there.
    let evening = Self.now.adding(.seconds(10 * 3600))
    let fromToday = try BookStay.validate(
      Self.request { $0.stay = (DateInput(year: 2030, month: 6, day: 1), DateInput(year: 2030, month: 6, day: 4)) })
    #expect(throws: Never.self) {
      try BookStay.decide(
        fromToday, at: Self.property(), guestID: Self.guest, now: evening, timeZones: KnownTimeZones(),
        paymentWindow: .seconds(900))
    }
    #expect(throws: BookingError.checkInInThePast) {
      try BookStay.decide(
        fromToday, at: Self.property(timeZone: "Asia/Tokyo"), guestID: Self.guest, now: evening,
        timeZones: KnownTimeZones(), paymentWindow: .seconds(900))
    }
    #expect(throws: BookingError.ownListing) {
      try BookStay.decide(
        valid, at: Self.property(), guestID: Self.host, now: Self.now, timeZones: KnownTimeZones(),
        paymentWindow: .seconds(900))
    }
  }

  @Test("the price breakdown of a stored booking is exact")
  func storedPrice() {
    let price = Self.booking(.confirmed, nights: 4).price
    #expect(price.nights == 4 && price.pricePerNight.amountMinor == 12_000)
    #expect(price.accommodation.amountMinor == 48_000 && price.cleaningFee.amountMinor == 2_500)
    #expect(price.total.amountMinor == 50_500)
  }

  @Test("a cancellation refunds by the policy for a confirmed stay, in full for a request or the host's")
  func cancellation() throws {
    let today = BookingRulesTests.today
    let paid = Money(amountMinor: 38_500, currency: Self.eur)
    func refund(_ status: Booking.Status, by party: CancellationRefund.Party, inDays days: Int) throws -> Int64 {
      try ChangeBooking.cancel(
        Self.booking(status, checkInInDays: days), by: party, policy: .moderate, today: today, paid: paid
      ).refund.amountMinor
    }
    #expect(try refund(.confirmed, by: .guest, inDays: 5) == 38_500)
    #expect(try refund(.confirmed, by: .guest, inDays: 4) == 19_250)
    #expect(try refund(.confirmed, by: .host, inDays: 1) == 38_500)
    #expect(try refund(.awaitingHost, by: .guest, inDays: 1) == 38_500)
    let unpaid = try ChangeBooking.cancel(
      Self.booking(.pending), by: .guest, policy: .strict, today: today, paid: nil)
    #expect(unpaid.status == .cancelled && unpaid.refund.amountMinor == 0)
    #expect(throws: BookingError.stayAlreadyStarted) { try refund(.confirmed, by: .guest, inDays: 0) }
    #expect(throws: BookingError.invalidTransition(from: .completed, act: .cancel)) {
      try refund(.completed, by: .guest, inDays: 3)
    }
  }

  @Test("the host's answer: accepted is confirmed; declined is refunded in full; only a request is answered")
  func answers() throws {
    let paid = Money(amountMinor: 38_500, currency: Self.eur)
    let accepted = try ChangeBooking.answer(Self.booking(.awaitingHost), accept: true, paid: paid)
    #expect(accepted.status == .confirmed && accepted.refund.amountMinor == 0)
    let declined = try ChangeBooking.answer(Self.booking(.awaitingHost), accept: false, paid: paid)
    #expect(declined.status == .declined && declined.refund == paid)
    #expect(throws: BookingError.invalidTransition(from: .pending, act: .accept)) {
      try ChangeBooking.answer(Self.booking(.pending), accept: true, paid: nil)
    }
  }

  @Test("blocks are at most 366 days and never in the past")
  func blocks() throws {
    let today = BookingRulesTests.today
    let dates = try BlockDates.validate(
      start: DateInput(year: 2030, month: 6, day: 1), end: DateInput(year: 2031, month: 6, day: 2), field: "dates")
    #expect(dates.nights == 366)
    #expect(throws: Never.self) { try BlockDates.check(dates, today: today) }
    #expect(throws: BookingError.checkInInThePast) { try BlockDates.check(dates, today: today.adding(days: 1)) }
    let tooLong = #expect(throws: ValidationError.self) {
      try BlockDates.validate(
        start: DateInput(year: 2030, month: 6, day: 1), end: DateInput(year: 2031, month: 6, day: 3), field: "window")
    }
    #expect(tooLong?.violations.map(\.field) == ["window.end"])
  }

  @Test("who sees and does what to a booking: others get NOT_FOUND")
  func access() throws {
    let booking = Self.booking(.pending)
    func caller(_ id: UserID, _ role: User.Role = .guest) -> Caller {
      .user(Principal(userID: id, role: role, sessionID: .random()))
    }
    func check(_ act: AccessPolicy.BookingAct, _ who: Caller) throws(AccessError) -> CancellationRefund.Party {
      try AccessPolicy.check(act, by: who, onBooking: booking, hostID: Self.host, id: booking.id)
    }
    #expect(try check(.read, caller(Self.guest)) == .guest)
    #expect(try check(.cancel, caller(Self.host, .host)) == .host)
    #expect(try check(.answer, caller(UserID.random(), .admin)) == .host)
    #expect(throws: AccessError.notFound(what: "booking \(booking.id)")) { try check(.read, caller(UserID.random())) }
    #expect(throws: AccessError.signInRequired) { try check(.read, .anonymous) }
    #expect(throws: AccessError.self) { try check(.pay, caller(Self.host, .host)) }
    #expect(throws: AccessError.self) { try check(.answer, caller(Self.guest)) }
    #expect(throws: AccessError.notFound(what: "booking \(booking.id)")) {
      try AccessPolicy.check(.read, by: caller(Self.guest), onBooking: nil, hostID: nil, id: booking.id)
    }
  }

  @Test("a payment request is checked, and a retry told from a reused key by its fingerprint")
  func payments() throws {
    var request = PayBooking.Request()
    request.bookingID = BookingID.random().description
    request.methodToken = "pm_sandbox_ok"
    request.idempotencyKey = "key-1"
    request.amount = (38_500, "EUR")
    let valid = try PayBooking.validate(request)
    var booking = Self.booking(.pending)
    #expect(throws: Never.self) { try PayBooking.check(valid, for: booking) }
    booking.totalPrice.amountMinor += 1
    #expect(throws: PaymentError.amountMismatch(expected: booking.totalPrice)) {
      try PayBooking.check(valid, for: booking)
    }
    #expect(throws: PaymentError.bookingNotPayable(.confirmed)) {
      try PayBooking.check(valid, for: Self.booking(.confirmed))
    }
    var other = request
    other.methodToken = "pm_sandbox_declined"
    #expect(try PayBooking.validate(other).canonicalParameters != valid.canonicalParameters)
    var bad = PayBooking.Request()
    bad.idempotencyKey = String(repeating: "k", count: 256)
    bad.amount = (0, "eur")
    let error = #expect(throws: ValidationError.self) { try PayBooking.validate(bad) }
    #expect(
      error?.violations.map(\.field) == [
        "booking_id", "payment_method_token", "idempotency_key", "amount.amount_minor",
      ])
  }

  @Test("a review: rating 1 to 5, a bounded comment, a completed stay within the window")
  func reviews() throws {
    var request = WriteReview.Request()
    request.bookingID = BookingID.random().description
    request.rating = 5
    request.comment = "  Lovely  "
    #expect(try WriteReview.validate(request).comment == "Lovely")
    request.rating = 6
    request.comment = String(repeating: "x", count: 2_001)
    let error = #expect(throws: ValidationError.self) { try WriteReview.validate(request) }
    #expect(error?.violations.map(\.field) == ["rating", "comment"])
    let stay = Self.booking(.completed, checkInInDays: -10, nights: 3)  // checked out 7 days ago
    let today = BookingRulesTests.today
    #expect(throws: Never.self) { try WriteReview.check(stay, today: today, windowDays: 7) }
    #expect(throws: ReviewError.windowClosed(days: 6)) { try WriteReview.check(stay, today: today, windowDays: 6) }
    #expect(throws: ReviewError.stayNotCompleted) {
      try WriteReview.check(Self.booking(.confirmed), today: today, windowDays: 14)
    }
  }
}
