public import MarketplaceCore
public import Postgres

/// The durable job queue's statements (0007_jobs_outbox.sql, 0013_job_queue.sql). A job is enqueued
/// in the same transaction as the domain write that causes it; a worker claims it under a lease,
/// runs it, and records the outcome only while it still holds that lease.
///
/// Two clocks: whether a job is due compares its `run_after` with the domain's time (the injected
/// `WallClock`, which tests move), while leases expire by the database's real `now()` (they are
/// about whether a worker process is alive, not about the domain's calendar).
public enum JobRepository {
  /// The NOTIFY channel that wakes idle workers: sent by `enqueue` and `retryDead`, and delivered
  /// when their transaction commits. The payload is the job's id: one notification per job
  /// (PostgreSQL folds equal ones of a transaction), each waking one worker.
  public static let wakeChannel = "marketplace_jobs"

  static let columns = """
    id, kind, state, attempts, max_attempts, run_after, lease_owner, lease_expires_at, last_error,
    created_at, updated_at
    """
  static let select = SQL(unsafeRaw: "SELECT \(columns) FROM jobs")

  static func decode(_ row: inout ColumnReader) throws(PGError) -> JobRecord {
    JobRecord(
      id: try row.next(), kind: try row.next(), state: try row.value(), attempts: try row.next(),
      maxAttempts: try row.next(), runAfter: try row.next(), leaseOwner: try row.optional(),
      leaseExpiresAt: try row.optional(), lastError: try row.optional(), createdAt: try row.next(),
      updatedAt: try row.next())
  }

  /// Queues a job of `kind`, due at `runAfter`, and wakes idle workers when the transaction it
  /// runs in commits (so a job enqueued with a domain write that rolls back wakes nobody); returns
  /// its id.
  public static func enqueue(
    kind: String, payload: JobPayload = [:], runAfter: Timestamp, maxAttempts: Int = RetryPolicy().maxAttempts
  ) -> PGQuery<Int64> {
    PGQuery(
      """
      WITH job AS (
        INSERT INTO jobs (kind, payload, run_after, max_attempts)
        VALUES (\(kind), \(payload.json)::jsonb, \(runAfter), \(maxAttempts))
        RETURNING id)
      SELECT id, pg_notify(\(wakeChannel), id::text) FROM job
      """
    ) { try $0.decodeOne { row throws(PGError) in try row.next(Int64.self) } }
  }

  /// Claims the job that has been due longest (`run_after <= now`, in domain time), or one whose
  /// worker's lease ran out (in the database's time), for `owner` for `leaseSeconds`, counting an
  /// attempt; nil when none is. Concurrent claims skip each other's rows (SKIP LOCKED), so a job
  /// goes to one worker. The statement is the one 0007 describes for `jobs_claim_idx`: the bound
  /// on `run_after` stays out of the OR, so it is the index condition and the scan stops at the
  /// first claimable row. That bound is exact only while the domain clock does not go back (a
  /// running job's `run_after` is then in the past).
  public static func claim(owner: String, leaseSeconds: Double, now: Timestamp) -> PGQuery<ClaimedJob?> {
    PGQuery(
      """
      UPDATE jobs SET state = 'running', lease_owner = \(owner),
        lease_expires_at = now() + \(leaseSeconds) * interval '1 second', attempts = attempts + 1,
        updated_at = now()
      WHERE id = (SELECT id FROM jobs
                   WHERE state IN ('queued', 'running') AND run_after <= \(now)
                     AND (state = 'queued' OR lease_expires_at < now())
                   ORDER BY run_after LIMIT 1 FOR UPDATE SKIP LOCKED)
      RETURNING id, kind, payload, attempts, max_attempts
      """
    ) {
      try $0.decodeFirst { row throws(PGError) in
        let id: Int64 = try row.next()
        let kind: String = try row.next()
        let json: String = try row.next()
        guard let payload = JobPayload(json: json) else {
          throw PGError(.decoding, "the payload of job \(id) is not a JSON object")
        }
        return ClaimedJob(id: id, kind: kind, payload: payload, attempt: try row.next(), maxAttempts: try row.next())
      }
    }
  }

  /// Extends `owner`'s lease on job `id` to `leaseSeconds` from now (a heartbeat while a handler
  /// runs long); false if `owner` no longer holds the job.
  public static func extendLease(id: Int64, owner: String, leaseSeconds: Double) -> PGQuery<Bool> {
    PGQuery(
      """
      UPDATE jobs SET lease_expires_at = now() + \(leaseSeconds) * interval '1 second'
      WHERE id = \(id) AND state = 'running' AND lease_owner = \(owner)
      """
    ) { $0.rowsAffected == 1 }
  }

  // The outcomes below act only on a job `owner` still holds: a worker whose lease ran out and
  // whose job was claimed again must not overwrite the new attempt. Each keeps `lease_owner` (the
  // worker that ran the job last, for inspection) and drops the lease's expiry.

  /// Job `id` succeeded; false if `owner` no longer holds it.
  public static func succeed(id: Int64, owner: String) -> PGQuery<Bool> {
    PGQuery(
      """
      UPDATE jobs SET state = 'succeeded', lease_expires_at = NULL, updated_at = now()
      WHERE id = \(id) AND state = 'running' AND lease_owner = \(owner)
      """
    ) { $0.rowsAffected == 1 }
  }

  /// Job `id` failed and runs again once due at `runAfter` (domain time), remembering `error`;
  /// false if `owner` no longer holds it.
  public static func retry(id: Int64, owner: String, runAfter: Timestamp, error: String) -> PGQuery<Bool> {
    PGQuery(
      """
      UPDATE jobs SET state = 'queued', run_after = \(runAfter), last_error = \(error), lease_expires_at = NULL,
        updated_at = now()
      WHERE id = \(id) AND state = 'running' AND lease_owner = \(owner)
      """
    ) { $0.rowsAffected == 1 }
  }

  /// Job `id` failed in a way retrying cannot fix; false if `owner` no longer holds it.
  public static func fail(id: Int64, owner: String, error: String) -> PGQuery<Bool> {
    PGQuery(
      """
      UPDATE jobs SET state = 'failed', last_error = \(error), lease_expires_at = NULL, updated_at = now()
      WHERE id = \(id) AND state = 'running' AND lease_owner = \(owner)
      """
    ) { $0.rowsAffected == 1 }
  }

  /// Job `id` used up its attempts: dead, kept for inspection until an operator requeues it
  /// (`retryDead`); false if `owner` no longer holds it.
  public static func bury(id: Int64, owner: String, error: String) -> PGQuery<Bool> {
    PGQuery(
      """
      UPDATE jobs SET state = 'dead', last_error = \(error), lease_expires_at = NULL, updated_at = now()
      WHERE id = \(id) AND state = 'running' AND lease_owner = \(owner)
      """
    ) { $0.rowsAffected == 1 }
  }

  /// Deletes up to `limit` jobs that succeeded over `retentionSeconds` ago (the database's time,
  /// as for leases: retention is about storage, not the domain's calendar), oldest first; how many
  /// it deleted. Failed and dead jobs stay for inspection. Concurrent purges skip each other's rows.
  public static func purgeSucceeded(retentionSeconds: Double, limit: Int) -> PGQuery<Int> {
    PGQuery(
      """
      DELETE FROM jobs WHERE id = ANY (ARRAY (
        SELECT id FROM jobs WHERE state = 'succeeded' AND updated_at < now() - make_interval(secs => \(retentionSeconds))
        ORDER BY updated_at LIMIT \(limit) FOR UPDATE SKIP LOCKED))
      """
    ) { $0.rowsAffected }
  }

  /// The newest `limit` jobs in any of `states` (every state when empty), for the operator.
  /// Planned per execution: which index serves depends on the states asked for (0013's for
  /// running, failed and dead, the claim index for queued, the primary key for the rest).
  public static func list(states: [JobState], limit: Int) -> PGQuery<[JobRecord]> {
    func newest(_ state: JobState) -> SQL {
      // Equality, not `= ANY`: only then is the state's index range read in id order.
      "\(Self.select) WHERE state = \(state.rawValue) ORDER BY id DESC LIMIT \(limit)"
    }
    let sql: SQL
    switch states.count {
    case 0: sql = "\(Self.select) ORDER BY id DESC LIMIT \(limit)"
    case 1: sql = newest(states[0])
    default:
      // Each state's page, then the newest of those. With `state = ANY (...)` the planner may walk
      // the primary key backwards instead, reading every newer job of the other states.
      var union: SQL = "(\(newest(states[0])))"
      for state in states.dropFirst() { union.append(" UNION ALL (\(newest(state)))") }
      sql = "\(union) ORDER BY id DESC LIMIT \(limit)"
    }
    return PGQuery(sql) { try $0.decodeAll(Self.decode) }.plannedPerExecution()
  }

  public static func find(id: Int64) -> PGQuery<JobRecord?> {
    PGQuery(Self.select + " WHERE id = \(id)") { try $0.decodeFirst(Self.decode) }
  }

  /// Requeues dead job `id` with its attempts reset, due at `now` (domain time), and wakes idle
  /// workers; false if there is no such dead job. Its last error stays until the next attempt.
  public static func retryDead(id: Int64, now: Timestamp) -> PGQuery<Bool> {
    PGQuery(
      """
      WITH requeued AS (
        UPDATE jobs SET state = 'queued', attempts = 0, run_after = \(now), lease_owner = NULL,
          lease_expires_at = NULL, updated_at = now()
        WHERE id = \(id) AND state = 'dead'
        RETURNING id)
      SELECT id, pg_notify(\(wakeChannel), id::text) FROM requeued
      """
    ) { $0.count == 1 }
  }
}
