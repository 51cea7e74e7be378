public import MarketplaceCore
public import Postgres

/// Messages to users that a mailer sends (0007_jobs_outbox.sql).
public enum OutboxRepository {
  /// Queues a message of `kind` ("booking.confirmed") for `recipientID` with a JSON `payload`,
  /// unless the same message was queued before (a notification job that runs again sends
  /// nothing twice); whether it queued one.
  public static func insertOnce(recipientID: UserID, kind: String, payload: String) -> PGQuery<Bool> {
    PGQuery(
      """
      INSERT INTO outbox (recipient_id, kind, payload)
      SELECT \(recipientID), \(kind), \(payload)::jsonb
      WHERE NOT EXISTS (SELECT 1 FROM outbox WHERE recipient_id = \(recipientID) AND kind = \(kind)
                          AND payload = \(payload)::jsonb)
      """
    ) { $0.rowsAffected == 1 }
  }
}
