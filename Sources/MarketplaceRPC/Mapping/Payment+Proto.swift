import MarketplaceCore
import MarketplaceProtos
import MarketplaceStorage
import RPCCore

extension Marketplace_V1_Payment.Builder {
  func fill(from payment: Payment) {
    id = payment.id.description
    bookingId = payment.bookingID.description
    payerId = payment.payerID.description
    amount.fill(from: payment.amount)
    status =
      switch payment.status {
      case .pending: .pending
      case .succeeded: .succeeded
      case .failed: .failed
      case .refunded: .refunded
      case .partiallyRefunded: .partiallyRefunded
      }
    refunded.fill(from: payment.refunded)
    failureReason = payment.failureReason ?? ""
    createdAt.fill(from: payment.createdAt)
    updatedAt.fill(from: payment.updatedAt)
  }
}

extension Marketplace_V1_CreatePaymentRequest.View {
  var domainRequest: PayBooking.Request {
    var request = PayBooking.Request()
    request.bookingID = bookingId
    request.methodToken = paymentMethodToken
    request.idempotencyKey = idempotencyKey
    request.amount = amount.map { ($0.amountMinor, $0.currency) }
    return request
  }
}

extension PaymentRepository.Cursor: PageCursor {
  var bytes: [UInt8] { CursorBytes.int64(createdAt.microsecondsSinceEpoch) + CursorBytes.uuid(id.uuid) }

  init?(bytes: [UInt8]) {
    guard bytes.count == 24 else { return nil }
    self.init(
      createdAt: Timestamp(microsecondsSinceEpoch: CursorBytes.int64(bytes[0..<8])),
      id: PaymentID(CursorBytes.uuid(bytes[8..<24])))
  }
}
