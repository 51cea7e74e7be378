import MarketplaceCore
import MarketplaceStorage
import Postgres

/// The marketplace's background jobs: their kinds, and the statements that enqueue them. A job is
/// enqueued in the transaction of the write that causes it, so it exists exactly when that write
/// committed; its handler (`BookingWorkflows`) is idempotent, since a job may run more than once.
enum MarketplaceJobs {
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

  static func lapse(of booking: BookingID, at deadline: Timestamp) -> PGQuery<Int64> {
    JobRepository.enqueue(kind: lapse, payload: payload(["booking_id": booking.description]), runAfter: deadline)
  }

  static func hostTimeout(of booking: BookingID, at deadline: Timestamp) -> PGQuery<Int64> {
    JobRepository.enqueue(kind: hostTimeout, payload: payload(["booking_id": booking.description]), runAfter: deadline)
  }

  static func processPayment(_ payment: PaymentID, now: Timestamp) -> PGQuery<Int64> {
    JobRepository.enqueue(kind: processPayment, payload: payload(["payment_id": payment.description]), runAfter: now)
  }

  static func refund(_ amount: Money, of payment: PaymentID, now: Timestamp) -> PGQuery<Int64> {
    JobRepository.enqueue(
      kind: refund, payload: payload(["payment_id": payment.description, "amount_minor": "\(amount.amountMinor)"]),
      runAfter: now)
  }

  /// What a booking notification announces.
  enum Event: String {
    case confirmed, declined, cancelled, refunded
    case awaitingHost = "awaiting_host"
  }

  static func notify(_ event: Event, of booking: BookingID, now: Timestamp) -> PGQuery<Int64> {
    JobRepository.enqueue(
      kind: notify, payload: payload(["booking_id": booking.description, "event": event.rawValue]), runAfter: now)
  }

  /// A flat JSON object of `fields` (ids, numbers and event names: nothing to escape but quotes
  /// and backslashes, escaped anyway).
  static func payload(_ fields: [String: String]) -> String {
    func quoted(_ text: String) -> String {
      "\"" + text.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"") + "\""
    }
    return "{"
      + fields.sorted { $0.key < $1.key }.map { quoted($0.key) + ":" + quoted($0.value) }.joined(separator: ",")
      + "}"
  }
}
