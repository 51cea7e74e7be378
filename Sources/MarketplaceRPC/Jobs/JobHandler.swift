public import MarketplaceCore

/// Runs the jobs of one kind (`booking.expire`, `payment.process`, ...) for a `JobRunner`.
///
/// - Important: Handlers must be idempotent. A job runs at least once, not exactly once: a worker
///   that dies, or loses its lease (a handler stalled past it), or cannot record the outcome
///   (the database went away at that moment) leaves the job to be claimed and run again. Check
///   the state the job is meant to change before changing it (`UPDATE ... WHERE status =
///   'pending'`), and give outside calls an idempotency key derived from the job (its id).
///
/// Returning records success. Throwing `JobFailure.permanent` fails the job for good; any other
/// error is retried with backoff (`RetryPolicy`) until its attempts are used up, and then the job
/// is dead. What an error describes is stored in the job's `last_error` and shown to operators
/// (`marketplace-server jobs list`): name ids, not personal data. Logs name only the error's type.
///
/// A handler runs on the cooperative thread pool and must not block its thread. It is not
/// cancelled when the process shuts down: the runner lets it finish. So it bounds its outside calls
/// with timeouts: one that never returns holds its worker, and (the lease being extended while it
/// runs) its job.
public protocol JobHandler: Sendable {
  func handle(_ job: ClaimedJob) async throws
}

/// What a handler throws when running the job again cannot help (the booking it refers to is
/// gone, the payload lacks a field): the job fails at once, without retries.
public enum JobFailure: Error, Sendable, Hashable, CustomStringConvertible {
  /// Why, stored as the job's last error: ids, never personal data.
  case permanent(String)

  public var description: String {
    switch self {
    case .permanent(let reason): reason
    }
  }
}

/// A handler made of a closure, for handlers with no state of their own:
/// `"booking.expire": JobHandlerFunction { job in ... }`.
public struct JobHandlerFunction: JobHandler {
  private let body: @Sendable (ClaimedJob) async throws -> Void

  public init(_ body: @escaping @Sendable (ClaimedJob) async throws -> Void) { self.body = body }

  public func handle(_ job: ClaimedJob) async throws { try await body(job) }
}
