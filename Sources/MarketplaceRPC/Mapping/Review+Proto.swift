import MarketplaceCore
import MarketplaceProtos
import RPCCore

extension Marketplace_V1_Review.Builder {
  func fill(from review: Review) {
    id = review.id.description
    bookingId = review.bookingID.description
    propertyId = review.propertyID.description
    authorId = review.authorID.description
    rating = Int32(review.rating)
    comment = review.comment
    createdAt.fill(from: review.createdAt)
  }
}
