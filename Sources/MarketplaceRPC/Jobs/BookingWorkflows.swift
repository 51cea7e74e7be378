public import MarketplaceCore
import MarketplaceStorage
public import Postgres

/// What the marketplace's jobs do (`MarketplaceJobs` enqueues them). Every step is idempotent: a
/// job runs again after a crash or a lost lease, so each one first checks that its work is still
/// to do, and the gateway is called with a key derived from the payment, which it dedupes.
public struct BookingWorkflows: Sendable {
  let database: PGClient
  let gateway: any PaymentGateway
  let clock: any WallClock
  let timeZones: any TimeZoneDirectory
  let hostAnswerWindow: Duration

  public init(
    database: PGClient, gateway: any PaymentGateway, clock: any WallClock, timeZones: any TimeZoneDirectory,
    hostAnswerWindow: Duration
  ) {
    self.database = database
    self.gateway = gateway
    self.clock = clock
    self.timeZones = timeZones
    self.hostAnswerWindow = hostAnswerWindow
  }

  /// A pending booking whose payment deadline passed is cancelled; its dates free.
  public func lapse(_ id: BookingID) async throws {
    let now = clock.now
    try await database.withTransaction { tx in
      guard try await tx.run(BookingRepository.transitionIfDue(id: id, from: .pending, to: .cancelled, now: now)) != nil
      else { return }  // paid, cancelled, or lapsed already
      _ = try await tx.run(
        MarketplaceJobs.notify(.cancelled, of: id, now: now), BookingRepository.announceChange(of: id))
    }
  }

  /// A paid request the host left unanswered past its deadline is declined and refunded in full.
  public func hostTimeout(_ id: BookingID) async throws {
    let now = clock.now
    try await database.withTransaction { tx in
      guard
        try await tx.run(BookingRepository.transitionIfDue(id: id, from: .awaitingHost, to: .declined, now: now)) != nil
      else { return }  // answered already
      let (payment, _, _) = try await tx.run(
        PaymentRepository.livePayment(bookingID: id), MarketplaceJobs.notify(.declined, of: id, now: now),
        BookingRepository.announceChange(of: id))
      if let payment, payment.status == .succeeded {
        _ = try await tx.run(MarketplaceJobs.refund(payment.amount, of: payment.id, now: now))
      }
    }
  }

  /// Charges a pending payment. Success confirms the booking (or hands a request to its host);
  /// a booking that lapsed or was cancelled meanwhile gets the money back. A decline fails the
  /// payment; a transient gateway error is thrown, so the queue retries with backoff.
  public func processPayment(_ id: PaymentID) async throws {
    guard let payment = try await database.run(PaymentRepository.find(id: id)), payment.status == .pending else {
      return
    }
    let outcome = try await gateway.charge(
      payment.amount, methodToken: payment.methodToken, idempotencyKey: "charge-\(payment.id)")
    let now = clock.now
    switch outcome {
    case .declined(let reason):
      _ = try await database.run(PaymentRepository.fail(id: id, reason: reason))
    case .succeeded(let reference):
      try await database.withTransaction { tx in
        guard
          try await tx.run(
            PaymentRepository.transition(id: id, from: .pending, to: .succeeded, gatewayReference: reference)) != nil
        else { return }
        guard
          let (booking, listing) = try await tx.run(
            BookingRepository.findWithListing(id: payment.bookingID, locked: true))
        else { return }
        let next: Booking.Status
        do {
          next = try BookingLifecycle.next(
            after: .paymentSucceeded, from: booking.status, mode: listing.terms.bookingMode)
        } catch {
          // Lapsed or cancelled while the charge was in flight: nothing is booked, so all goes back.
          _ = try await tx.run(MarketplaceJobs.refund(payment.amount, of: id, now: now))
          return
        }
        let deadline =
          next == .awaitingHost
          ? now.adding(hostAnswerWindow) : timeZones.startOfDay(booking.stay.checkOut, in: listing.terms.timeZone)
        _ = try await tx.run(
          BookingRepository.transition(id: booking.id, from: booking.status, to: next, deadline: deadline),
          MarketplaceJobs.notify(next == .confirmed ? .confirmed : .awaitingHost, of: booking.id, now: now),
          BookingRepository.announceChange(of: booking.id))
        if next == .awaitingHost { _ = try await tx.run(MarketplaceJobs.hostTimeout(of: booking.id, at: deadline)) }
      }
    }
  }

  /// Pays `amountMinor` of a succeeded payment back.
  public func refund(_ id: PaymentID, amountMinor: Int64) async throws {
    guard let payment = try await database.run(PaymentRepository.find(id: id)), payment.status == .succeeded,
      let reference = payment.gatewayReference
    else { return }  // refunded already
    let amount = Money(amountMinor: amountMinor, currency: payment.amount.currency)
    switch try await gateway.refund(amount, of: reference, idempotencyKey: "refund-\(payment.id)") {
    case .declined(let reason):
      throw RefundDeclined(reason: reason)
    case .succeeded:
      _ = try await database.transaction(
        PaymentRepository.recordRefund(id: id, amount: amount),
        MarketplaceJobs.notify(.refunded, of: payment.bookingID, now: clock.now))
    }
  }

  /// The gateway refused a refund: an operator's matter (the job is kept as dead).
  struct RefundDeclined: Error {
    var reason: String
  }

  /// Tells the booking's guest and host of `event` (a message each in the outbox).
  public func notify(_ id: BookingID, event: String) async throws {
    guard let (booking, listing) = try await database.run(BookingRepository.findWithListing(id: id)) else { return }
    let kind = "booking.\(event)"
    let payload = JobPayload(["booking_id": id.description]).json
    _ = try await database.transaction(
      OutboxRepository.insertOnce(recipientID: booking.guestID, kind: kind, payload: payload),
      OutboxRepository.insertOnce(recipientID: listing.hostID, kind: kind, payload: payload))
  }

  /// The completion sweep: confirmed stays whose check-out day has come become completed (and so
  /// reviewable); how many did.
  public func completeEndedStays(batch: Int = 500) async throws -> Int {
    var completed = 0
    while true {
      let now = clock.now
      let done = try await database.run(BookingRepository.completeEnded(at: now, limit: batch))
      completed += done.count
      if done.count < batch { return completed }
    }
  }
}
