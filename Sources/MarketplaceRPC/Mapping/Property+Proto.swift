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
  var domainRequest: SearchListings.Request {
    var request = SearchListings.Request()
    request.city = city
    request.country = country
    request.currency = currency
    request.minPricePerNightMinor = minPricePerNightMinor
    request.maxPricePerNightMinor = maxPricePerNightMinor
    request.guests = Int(guests)
    if let stay {
      request.stay = (stay.start.map(\.dateInput), stay.end.map(\.dateInput))
    }
    request.minRating = minRating
    request.order = orderBy.requested
    request.pageSize = pageSize
    return request
  }
}

extension Marketplace_V1_LocalDate.View {
  var dateInput: DateInput {
    DateInput(year: Int(year), month: Int(month), day: Int(day))
  }
}

extension Marketplace_V1_SearchOrder {
  var requested: Requested<PropertySearch.Order> {
    switch self {
    case .unspecified: .unspecified
    case .price: .value(.price)
    case .rating: .value(.rating)
    case .newest: .value(.newest)
    default: .unrecognized
    }
  }
}

extension PropertySearch.Cursor: PageCursor {
  /// A tag byte for the order, the sort key (8 bytes), the id (16).
  var bytes: [UInt8] {
    switch self {
    case .price(let price, let id): [0] + CursorBytes.int64(price) + CursorBytes.uuid(id.uuid)
    case .rating(let rating, let id):
      [1] + CursorBytes.int64(Int64(bitPattern: rating.bitPattern)) + CursorBytes.uuid(id.uuid)
    case .newest(let createdAt, let id):
      [2] + CursorBytes.int64(createdAt.microsecondsSinceEpoch) + CursorBytes.uuid(id.uuid)
    }
  }

  init?(bytes: [UInt8]) {
    guard bytes.count == 25 else { return nil }
    let key = CursorBytes.int64(bytes[1..<9])
    let id = PropertyID(CursorBytes.uuid(bytes[9..<25]))
    switch bytes[0] {
    case 0: self = .price(key, id)
    case 1: self = .rating(Double(bitPattern: UInt64(bitPattern: key)), id)
    case 2: self = .newest(Timestamp(microsecondsSinceEpoch: key), id)
    default: return nil
    }
  }
}
