import MarketplaceCore
import Testing

/// A fixed directory: Tokyo is UTC+9 (no daylight saving), the others are taken as UTC.
struct KnownTimeZones: TimeZoneDirectory {
  func contains(_ identifier: String) -> Bool { ["UTC", "Europe/Paris", "Asia/Tokyo"].contains(identifier) }

  func localDate(at instant: Timestamp, in identifier: String) -> LocalDate {
    instant.adding(.seconds(offsetSeconds(identifier))).utcDate
  }

  func startOfDay(_ date: LocalDate, in identifier: String) -> Timestamp {
    Timestamp(microsecondsSinceEpoch: Int64(date.daysSinceEpoch) * 86_400_000_000).adding(
      .seconds(-offsetSeconds(identifier)))
  }

  private func offsetSeconds(_ identifier: String) -> Int64 { identifier == "Asia/Tokyo" ? 9 * 3600 : 0 }
}

@Suite("Listing rules")
struct ListingRulesTests {
  static func input(_ change: (inout ListingInput) -> Void = { _ in }) -> ListingInput {
    var input = ListingInput()
    input.name = " Loft "
    input.address = "12 quai de Jemmapes"
    input.city = "Paris"
    input.country = "fr"
    input.pricePerNight = .init(amountMinor: 12_000, currency: "eur")
    input.maxGuests = 3
    change(&input)
    return input
  }

  static func fields(_ input: ListingInput) -> [String] {
    do {
      _ = try ListingRules.validate(input, timeZones: KnownTimeZones())
      return []
    } catch {
      return error.violations.map(\.field)
    }
  }

  @Test("a valid listing: trimmed, codes upper-cased, terms defaulted")
  func valid() throws {
    let listing = try ListingRules.validate(Self.input(), timeZones: KnownTimeZones())
    #expect(listing.name == "Loft" && listing.location.country == "FR" && listing.pricePerNight.currency.code == "EUR")
    #expect(listing.terms == Listing.Terms())
    #expect(listing.terms.timeZone == "UTC" && listing.terms.minNights == 1 && listing.terms.maxNights == 365)
    let fee = try ListingRules.validate(
      Self.input { $0.cleaningFee = .init(amountMinor: 0, currency: "") }, timeZones: KnownTimeZones())
    #expect(fee.terms.cleaningFeeMinor == nil, "a zero fee is no fee")
  }

  @Test("each rule names its field")
  func rules() {
    let cases: [((inout ListingInput) -> Void, String)] = [
      ({ (i: inout ListingInput) in i.name = "  " }, "property.name"),
      ({ (i: inout ListingInput) in i.name = String(repeating: "n", count: 201) }, "property.name"),
      ({ (i: inout ListingInput) in i.description = String(repeating: "d", count: 5_001) }, "property.description"),
      ({ (i: inout ListingInput) in i.address = "" }, "property.address"),
      ({ (i: inout ListingInput) in i.city = "Par\u{0}is" }, "property.city"),
      ({ (i: inout ListingInput) in i.country = "FRA" }, "property.country"),
      (
        { (i: inout ListingInput) in i.coordinates = .init(latitude: 90.5, longitude: 0) },
        "property.coordinates.latitude"
      ),
      (
        { (i: inout ListingInput) in i.coordinates = .init(latitude: 0, longitude: .nan) },
        "property.coordinates.longitude"
      ),
      ({ (i: inout ListingInput) in i.pricePerNight = nil }, "property.price_per_night"),
      ({ (i: inout ListingInput) in i.pricePerNight?.amountMinor = 0 }, "property.price_per_night.amount_minor"),
      (
        { (i: inout ListingInput) in i.pricePerNight?.amountMinor = 100_000_001 },
        "property.price_per_night.amount_minor"
      ),
      ({ (i: inout ListingInput) in i.pricePerNight?.currency = "EURO" }, "property.price_per_night.currency"),
      ({ (i: inout ListingInput) in i.maxGuests = 0 }, "property.max_guests"),
      ({ (i: inout ListingInput) in i.maxGuests = 101 }, "property.max_guests"),
      ({ (i: inout ListingInput) in i.timeZone = "CET" }, "property.time_zone"),
      ({ (i: inout ListingInput) in i.minNights = 366 }, "property.min_nights"),
      (
        { (i: inout ListingInput) in
          i.minNights = 7
          i.maxNights = 6
        }, "property.max_nights"
      ),
      (
        { (i: inout ListingInput) in i.cleaningFee = .init(amountMinor: -1, currency: "EUR") },
        "property.cleaning_fee.amount_minor"
      ),
      (
        { (i: inout ListingInput) in i.cleaningFee = .init(amountMinor: 100, currency: "USD") },
        "property.cleaning_fee.currency"
      ),
      ({ (i: inout ListingInput) in i.bookingMode = .unrecognized }, "property.booking_mode"),
      ({ (i: inout ListingInput) in i.cancellationPolicy = .unrecognized }, "property.cancellation_policy"),
    ]
    for (change, field) in cases {
      #expect(Self.fields(Self.input(change)) == [field])
    }
  }

  @Test("an update merges the masked fields and checks the whole; unknown and server paths are refused")
  func updates() throws {
    let current = try ListingRules.validate(
      Self.input {
        $0.minNights = 2
        $0.cleaningFee = .init(amountMinor: 2_000, currency: "EUR")
      }, timeZones: KnownTimeZones())
    var values = ListingInput()
    values.pricePerNight = .init(amountMinor: 9_000, currency: "usd")
    values.city = "Ignored"
    let repriced = try UpdateListing.validate(
      mask: ["price_per_night", "price_per_night"], values: values, current: current, timeZones: KnownTimeZones())
    #expect(repriced.fields == [.pricePerNight])
    #expect(repriced.listing.pricePerNight == Money(amountMinor: 9_000, currency: CurrencyCode("USD")!))
    #expect(repriced.listing.terms.cleaningFeeMinor == 2_000 && repriced.listing.location.city == "Paris")

    let noFee = try UpdateListing.validate(
      mask: ["cleaning_fee"], values: ListingInput(), current: current, timeZones: KnownTimeZones())
    #expect(noFee.listing.terms.cleaningFeeMinor == nil)
    let nothing = try UpdateListing.validate(mask: [], values: values, current: current, timeZones: KnownTimeZones())
    #expect(nothing.fields.isEmpty && nothing.listing == current)

    for (mask, field) in [
      (["host_id"], "update_mask"), (["nickname"], "update_mask"), (["max_nights"], "property.max_nights"),
    ] {
      var values = ListingInput()
      values.maxNights = 1  // below the current minimum of 2
      #expect(throws: ValidationError.self) {
        try UpdateListing.validate(mask: mask, values: values, current: current, timeZones: KnownTimeZones())
      }
      do {
        _ = try UpdateListing.validate(mask: mask, values: values, current: current, timeZones: KnownTimeZones())
      } catch {
        #expect(error.violations.map(\.field) == [field])
      }
    }
  }

  @Test("deleting waits until no guest holds dates still to come; page sizes are bounded")
  func deletionAndPaging() throws {
    #expect(throws: Never.self) { try DeleteListing.check(upcomingBookings: 0) }
    #expect(throws: ListingError.hasUpcomingBookings(count: 2)) { try DeleteListing.check(upcomingBookings: 2) }
    #expect(try PageSize.validate(0) == 20 && PageSize.validate(1) == 1 && PageSize.validate(100) == 100)
    #expect(throws: ValidationError.self) { try PageSize.validate(101) }
    #expect(throws: ValidationError.self) { try PageSize.validate(-1) }
  }
}

@Suite("Access policy")
struct AccessPolicyTests {
  static let host = UserID.random()
  static let listing = Property(
    id: .random(), hostID: host, name: "Loft", description: "",
    location: .init(address: "1 rue", city: "Paris", country: "FR", coordinates: nil),
    pricePerNight: Money(amountMinor: 100, currency: CurrencyCode("EUR")!), maxGuests: 2,
    rating: .init(sum: 0, count: 0), createdAt: Timestamp(microsecondsSinceEpoch: 0),
    updatedAt: Timestamp(microsecondsSinceEpoch: 0), deletedAt: nil)

  static func caller(_ role: User.Role?, owner: Bool = false) -> Caller {
    guard let role else { return .anonymous }
    return .user(Principal(userID: owner ? host : .random(), role: role, sessionID: .random()))
  }

  enum Outcome: Equatable { case allowed, signIn, notFound, forbidden }

  static func outcome(_ act: AccessPolicy.ListingAct, _ caller: Caller, _ listing: Property?) -> Outcome {
    do {
      try AccessPolicy.check(act, by: caller, on: listing, id: listing?.id)
      return .allowed
    } catch {
      switch error {
      case .signInRequired: return .signIn
      case .notFound: return .notFound
      case .forbidden: return .forbidden
      }
    }
  }

  @Test("every act for every kind of caller, on a live listing")
  func matrix() {
    let callers: [(String, Caller)] = [
      ("anonymous", Self.caller(nil)), ("guest", Self.caller(.guest)), ("host", Self.caller(.host, owner: true)),
      ("other host", Self.caller(.host)), ("admin", Self.caller(.admin)),
    ]
    let expected: [AccessPolicy.ListingAct: [Outcome]] = [
      .read: [.allowed, .allowed, .allowed, .allowed, .allowed],
      .create: [.signIn, .forbidden, .allowed, .allowed, .allowed],
      .update: [.signIn, .forbidden, .allowed, .forbidden, .allowed],
      .delete: [.signIn, .forbidden, .allowed, .forbidden, .allowed],
      .listOwn: [.signIn, .allowed, .allowed, .allowed, .allowed],
    ]
    for act in AccessPolicy.ListingAct.allCases {
      let on: Property? = act == .create || act == .listOwn ? nil : Self.listing
      #expect(callers.map { Self.outcome(act, $0.1, on) } == expected[act], "\(act)")
    }
  }

  @Test("a deleted or missing listing is not found by anyone, its host and admins included")
  func hidden() {
    var deleted = Self.listing
    deleted.deletedAt = Timestamp(microsecondsSinceEpoch: 1)
    for caller in [Self.caller(.guest), Self.caller(.host, owner: true), Self.caller(.admin)] {
      for act in [AccessPolicy.ListingAct.read, .update, .delete] {
        #expect(Self.outcome(act, caller, deleted) == .notFound)
        #expect(Self.outcome(act, caller, nil) == .notFound)
      }
    }
    #expect(Self.outcome(.update, Self.caller(nil), deleted) == .signIn)
  }
}
