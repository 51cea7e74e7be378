-- 0014: an unpaid booking lapses by its own job (booking.lapse, enqueued with the booking), not by a
-- sweep over pending bookings: the sweep's index has no reader left, and cost an entry for every booking
-- made and an update for every one paid or cancelled.
DROP INDEX bookings_pending_expiry_idx;
