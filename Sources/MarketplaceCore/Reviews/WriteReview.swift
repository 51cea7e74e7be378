/// A guest reviews a completed stay: which requests are well-formed, and when a stay may be
/// reviewed.
public enum WriteReview {
  public struct Request: Sendable {
    public var bookingID = ""
    public var rating: Int32 = 0
    public var comment = ""

    public init() {}
  }

  public struct Valid: Hashable, Sendable {
    public var bookingID: BookingID
    public var rating: Int
    public var comment: String
  }

  public static let maximumCommentCharacters = 2_000

  public static func validate(_ request: Request) throws(ValidationError) -> Valid {
    var violations = Violations()
    let bookingID = violations.check("booking_id") { () throws(RuleViolation) in
      try BookingID(validating: request.bookingID)
    }
    if !Review.ratings.contains(Int(request.rating)) {
      violations.add("rating", "must be between \(Review.ratings.lowerBound) and \(Review.ratings.upperBound)")
    }
    let comment = request.comment.trimmingSpaces
    if comment.count > maximumCommentCharacters {
      violations.add("comment", "must be at most \(maximumCommentCharacters) characters")
    }
    try violations.throwIfAny()
    return Valid(bookingID: bookingID!, rating: Int(request.rating), comment: comment)
  }

  /// Throws unless `booking` may be reviewed on `today` (at the listing): the stay is completed
  /// and checked out at most `windowDays` days ago.
  public static func check(_ booking: Booking, today: LocalDate, windowDays: Int) throws(ReviewError) {
    guard booking.status == .completed else { throw .stayNotCompleted }
    guard today.daysSinceEpoch - booking.stay.checkOut.daysSinceEpoch <= windowDays else {
      throw .windowClosed(days: windowDays)
    }
  }
}

/// Why a review was refused.
public enum ReviewError: Error, Hashable, Sendable {
  /// Only a completed stay is reviewed.
  case stayNotCompleted
  /// Reviews are written within `days` days of check-out.
  case windowClosed(days: Int)
  /// The booking has its review.
  case alreadyReviewed
}
