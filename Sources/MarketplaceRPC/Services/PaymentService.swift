public import Credentials
public import MarketplaceCore
public import MarketplaceProtos
import MarketplaceStorage
public import RPCCore

/// `marketplace.v1.PaymentService`: guests pay for bookings; the gateway is charged in the
/// background (`BookingWorkflows.processPayment`), so a call never waits for it.
///
/// Idempotency: a payment is found again by its payer and key. Concurrent requests with one key
/// queue on the booking's row lock; the first stores the payment and its processing job, the
/// others find it (by the unique key) and answer with it, so one key makes one payment and one
/// charge.
public struct PaymentService: Marketplace_V1_PaymentService.ServiceProtocol {
  let database: DatabaseAccess
  let clock: any WallClock
  let pageTokens: PageTokens

  public init(database: DatabaseAccess, clock: any WallClock, pageTokens: PageTokens) {
    self.database = database
    self.clock = clock
    self.pageTokens = pageTokens
  }

  public func createPayment(
    _ request: Marketplace_V1_CreatePaymentRequest.View, context: ServerContext,
    response: Marketplace_V1_CreatePaymentResponse.Builder
  ) async throws {
    let payer = try context.caller.signedIn()
    let valid = try PayBooking.validate(request.domainRequest)
    let fingerprint = Digest.blake2b256(valid.canonicalParameters)
    let retried = PaymentRepository.find(payerID: payer.userID, idempotencyKey: valid.idempotencyKey)
    if let existing = try await database.run(context, retried) {
      try PayBooking.checkRetry(of: existing, fingerprint: fingerprint)
      return response.payment.fill(from: existing)
    }
    let now = clock.now
    do {
      let payment = try await database.withTransaction(context) { tx in
        // Locked: concurrent payments of one booking are decided one after the other.
        let found = try await tx.run(BookingRepository.findWithListing(id: valid.bookingID, locked: true))
        try AccessPolicy.check(
          .pay, by: context.caller, onBooking: found?.booking, hostID: found?.listing.hostID, id: valid.bookingID)
        // A concurrent request with this key may have committed while we waited for the lock
        // (and its payment may have confirmed the booking since).
        if let existing = try await tx.run(retried) {
          try PayBooking.checkRetry(of: existing, fingerprint: fingerprint)
          return existing
        }
        try PayBooking.check(valid, for: found!.booking)
        let id = PaymentID.random()
        let (payment, _) = try await tx.run(
          PaymentRepository.insert(
            id: id, bookingID: valid.bookingID, payerID: payer.userID, propertyID: found!.booking.propertyID,
            amount: valid.amount, method: .card, methodToken: valid.methodToken,
            idempotencyKey: valid.idempotencyKey, requestFingerprint: fingerprint),
          MarketplaceJobs.processPayment(id, now: now))
        return payment
      }
      response.payment.fill(from: payment)
    } catch let error where error is PaymentRepository.IdempotencyKeyTaken || error as? PaymentError == .alreadyPaid {
      // A concurrent request stored its payment first: ours if it carried our key.
      guard let existing = try await database.run(context, retried) else { throw error }
      try PayBooking.checkRetry(of: existing, fingerprint: fingerprint)
      response.payment.fill(from: existing)
    }
  }

  public func getPayment(
    _ request: Marketplace_V1_GetPaymentRequest.View, context: ServerContext,
    response: Marketplace_V1_GetPaymentResponse.Builder
  ) async throws {
    _ = try context.caller.signedIn()
    let id = try PaymentID(request.paymentId, field: "payment_id")
    let payment = try await database.run(context, PaymentRepository.find(id: id))
    let notFound = AccessError.notFound(what: "payment \(id)")
    guard let payment else { throw notFound }
    let found = try await database.run(context, BookingRepository.findWithListing(id: payment.bookingID))
    do {
      try AccessPolicy.check(
        .read, by: context.caller, onBooking: found?.booking, hostID: found?.listing.hostID, id: payment.bookingID)
    } catch .notFound {
      throw notFound
    }
    response.payment.fill(from: payment)
  }

  public func listPayments(
    _ request: Marketplace_V1_ListPaymentsRequest.View, context: ServerContext,
    response: Marketplace_V1_ListPaymentsResponse.Builder
  ) async throws {
    let caller = try context.caller.signedIn()
    let pageSize = try PageSize.validate(request.pageSize)
    let owner: PaymentRepository.Owner
    if request.bookingId.isEmpty {
      owner = .payer(caller.userID)
    } else {
      let id = try BookingID(request.bookingId, field: "booking_id")
      let found = try await database.run(context, BookingRepository.findWithListing(id: id))
      try AccessPolicy.check(
        .read, by: context.caller, onBooking: found?.booking, hostID: found?.listing.hostID, id: id)
      owner = .booking(id)
    }
    let query = "ListPayments:\(caller.userID):\(owner)"
    let after: PaymentRepository.Cursor? =
      request.pageToken.isEmpty ? nil : try pageTokens.cursor(request.pageToken, query: query)
    let found = try await database.run(context, PaymentRepository.page(of: owner, after: after, limit: pageSize + 1))
    let page = found.prefix(pageSize)
    for payment in page { response.addPayments().fill(from: payment) }
    if found.count > pageSize, let last = page.last {
      response.nextPageToken = pageTokens.token(
        for: PaymentRepository.Cursor(createdAt: last.createdAt, id: last.id), query: query)
    }
  }
}
