import MarketplaceCore
import Testing

@Suite("Search requests")
struct SearchListingsTests {
  static func fields(_ change: (inout SearchListings.Request) -> Void) -> [String] {
    var request = SearchListings.Request()
    change(&request)
    do {
      _ = try SearchListings.validate(request)
      return []
    } catch {
      return error.violations.map(\.field)
    }
  }

  @Test("defaults: any place and price, one guest, by price, 20 a page")
  func defaults() throws {
    let search = try SearchListings.validate(SearchListings.Request())
    #expect(search == PropertySearch(guests: 1, minRating: 0, order: .price, limit: 20))
  }

  @Test("a valid search keeps what it asked, codes upper-cased")
  func valid() throws {
    var request = SearchListings.Request()
    request.city = " Paris "
    request.country = "fr"
    request.currency = "eur"
    request.minPricePerNightMinor = 5_000
    request.maxPricePerNightMinor = 9_000
    request.guests = 3
    request.stay = (.init(year: 2030, month: 7, day: 1), .init(year: 2030, month: 7, day: 5))
    request.minRating = 4.5
    request.order = .value(.rating)
    request.pageSize = 50
    let search = try SearchListings.validate(request)
    #expect(search.city == "Paris" && search.country == "FR" && search.currency?.code == "EUR")
    #expect(search.minPricePerNightMinor == 5_000 && search.maxPricePerNightMinor == 9_000 && search.guests == 3)
    #expect(search.stay?.nights == 4 && search.minRating == 4.5 && search.order == .rating && search.limit == 50)
  }

  @Test("each rule names its field")
  func rules() {
    #expect(Self.fields { $0.maxPricePerNightMinor = 100 } == ["currency"])
    #expect(Self.fields { $0.currency = "EURO" } == ["currency"])
    #expect(Self.fields { $0.minPricePerNightMinor = -1 } == ["min_price_per_night_minor"])
    #expect(
      Self.fields {
        $0.currency = "EUR"
        $0.minPricePerNightMinor = 9
        $0.maxPricePerNightMinor = 8
      } == ["max_price_per_night_minor"])
    #expect(Self.fields { $0.country = "France" } == ["country"])
    #expect(Self.fields { $0.guests = -1 } == ["guests"])
    #expect(Self.fields { $0.minRating = 5.1 } == ["min_rating"])
    #expect(Self.fields { $0.minRating = .nan } == ["min_rating"])
    #expect(Self.fields { $0.order = .unrecognized } == ["order_by"])
    #expect(Self.fields { $0.pageSize = 101 } == ["page_size"])
    #expect(
      Self.fields { $0.stay = (.init(year: 2030, month: 2, day: 30), .init(year: 2030, month: 3, day: 2)) } == [
        "stay.start"
      ])
    #expect(Self.fields { $0.stay = (.init(year: 2030, month: 3, day: 2), nil) } == ["stay.end"])
    #expect(
      Self.fields { $0.stay = (.init(year: 2030, month: 3, day: 2), .init(year: 2030, month: 3, day: 2)) } == [
        "stay.end"
      ])
    #expect(
      Self.fields { $0.stay = (.init(year: 2030, month: 1, day: 1), .init(year: 2031, month: 1, day: 2)) } == [
        "stay.end"
      ])
  }

  @Test("a page token's query key changes with every filter and the order, not the page size")
  func queryKey() {
    let base = PropertySearch(city: "Paris")
    var other = base
    other.limit = 50
    #expect(other.queryKey == base.queryKey)
    for change in [
      { (s: inout PropertySearch) in s.city = "Lyon" }, { $0.country = "FR" }, { $0.currency = CurrencyCode("EUR") },
      { $0.minPricePerNightMinor = 1 }, { $0.maxPricePerNightMinor = 1 }, { $0.guests = 2 }, { $0.minRating = 1 },
      { $0.order = .newest },
      { $0.stay = DateRange(checkIn: LocalDate(daysSinceEpoch: 1), checkOut: LocalDate(daysSinceEpoch: 2)) },
    ] {
      var changed = base
      change(&changed)
      #expect(changed.queryKey != base.queryKey)
    }
  }

  @Test("a cursor continues in its own order")
  func cursors() {
    let property = Property(
      id: .random(), hostID: .random(), name: "Loft", description: "",
      location: .init(address: "1 rue", city: "Paris", country: "FR", coordinates: nil),
      pricePerNight: Money(amountMinor: 9_000, currency: CurrencyCode("EUR")!), maxGuests: 2,
      rating: .init(sum: 9, count: 2), createdAt: Timestamp(microsecondsSinceEpoch: 42),
      updatedAt: Timestamp(microsecondsSinceEpoch: 42), deletedAt: nil)
    #expect(PropertySearch.Cursor(after: property, in: .price) == .price(9_000, property.id))
    #expect(PropertySearch.Cursor(after: property, in: .rating) == .rating(4.5, property.id))
    #expect(
      PropertySearch.Cursor(after: property, in: .newest) == .newest(Timestamp(microsecondsSinceEpoch: 42), property.id)
    )
    #expect(PropertySearch.Order.allCases.allSatisfy { PropertySearch.Cursor(after: property, in: $0).order == $0 })
  }
}
