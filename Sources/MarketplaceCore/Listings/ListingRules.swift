/// What a valid listing is. Field paths in violations are prefixed with `fieldPrefix`
/// ("property.name").
public enum ListingRules {
  public static let maximumNameCharacters = 200
  public static let maximumDescriptionCharacters = 5_000
  public static let maximumAddressCharacters = 500
  public static let maximumCityCharacters = 200
  public static let maximumGuests = 100
  /// The most a night (or a cleaning fee) may cost, in minor units: 1,000,000 in major units.
  public static let maximumAmountMinor: Int64 = 100_000_000

  public static func validate(
    _ input: ListingInput, timeZones: some TimeZoneDirectory, fieldPrefix: String = "property."
  ) throws(ValidationError) -> Listing {
    var violations = Violations()
    func text(_ field: String, _ value: String, max: Int, required: Bool = true) -> String? {
      violations.check(fieldPrefix + field) { () throws(RuleViolation) in
        let trimmed = value.trimmingSpaces
        if required && trimmed.isEmpty { throw RuleViolation("is required") }
        if trimmed.count > max { throw RuleViolation("must be at most \(max) characters") }
        if trimmed.unicodeScalars.contains(where: { $0.properties.generalCategory == .control && $0 != "\n" }) {
          throw RuleViolation("must not contain control characters")
        }
        return trimmed
      }
    }
    let name = text("name", input.name, max: maximumNameCharacters)
    let description = text("description", input.description, max: maximumDescriptionCharacters, required: false)
    let address = text("address", input.address, max: maximumAddressCharacters)
    let city = text("city", input.city, max: maximumCityCharacters)
    let country = violations.check(fieldPrefix + "country") { () throws(RuleViolation) in
      try CountryCode(validating: input.country).code
    }
    if let coordinates = input.coordinates {
      if !(coordinates.latitude.isFinite && (-90...90).contains(coordinates.latitude)) {
        violations.add(fieldPrefix + "coordinates.latitude", "must be between -90 and 90")
      }
      if !(coordinates.longitude.isFinite && (-180...180).contains(coordinates.longitude)) {
        violations.add(fieldPrefix + "coordinates.longitude", "must be between -180 and 180")
      }
    }
    var price: Money?
    if let amount = input.pricePerNight {
      let currency = violations.check(fieldPrefix + "price_per_night.currency") { () throws(RuleViolation) in
        try currencyCode(amount.currency)
      }
      if !(1...maximumAmountMinor).contains(amount.amountMinor) {
        violations.add(
          fieldPrefix + "price_per_night.amount_minor", "must be between 1 and \(maximumAmountMinor) minor units")
      } else if let currency {
        price = Money(amountMinor: amount.amountMinor, currency: currency)
      }
    } else {
      violations.add(fieldPrefix + "price_per_night", "is required")
    }
    if !(1...maximumGuests).contains(input.maxGuests) {
      violations.add(fieldPrefix + "max_guests", "must be between 1 and \(maximumGuests)")
    }
    let timeZone = input.timeZone.isEmpty ? "UTC" : input.timeZone
    if !timeZones.contains(timeZone) {
      violations.add(fieldPrefix + "time_zone", "must be an IANA time zone such as \"Europe/Paris\"")
    }
    let minNights = input.minNights == 0 ? 1 : input.minNights
    let maxNights = input.maxNights == 0 ? Listing.maximumNights : input.maxNights
    if !(1...Listing.maximumNights).contains(minNights) {
      violations.add(fieldPrefix + "min_nights", "must be between 1 and \(Listing.maximumNights)")
    } else if !(minNights...Listing.maximumNights).contains(maxNights) {
      violations.add(
        fieldPrefix + "max_nights", "must be between min_nights (\(minNights)) and \(Listing.maximumNights)")
    }
    var cleaningFee: Int64?
    if let fee = input.cleaningFee, fee.amountMinor != 0 || !fee.currency.isEmpty {
      if !(0...maximumAmountMinor).contains(fee.amountMinor) {
        violations.add(
          fieldPrefix + "cleaning_fee.amount_minor", "must be between 0 and \(maximumAmountMinor) minor units")
      } else if let price, fee.currency.uppercased() != price.currency.code {
        violations.add(
          fieldPrefix + "cleaning_fee.currency", "must be the nightly price's currency (\(price.currency))")
      } else if fee.amountMinor > 0 {
        cleaningFee = fee.amountMinor
      }
    }
    let bookingMode = choice(input.bookingMode, default: .instant, field: fieldPrefix + "booking_mode", &violations)
    let policy = choice(
      input.cancellationPolicy, default: .flexible, field: fieldPrefix + "cancellation_policy", &violations)
    try violations.throwIfAny()
    return Listing(
      name: name!, description: description!,
      location: Property.Location(address: address!, city: city!, country: country!, coordinates: input.coordinates),
      pricePerNight: price!, maxGuests: input.maxGuests,
      terms: Listing.Terms(
        timeZone: timeZone, minNights: minNights, maxNights: maxNights, cleaningFeeMinor: cleaningFee,
        bookingMode: bookingMode!, cancellationPolicy: policy!))
  }

  /// An ISO 4217 code, any case in, upper case out.
  public static func currencyCode(_ text: String) throws(RuleViolation) -> CurrencyCode {
    guard let code = CurrencyCode(text.uppercased()) else {
      throw RuleViolation("must be an ISO 4217 code such as \"EUR\"")
    }
    return code
  }

  private static func choice<Value>(
    _ requested: Requested<Value>, default value: Value, field: String, _ violations: inout Violations
  ) -> Value? {
    switch requested {
    case .unspecified: return value
    case .value(let chosen): return chosen
    case .unrecognized:
      violations.add(field, "is not a value this server knows")
      return nil
    }
  }
}
