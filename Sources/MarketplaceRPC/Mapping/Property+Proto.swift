import MarketplaceCore
import MarketplaceProtos
import RPCCore

extension Marketplace_V1_Property.Builder {
  func fill(from property: Property) {
    id = property.id.description
    hostId = property.hostID.description
    name = property.name
    description = property.description
    address = property.location.address
    city = property.location.city
    country = property.location.country
    if let coordinates = property.location.coordinates {
      self.coordinates.latitude = coordinates.latitude
      self.coordinates.longitude = coordinates.longitude
    }
    pricePerNight.fill(from: property.pricePerNight)
    maxGuests = Int32(clamping: property.maxGuests)
    ratingAverage = property.rating.average ?? 0
    ratingCount = property.rating.count
    createdAt.fill(from: property.createdAt)
    updatedAt.fill(from: property.updatedAt)
    let terms = property.terms
    timeZone = terms.timeZone
    minNights = Int32(terms.minNights)
    maxNights = Int32(terms.maxNights)
    if let fee = terms.cleaningFeeMinor {
      cleaningFee.fill(from: Money(amountMinor: fee, currency: property.pricePerNight.currency))
    }
    bookingMode = Marketplace_V1_BookingMode(terms.bookingMode)
    cancellationPolicy = Marketplace_V1_CancellationPolicy(terms.cancellationPolicy)
    if let deletedAt = property.deletedAt { self.deletedAt.fill(from: deletedAt) }
  }
}

extension Marketplace_V1_Property.View {
  /// The host's fields, as the request gives them.
  var listingInput: ListingInput {
    var input = ListingInput()
    input.name = name
    input.description = description
    input.address = address
    input.city = city
    input.country = country
    input.coordinates = coordinates.map { Property.Coordinates(latitude: $0.latitude, longitude: $0.longitude) }
    input.pricePerNight = pricePerNight.map { ListingInput.Amount(amountMinor: $0.amountMinor, currency: $0.currency) }
    input.maxGuests = Int(maxGuests)
    input.timeZone = timeZone
    input.minNights = Int(minNights)
    input.maxNights = Int(maxNights)
    input.cleaningFee = cleaningFee.map { ListingInput.Amount(amountMinor: $0.amountMinor, currency: $0.currency) }
    input.bookingMode = bookingMode.requested
    input.cancellationPolicy = cancellationPolicy.requested
    return input
  }
}

extension Marketplace_V1_BookingMode {
  init(_ mode: Listing.BookingMode) {
    switch mode {
    case .instant: self = .instant
    case .request: self = .request
    }
  }

  var requested: Requested<Listing.BookingMode> {
    switch self {
    case .unspecified: .unspecified
    case .instant: .value(.instant)
    case .request: .value(.request)
    default: .unrecognized
    }
  }
}

extension Marketplace_V1_CancellationPolicy {
  init(_ policy: Listing.CancellationPolicy) {
    switch policy {
    case .flexible: self = .flexible
    case .moderate: self = .moderate
    case .strict: self = .strict
    }
  }

  var requested: Requested<Listing.CancellationPolicy> {
    switch self {
    case .unspecified: .unspecified
    case .flexible: .value(.flexible)
    case .moderate: .value(.moderate)
    case .strict: .value(.strict)
    default: .unrecognized
    }
  }
}

extension Marketplace_V1_SearchPropertiesRequest.View {
  /// The search asked for, or INVALID_ARGUMENT naming the first field that is wrong.
  func propertySearch() throws(RPCError) -> PropertySearch {
    var search = PropertySearch()
    if !city.isEmpty { search.city = try Validate.text(city, field: "city", maxBytes: 200) }
    if !country.isEmpty { search.country = try Validate.countryCode(country, field: "country") }
    if minPricePerNightMinor != 0 {
      guard minPricePerNightMinor > 0 else { throw .invalidArgument("min_price_per_night_minor must not be negative") }
      search.minPricePerNightMinor = minPricePerNightMinor
    }
    if maxPricePerNightMinor != 0 {
      guard maxPricePerNightMinor > 0 else { throw .invalidArgument("max_price_per_night_minor must not be negative") }
      search.maxPricePerNightMinor = maxPricePerNightMinor
    }
    if let min = search.minPricePerNightMinor, let max = search.maxPricePerNightMinor, min > max {
      throw .invalidArgument("min_price_per_night_minor is above max_price_per_night_minor")
    }
    guard guests >= 0 else { throw .invalidArgument("guests must not be negative") }
    search.guests = max(1, Int(guests))
    if let stay { search.stay = try stay.dateRange(field: "stay") }
    guard (0...PropertySearch.maximumLimit).contains(Int(pageSize)) else {
      throw .invalidArgument("page_size must be between 1 and \(PropertySearch.maximumLimit) (0 means 20)")
    }
    search.limit = pageSize == 0 ? 20 : Int(pageSize)
    if !pageToken.isEmpty { search.after = try PropertySearch.Cursor(pageToken: pageToken) }
    return search
  }
}

extension PropertySearch.Cursor {
  /// `next_page_token`: opaque to clients; the last listing's price and id.
  var pageToken: String { Base64.encode(Array("p1:\(pricePerNightMinor):\(id)".utf8)) }

  init(pageToken: String) throws(RPCError) {
    let invalid = RPCError.invalidArgument("page_token is not one this server issued")
    guard let bytes = Base64.decode(pageToken) else { throw invalid }
    let parts = String(decoding: bytes, as: UTF8.self).split(separator: ":", omittingEmptySubsequences: false)
    guard parts.count == 3, parts[0] == "p1", let price = Int64(parts[1]), let id = PropertyID(parts[2]) else {
      throw invalid
    }
    self.init(pricePerNightMinor: price, id: id)
  }
}
