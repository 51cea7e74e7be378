public import MarketplaceCore
import MarketplaceStorage
public import Postgres

/// The marketplace's background jobs: their kinds, the statements that enqueue them, and their
/// handlers. A job is enqueued in the transaction of the write that causes it, so it exists
/// exactly when that write committed; its handler (`BookingWorkflows`) is idempotent, since a
/// job may run more than once.
public enum MarketplaceJobs {
  /// Cancels an unpaid booking at its payment deadline. Payload: booking_id.
  static let lapse = "booking.lapse"
  /// Declines a paid request the host left unanswered. Payload: booking_id.
  static let hostTimeout = "booking.host_timeout"
  /// Charges a pending payment through the gateway. Payload: payment_id.
  static let processPayment = "payment.process"
  /// Pays a refund back through the gateway. Payload: payment_id, amount_minor.
  static let refund = "payment.refund"
  /// Tells the guest and the host that a booking changed (an outbox message each). Payload:
  /// booking_id, event.
  static let notify = "booking.notify"

  /// The handler of each kind, over `workflows`.
  public static func handlers(_ workflows: BookingWorkflows) -> [String: any JobHandler] {
    [
      lapse: JobHandlerFunction { try await workflows.lapse(try $0.id("booking_id")) },
      hostTimeout: JobHandlerFunction { try await workflows.hostTimeout(try $0.id("booking_id")) },
      processPayment: JobHandlerFunction { try await workflows.processPayment(try $0.id("payment_id")) },
      refund: JobHandlerFunction { job in
        guard let amount = job.payload["amount_minor"].flatMap({ Int64($0) }), amount > 0 else {
          throw JobFailure.permanent("payload has no positive amount_minor")
        }
        try await workflows.refund(try job.id("payment_id"), amountMinor: amount)
      },
      notify: JobHandlerFunction { job in
        guard let event = job.payload["event"] else { throw JobFailure.permanent("payload has no event") }
        try await workflows.notify(try job.id("booking_id"), event: event)
      },
    ]
  }

  public static func lapse(of booking: BookingID, at deadline: Timestamp) -> PGQuery<Int64> {
    JobRepository.enqueue(kind: lapse, payload: ["booking_id": booking.description], runAfter: deadline)
  }

  static func hostTimeout(of booking: BookingID, at deadline: Timestamp) -> PGQuery<Int64> {
    JobRepository.enqueue(kind: hostTimeout, payload: ["booking_id": booking.description], runAfter: deadline)
  }

  static func processPayment(_ payment: PaymentID, now: Timestamp) -> PGQuery<Int64> {
    JobRepository.enqueue(kind: processPayment, payload: ["payment_id": payment.description], runAfter: now)
  }

  static func refund(_ amount: Money, of payment: PaymentID, now: Timestamp) -> PGQuery<Int64> {
    JobRepository.enqueue(
      kind: refund, payload: ["payment_id": payment.description, "amount_minor": "\(amount.amountMinor)"],
      runAfter: now)
  }

  /// What a booking notification announces.
  public enum Event: String, Sendable {
    case confirmed, declined, cancelled, refunded
    case awaitingHost = "awaiting_host"
  }

  public static func notify(_ event: Event, of booking: BookingID, now: Timestamp) -> PGQuery<Int64> {
    JobRepository.enqueue(
      kind: notify, payload: ["booking_id": booking.description, "event": event.rawValue], runAfter: now)
  }
}

extension ClaimedJob {
  /// The id in the payload's `key`; a job without one can never succeed.
  fileprivate func id<Entity>(_ key: String) throws -> Identifier<Entity> {
    guard let id = payload[key].flatMap({ Identifier<Entity>($0) }) else {
      throw JobFailure.permanent("payload has no valid \(key)")
    }
    return id
  }
}
