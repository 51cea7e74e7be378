/// A guest's review of a completed stay: one per booking.
public struct Review: Hashable, Sendable {
  public var id: ReviewID
  public var bookingID: BookingID
  public var propertyID: PropertyID
  public var authorID: UserID
  /// 1...5.
  public var rating: Int
  public var comment: String
  public var createdAt: Timestamp

  public static let ratings = 1...5

  public init(
    id: ReviewID, bookingID: BookingID, propertyID: PropertyID, authorID: UserID, rating: Int,
    comment: String, createdAt: Timestamp
  ) {
    self.id = id
    self.bookingID = bookingID
    self.propertyID = propertyID
    self.authorID = authorID
    self.rating = rating
    self.comment = comment
    self.createdAt = createdAt
  }

  /// Where a page of a property's reviews (newest first) ended.
  public struct Cursor: Hashable, Sendable {
    public var createdAt: Timestamp
    public var id: ReviewID

    public init(createdAt: Timestamp, id: ReviewID) {
      self.createdAt = createdAt
      self.id = id
    }
  }
}
