/// Where a job is in its life (0007_jobs_outbox.sql): `queued` -> `running` (claimed by a worker,
/// under a lease) -> `succeeded`, `queued` again (a retry, later), `failed` (not retryable) or
/// `dead` (attempts used up; kept for inspection, requeued only by an operator).
public enum JobState: String, Sendable, Hashable, CaseIterable {
  case queued, running, succeeded, failed, dead
}

/// A job a worker claimed: it holds the job's lease until it records an outcome.
public struct ClaimedJob: Sendable, Hashable {
  public var id: Int64
  /// What to do, e.g. `booking.expire`: selects the handler.
  public var kind: String
  public var payload: JobPayload
  /// This attempt's number, from 1. It can exceed `maxAttempts` when a worker lost its last
  /// attempt (its lease ran out) and the job was claimed again.
  public var attempt: Int
  /// Attempts the job gets in all.
  public var maxAttempts: Int

  public init(id: Int64, kind: String, payload: JobPayload, attempt: Int, maxAttempts: Int) {
    self.id = id
    self.kind = kind
    self.payload = payload
    self.attempt = attempt
    self.maxAttempts = maxAttempts
  }
}

/// A job as an operator inspects it (its payload left out: it may hold personal data).
public struct JobRecord: Sendable, Hashable {
  public var id: Int64
  public var kind: String
  public var state: JobState
  /// Attempts started so far (a claim counts one).
  public var attempts: Int
  public var maxAttempts: Int
  /// When it is due (or was, once it ran).
  public var runAfter: Timestamp
  /// The worker that holds it (running), or the last one that ran it.
  public var leaseOwner: String?
  public var leaseExpiresAt: Timestamp?
  /// What the last failed attempt said.
  public var lastError: String?
  public var createdAt: Timestamp
  public var updatedAt: Timestamp

  public init(
    id: Int64, kind: String, state: JobState, attempts: Int, maxAttempts: Int, runAfter: Timestamp,
    leaseOwner: String?, leaseExpiresAt: Timestamp?, lastError: String?, createdAt: Timestamp, updatedAt: Timestamp
  ) {
    self.id = id
    self.kind = kind
    self.state = state
    self.attempts = attempts
    self.maxAttempts = maxAttempts
    self.runAfter = runAfter
    self.leaseOwner = leaseOwner
    self.leaseExpiresAt = leaseExpiresAt
    self.lastError = lastError
    self.createdAt = createdAt
    self.updatedAt = updatedAt
  }
}
