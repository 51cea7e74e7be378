public import Credentials
public import MarketplaceCore
public import MarketplaceProtos
public import MarketplaceStorage
public import RPCCore

/// `marketplace.v1.ReviewService`: guests review completed stays; anyone reads a listing's
/// reviews. A review changes the listing's rating in its own statement, and the cached listing
/// is invalidated on every server when it commits.
public struct ReviewService: Marketplace_V1_ReviewService.ServiceProtocol {
  let database: DatabaseAccess
  let cache: MarketplaceCache
  let clock: any WallClock
  let timeZones: any TimeZoneDirectory
  let pageTokens: PageTokens
  /// Days after check-out during which a stay may be reviewed.
  let reviewWindowDays: Int

  public init(
    database: DatabaseAccess, cache: MarketplaceCache, clock: any WallClock, timeZones: any TimeZoneDirectory,
    pageTokens: PageTokens, reviewWindowDays: Int
  ) {
    self.database = database
    self.cache = cache
    self.clock = clock
    self.timeZones = timeZones
    self.pageTokens = pageTokens
    self.reviewWindowDays = reviewWindowDays
  }

  public func createReview(
    _ request: Marketplace_V1_CreateReviewRequest.View, context: ServerContext,
    response: Marketplace_V1_CreateReviewResponse.Builder
  ) async throws {
    let author = try context.caller.signedIn()
    var input = WriteReview.Request()
    input.bookingID = request.bookingId
    input.rating = request.rating
    input.comment = request.comment
    let valid = try WriteReview.validate(input)
    let now = clock.now
    let review = try await database.withTransaction(context) { tx in
      let found = try await tx.run(BookingRepository.findWithListing(id: valid.bookingID))
      try AccessPolicy.check(
        .review, by: context.caller, onBooking: found?.booking, hostID: found?.listing.hostID, id: valid.bookingID)
      let (booking, listing) = found!
      try WriteReview.check(
        booking, today: timeZones.localDate(at: now, in: listing.terms.timeZone), windowDays: reviewWindowDays)
      let (review, _) = try await tx.run(
        ReviewRepository.insert(
          id: .random(), bookingID: booking.id, propertyID: booking.propertyID, authorID: author.userID,
          rating: valid.rating, comment: valid.comment),
        MarketplaceCache.notify(.property(booking.propertyID)))
      return review
    }
    cache.apply(.property(review.propertyID))
    response.review.fill(from: review)
  }

  public func listReviews(
    _ request: Marketplace_V1_ListReviewsRequest.View, context: ServerContext,
    response: Marketplace_V1_ListReviewsResponse.Builder
  ) async throws {
    let propertyID = try PropertyID(request.propertyId, field: "property_id")
    let pageSize = try PageSize.validate(request.pageSize)
    let query = "ListReviews:\(propertyID)"
    let after: Review.Cursor? = request.pageToken.isEmpty ? nil : try pageTokens.cursor(request.pageToken, query: query)
    let (listing, found) = try await database.run(
      context, PropertyRepository.find(id: propertyID),
      ReviewRepository.list(propertyID: propertyID, after: after, limit: pageSize + 1))
    try AccessPolicy.check(.read, by: context.caller, on: listing, id: propertyID)
    let page = found.prefix(pageSize)
    for review in page { response.addReviews().fill(from: review) }
    if found.count > pageSize, let last = page.last {
      response.nextPageToken = pageTokens.token(
        for: Review.Cursor(createdAt: last.createdAt, id: last.id), query: query)
    }
  }
}
