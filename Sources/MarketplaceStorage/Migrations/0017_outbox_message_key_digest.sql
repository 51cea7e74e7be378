-- 0017: the outbox's message key holds a digest of the payload, not the payload. A btree entry
-- must fit in a third of a page (2,704 bytes), so under 0016's key a message whose payload was
-- larger could not be queued at all ("index row size exceeds btree maximum"). jsonb's text form is
-- canonical (key order and spacing), so the same JSON still has the same digest.

DROP INDEX outbox_message_key;

-- Serves: insertOnce, `INSERT ... ON CONFLICT (recipient_id, kind, md5(payload::text)) DO NOTHING`.
CREATE UNIQUE INDEX outbox_message_key ON outbox (recipient_id, kind, md5(payload::text));
