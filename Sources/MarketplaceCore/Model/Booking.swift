/// A guest's stay at a property. Its lifecycle is `BookingLifecycle`'s.
public struct Booking: Hashable, Sendable {
  public enum Status: String, Hashable, Sendable, CaseIterable {
    case pending, confirmed, cancelled, completed
    /// Paid, on a request-to-book listing: waiting for the host to accept or decline.
    case awaitingHost = "awaiting_host"
    /// Declined by the host (or unanswered in time): refunded in full.
    case declined

    /// Whether the booking holds its dates (no other live booking may overlap it).
    public var holdsDates: Bool { self == .pending || self == .awaitingHost || self == .confirmed }

    /// Whether nothing more can happen to it.
    public var isFinal: Bool { self == .cancelled || self == .completed || self == .declined }
  }

  public var id: BookingID
  public var propertyID: PropertyID
  public var guestID: UserID
  public var stay: DateRange
  public var guests: Int
  public var totalPrice: Money
  public var status: Status
  /// When an unpaid (pending) booking lapses; nil once paid or ended.
  public var expiresAt: Timestamp?
  public var createdAt: Timestamp
  public var updatedAt: Timestamp

  public init(
    id: BookingID, propertyID: PropertyID, guestID: UserID, stay: DateRange, guests: Int,
    totalPrice: Money, status: Status, expiresAt: Timestamp?, createdAt: Timestamp,
    updatedAt: Timestamp
  ) {
    self.id = id
    self.propertyID = propertyID
    self.guestID = guestID
    self.stay = stay
    self.guests = guests
    self.totalPrice = totalPrice
    self.status = status
    self.expiresAt = expiresAt
    self.createdAt = createdAt
    self.updatedAt = updatedAt
  }
}
