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

extension Review.Cursor: PageCursor {
  var bytes: [UInt8] { CursorBytes.int64(createdAt.microsecondsSinceEpoch) + CursorBytes.uuid(id.uuid) }

  init?(bytes: [UInt8]) {
    guard bytes.count == 24 else { return nil }
    self.init(
      createdAt: Timestamp(microsecondsSinceEpoch: CursorBytes.int64(bytes[0..<8])),
      id: ReviewID(CursorBytes.uuid(bytes[8..<24])))
  }
}
