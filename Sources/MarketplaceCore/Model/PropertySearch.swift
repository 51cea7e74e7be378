/// What a guest searches by: place, price (in one currency), party size, free dates, rating;
/// every filter optional. Results come in `order`, one page at a time, by keyset (`after`).
public struct PropertySearch: Hashable, Sendable {
  public enum Order: String, Hashable, Sendable, CaseIterable {
    /// Cheapest per night first, then by id.
    case price
    /// Highest average rating first (no reviews counts as 0), then by id, descending.
    case rating
    /// Most recently listed first, then by id, descending.
    case newest
  }

  /// Where a page ended: the last listing's sort key and id, in the search's order.
  public enum Cursor: Hashable, Sendable {
    case price(Int64, PropertyID)
    case rating(Double, PropertyID)
    case newest(Timestamp, PropertyID)

    /// Where a page that ends at `property` ends, in `order`.
    public init(after property: Property, in order: Order) {
      switch order {
      case .price: self = .price(property.pricePerNight.amountMinor, property.id)
      case .rating: self = .rating(property.rating.average ?? 0, property.id)
      case .newest: self = .newest(property.createdAt, property.id)
      }
    }

    public var order: Order {
      switch self {
      case .price: .price
      case .rating: .rating
      case .newest: .newest
      }
    }
  }

  /// Matched case-insensitively.
  public var city: String?
  /// ISO 3166-1 alpha-2.
  public var country: String?
  /// Only listings priced in this currency (required with a price bound).
  public var currency: CurrencyCode?
  /// Inclusive bounds on the nightly price, in minor units of `currency`.
  public var minPricePerNightMinor: Int64?
  public var maxPricePerNightMinor: Int64?
  /// Only listings that take at least this many guests.
  public var guests: Int
  /// Only listings free for the whole stay.
  public var stay: DateRange?
  /// Only listings whose average rating is at least this (0: any).
  public var minRating: Double
  public var order: Order
  public var limit: Int
  /// The last result of the previous page (its case is `order`'s).
  public var after: Cursor?

  public init(
    city: String? = nil, country: String? = nil, currency: CurrencyCode? = nil, minPricePerNightMinor: Int64? = nil,
    maxPricePerNightMinor: Int64? = nil, guests: Int = 1, stay: DateRange? = nil, minRating: Double = 0,
    order: Order = .price, limit: Int = 20, after: Cursor? = nil
  ) {
    self.city = city
    self.country = country
    self.currency = currency
    self.minPricePerNightMinor = minPricePerNightMinor
    self.maxPricePerNightMinor = maxPricePerNightMinor
    self.guests = guests
    self.stay = stay
    self.minRating = minRating
    self.order = order
    self.limit = limit
    self.after = after
  }

  /// The search's filters and order as one string (page size and cursor left out): what a page
  /// token is bound to, so that it pages through this query only. City case is kept as asked:
  /// another spelling is another query.
  public var queryKey: String {
    [
      "search", city ?? "", country ?? "", currency?.code ?? "", minPricePerNightMinor.map(String.init) ?? "",
      maxPricePerNightMinor.map(String.init) ?? "", String(guests), stay?.description ?? "", String(minRating),
      order.rawValue,
    ].joined(separator: "|")
  }
}
