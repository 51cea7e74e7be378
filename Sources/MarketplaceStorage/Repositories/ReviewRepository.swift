public import MarketplaceCore
public import Postgres

/// Reviews, and the property rating aggregates they feed. The index each statement uses is named
/// in 0006_reviews.sql.
public enum ReviewRepository {
  static let columns = "id, booking_id, property_id, author_id, rating, comment, created_at"
  static let select = SQL(unsafeRaw: "SELECT \(columns) FROM reviews")

  static func decode(_ row: inout ColumnReader) throws(PGError) -> Review {
    Review(
      id: try row.next(), bookingID: try row.next(), propertyID: try row.next(),
      authorID: try row.next(), rating: try row.next(), comment: try row.next(),
      createdAt: try row.next())
  }

  /// Stores the review and adds its rating to the property's aggregates, in one statement. A
  /// second review of the booking fails with 23505 on `reviews_booking_id_key`; an author or
  /// property that is not the booking's fails with 23503 on `reviews_booking_fkey`.
  public static func insert(
    id: ReviewID, bookingID: BookingID, propertyID: PropertyID, authorID: UserID, rating: Int,
    comment: String
  ) -> PGQuery<Review> {
    PGQuery(
      """
      WITH review AS (
        INSERT INTO reviews (id, booking_id, property_id, author_id, rating, comment)
        VALUES (\(id), \(bookingID), \(propertyID), \(authorID), \(rating), \(comment))
        RETURNING id, booking_id, property_id, author_id, rating, comment, created_at
      ), rated AS (
        UPDATE properties SET rating_sum = rating_sum + review.rating,
          rating_count = rating_count + 1
        FROM review WHERE properties.id = review.property_id
      )
      SELECT id, booking_id, property_id, author_id, rating, comment, created_at FROM review
      """
    ) { try $0.decodeOne(Self.decode) }
    .onViolation(of: "reviews_booking_id_key", throw: ReviewError.alreadyReviewed)
  }

  /// A property's reviews, newest first, one page after `cursor`.
  public static func list(
    propertyID: PropertyID, after cursor: Review.Cursor?, limit: Int
  ) -> PGQuery<[Review]> {
    var sql = Self.select + " WHERE property_id = \(propertyID)"
    if let cursor {
      sql.append(" AND (created_at, id) < (\(cursor.createdAt)::timestamptz, \(cursor.id)::uuid)")
    }
    sql.append(" ORDER BY created_at DESC, id DESC LIMIT \(limit)")
    return PGQuery(sql) { try $0.decodeAll(Self.decode) }
  }
}
