public import MarketplaceCore
public import Postgres

/// The durable job queue's statements (0007_jobs_outbox.sql). A job is enqueued in the same
/// transaction as the domain write that causes it.
public enum JobRepository {
  /// Queues a job of `kind` with a JSON `payload`, due at `runAfter`; returns its id.
  public static func enqueue(kind: String, payload: String, runAfter: Timestamp) -> PGQuery<Int64> {
    PGQuery(
      "INSERT INTO jobs (kind, payload, run_after) VALUES (\(kind), \(payload)::jsonb, \(runAfter)) RETURNING id"
    ) { result in try result[0].int64(0)! }
  }
}
