/// A listing.
public struct Property: Hashable, Sendable {
  public struct Location: Hashable, Sendable {
    public var address: String
    public var city: String
    /// ISO 3166-1 alpha-2, upper case.
    public var country: String
    public var coordinates: Coordinates?

    public init(address: String, city: String, country: String, coordinates: Coordinates?) {
      self.address = address
      self.city = city
      self.country = country
      self.coordinates = coordinates
    }
  }

  public struct Coordinates: Hashable, Sendable {
    public var latitude: Double
    public var longitude: Double

    public init(latitude: Double, longitude: Double) {
      self.latitude = latitude
      self.longitude = longitude
    }
  }

  /// Sum and count of review ratings (each 1...5).
  public struct Rating: Hashable, Sendable {
    public var sum: Int64
    public var count: Int64

    public init(sum: Int64, count: Int64) {
      self.sum = sum
      self.count = count
    }

    /// The mean rating, or nil with no reviews.
    public var average: Double? { count == 0 ? nil : Double(sum) / Double(count) }
  }

  public var id: PropertyID
  public var hostID: UserID
  public var name: String
  public var description: String
  public var location: Location
  public var pricePerNight: Money
  public var maxGuests: Int
  public var terms: Listing.Terms
  public var rating: Rating
  public var createdAt: Timestamp
  public var updatedAt: Timestamp
  /// Set when the host removed the listing; its row stays for the bookings that reference it.
  public var deletedAt: Timestamp?

  public init(
    id: PropertyID, hostID: UserID, name: String, description: String, location: Location,
    pricePerNight: Money, maxGuests: Int, terms: Listing.Terms = Listing.Terms(), rating: Rating,
    createdAt: Timestamp, updatedAt: Timestamp, deletedAt: Timestamp?
  ) {
    self.id = id
    self.hostID = hostID
    self.name = name
    self.description = description
    self.location = location
    self.pricePerNight = pricePerNight
    self.maxGuests = maxGuests
    self.terms = terms
    self.rating = rating
    self.createdAt = createdAt
    self.updatedAt = updatedAt
    self.deletedAt = deletedAt
  }
}

extension Property {
  /// What the host set.
  public var listing: Listing {
    Listing(
      name: name, description: description, location: location, pricePerNight: pricePerNight, maxGuests: maxGuests,
      terms: terms)
  }

  public var isDeleted: Bool { deletedAt != nil }
}
