public import MarketplaceCore
public import Postgres

/// Messages to users that a mailer sends (0007_jobs_outbox.sql, 0016_outbox_message_key.sql,
/// 0017_outbox_message_key_digest.sql).
public enum OutboxRepository {
  /// Queues a message of `kind` ("booking.confirmed") for `recipientID` with a JSON `payload`,
  /// unless the same message was queued before (a notification job that runs again sends
  /// nothing twice); whether it queued one.
  public static func insertOnce(recipientID: UserID, kind: String, payload: String) -> PGQuery<Bool> {
    PGQuery(
      """
      INSERT INTO outbox (recipient_id, kind, payload) VALUES (\(recipientID), \(kind), \(payload)::jsonb)
      ON CONFLICT (recipient_id, kind, md5(payload::text)) DO NOTHING
      """
    ) { $0.rowsAffected == 1 }
  }
}
