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
