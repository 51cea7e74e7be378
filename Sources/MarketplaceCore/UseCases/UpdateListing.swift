/// Changing a listing through an update mask (Google AIP-134): the masked fields take the
/// request's values, and the result must be a valid listing as a whole (min_nights never above
/// max_nights, say).
public enum UpdateListing {
  /// The paths a mask may name: the host's fields.
  public enum Field: String, CaseIterable, Sendable {
    case name, description, address, city, country, coordinates
    case pricePerNight = "price_per_night"
    case maxGuests = "max_guests"
    case timeZone = "time_zone"
    case minNights = "min_nights"
    case maxNights = "max_nights"
    case cleaningFee = "cleaning_fee"
    case bookingMode = "booking_mode"
    case cancellationPolicy = "cancellation_policy"
  }

  /// The listing's fields that are the server's.
  static let immutableFields: Set<String> = [
    "id", "host_id", "rating_average", "rating_count", "created_at", "updated_at", "deleted_at",
  ]

  public struct Change: Sendable, Equatable {
    /// The listing after the change.
    public var listing: Listing
    /// The applied paths in mask order; empty: nothing changes.
    public var fields: [Field]
  }

  public static func validate(
    mask: [String], values: ListingInput, current: Listing, timeZones: some TimeZoneDirectory
  ) throws(ValidationError) -> Change {
    var violations = Violations()
    var fields: [Field] = []
    for path in mask {
      guard let field = Field(rawValue: path) else {
        violations.add(
          "update_mask",
          immutableFields.contains(path)
            ? "\"\(path)\" cannot be changed"
            : "unknown field \"\(path)\"; allowed: \(Field.allCases.map(\.rawValue).joined(separator: ", "))")
        continue
      }
      if !fields.contains(field) { fields.append(field) }
    }
    try violations.throwIfAny()
    guard !fields.isEmpty else { return Change(listing: current, fields: []) }
    var merged = ListingInput(current)
    for field in fields {
      switch field {
      case .name: merged.name = values.name
      case .description: merged.description = values.description
      case .address: merged.address = values.address
      case .city: merged.city = values.city
      case .country: merged.country = values.country
      case .coordinates: merged.coordinates = values.coordinates
      case .pricePerNight: merged.pricePerNight = values.pricePerNight
      case .maxGuests: merged.maxGuests = values.maxGuests
      case .timeZone: merged.timeZone = values.timeZone
      case .minNights: merged.minNights = values.minNights
      case .maxNights: merged.maxNights = values.maxNights
      case .cleaningFee: merged.cleaningFee = values.cleaningFee
      case .bookingMode: merged.bookingMode = values.bookingMode
      case .cancellationPolicy: merged.cancellationPolicy = values.cancellationPolicy
      }
    }
    // A fee keeps following the price's currency when only the price changed.
    if fields.contains(.pricePerNight), !fields.contains(.cleaningFee), let fee = merged.cleaningFee,
      let price = merged.pricePerNight
    {
      merged.cleaningFee = ListingInput.Amount(amountMinor: fee.amountMinor, currency: price.currency)
    }
    return Change(listing: try ListingRules.validate(merged, timeZones: timeZones), fields: fields)
  }
}
