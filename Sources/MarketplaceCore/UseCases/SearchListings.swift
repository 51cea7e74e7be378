/// The guest's search: which requests are valid, and what they ask for.
public enum SearchListings {
  public struct Request: Sendable {
    public var city = ""
    public var country = ""
    public var currency = ""
    /// 0: no bound.
    public var minPricePerNightMinor: Int64 = 0
    public var maxPricePerNightMinor: Int64 = 0
    /// 0: 1.
    public var guests = 0
    /// A stay's check-in and check-out, when one was given (either may be missing).
    public var stay: (checkIn: DateInput?, checkOut: DateInput?)?
    public var minRating = 0.0
    public var order: Requested<PropertySearch.Order> = .unspecified
    public var pageSize: Int32 = 0

    public init() {}
  }

  /// The longest stay a search may ask about.
  public static let maximumStayNights = 365

  /// The search asked for (without its cursor, which the page token carries), or every rule it
  /// breaks.
  public static func validate(_ request: Request) throws(ValidationError) -> PropertySearch {
    var violations = Violations()
    var search = PropertySearch()
    let city = request.city.trimmingSpaces
    if !city.isEmpty {
      if city.count > ListingRules.maximumCityCharacters {
        violations.add("city", "must be at most \(ListingRules.maximumCityCharacters) characters")
      }
      search.city = city
    }
    if !request.country.isEmpty {
      search.country = violations.check("country") { () throws(RuleViolation) in
        try CountryCode(validating: request.country).code
      }
    }
    if !request.currency.isEmpty {
      search.currency = violations.check("currency") { () throws(RuleViolation) in
        try ListingRules.currencyCode(request.currency)
      }
    }
    for (field, bound) in [
      ("min_price_per_night_minor", request.minPricePerNightMinor),
      ("max_price_per_night_minor", request.maxPricePerNightMinor),
    ] where bound < 0 {
      violations.add(field, "must not be negative")
    }
    if request.minPricePerNightMinor > 0 { search.minPricePerNightMinor = request.minPricePerNightMinor }
    if request.maxPricePerNightMinor > 0 { search.maxPricePerNightMinor = request.maxPricePerNightMinor }
    if let min = search.minPricePerNightMinor, let max = search.maxPricePerNightMinor, min > max {
      violations.add("max_price_per_night_minor", "must not be below min_price_per_night_minor")
    }
    if (search.minPricePerNightMinor != nil || search.maxPricePerNightMinor != nil) && request.currency.isEmpty {
      violations.add("currency", "is required with a price bound: amounts in different currencies do not compare")
    }
    if request.guests < 0 || request.guests > ListingRules.maximumGuests {
      violations.add("guests", "must be between 1 and \(ListingRules.maximumGuests) (0 means 1)")
    }
    search.guests = max(1, request.guests)
    if let stay = request.stay {
      search.stay = DateRange.validate(
        start: stay.checkIn, end: stay.checkOut, field: "stay", maximumNights: maximumStayNights, &violations)
    }
    if !(request.minRating.isFinite && (0...5).contains(request.minRating)) {
      violations.add("min_rating", "must be between 0 and 5")
    } else {
      search.minRating = request.minRating
    }
    switch request.order {
    case .unspecified: search.order = .price
    case .value(let order): search.order = order
    case .unrecognized: violations.add("order_by", "is not a value this server knows")
    }
    do {
      search.limit = try PageSize.validate(request.pageSize)
    } catch {
      violations.add("page_size", error.violations[0].rule)
    }
    try violations.throwIfAny()
    return search
  }
}
