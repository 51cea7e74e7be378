-- 0016: a message is queued once (OutboxRepository.insertOnce) by a unique key on what it is:
-- its recipient, kind and payload. The NOT EXISTS it replaces read every message its recipient
-- ever had, so each notification cost more than the last: a host with thousands of bookings, or a
-- guest booking again and again, made it a scan of the outbox per notification.

-- Only a race of two runs of one job could have left a message twice; keep the first.
DELETE FROM outbox later USING outbox earlier
WHERE later.recipient_id = earlier.recipient_id AND later.kind = earlier.kind
  AND later.payload = earlier.payload AND later.id > earlier.id;

-- Serves: insertOnce, `INSERT ... ON CONFLICT (recipient_id, kind, payload) DO NOTHING`.
CREATE UNIQUE INDEX outbox_message_key ON outbox (recipient_id, kind, payload);
