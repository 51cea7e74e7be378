-- 0012: the booking flow of the API. Request-to-book states, host blocks inside the double-booking
-- guard, the price breakdown, refunds, and the sandbox gateway's ledger.

-- Bookings: a paid request waits for the host (awaiting_host) and may be declined; a host's block
-- of dates is a row of its own status ('blocked', held by the host, no guests, no price), so that
-- the one exclusion constraint keeps stays and blocks apart: no check in the application could.
-- expires_at is when the booking moves on unless something happens first: while pending, the payment
-- deadline (it lapses); while awaiting_host, the host's (declined); while confirmed, the end of the
-- stay, check-out day's midnight in the listing's time zone (completed). Stored as an instant, the
-- completion sweep is one index range, exact in every time zone.
ALTER TABLE bookings
  ADD COLUMN cleaning_fee_minor bigint NOT NULL DEFAULT 0,
  DROP CONSTRAINT bookings_status_check,
  DROP CONSTRAINT bookings_guests_check,
  DROP CONSTRAINT bookings_pending_expiry_check,
  DROP CONSTRAINT bookings_no_overlap;

UPDATE bookings b SET expires_at = b.check_out::timestamp AT TIME ZONE p.time_zone
  FROM properties p WHERE p.id = b.property_id AND b.status = 'confirmed';

ALTER TABLE bookings
  ADD CONSTRAINT bookings_status_check CHECK (status IN
    ('pending', 'awaiting_host', 'confirmed', 'cancelled', 'declined', 'completed', 'blocked')),
  ADD CONSTRAINT bookings_guests_check CHECK ((status = 'blocked') = (guests = 0) AND guests >= 0),
  ADD CONSTRAINT bookings_deadline_check
    CHECK (status NOT IN ('pending', 'awaiting_host', 'confirmed') OR expires_at IS NOT NULL),
  -- The total is nights x nightly price + the cleaning fee, so the nightly price is exact.
  ADD CONSTRAINT bookings_price_check CHECK (cleaning_fee_minor >= 0 AND cleaning_fee_minor <= total_price_minor
    AND (total_price_minor - cleaning_fee_minor) % (check_out - check_in) = 0),
  -- THE double-booking guard (see 0004), now over every row that holds dates: unpaid, waiting for
  -- the host, confirmed, and the host's blocks. Every availability test repeats this predicate
  -- exactly, so that it can use this index.
  ADD CONSTRAINT bookings_no_overlap EXCLUDE USING gist (property_id WITH =, stay WITH &&)
    WHERE (status IN ('pending', 'awaiting_host', 'confirmed', 'blocked'));

-- The listing's host, copied onto its bookings (a listing never changes hands; the composite
-- foreign key proves the copy right), so that a host's bookings across all their listings are one
-- index range in page order: selected through properties they would be sorted, page after page.
ALTER TABLE properties ADD CONSTRAINT properties_id_host_key UNIQUE (id, host_id);
ALTER TABLE bookings ADD COLUMN host_id uuid;
UPDATE bookings b SET host_id = p.host_id FROM properties p WHERE p.id = b.property_id;
ALTER TABLE bookings ALTER COLUMN host_id SET NOT NULL,
  ADD CONSTRAINT bookings_property_host_fkey FOREIGN KEY (property_id, host_id) REFERENCES properties (id, host_id);

-- Serves: pages of bookings, latest check-in first, `ORDER BY check_in DESC, id DESC` with the keyset
-- `(check_in, id) < (...)`: a host's across their listings, and one listing's. (A guest's use
-- bookings_guest_id_idx.)
CREATE INDEX bookings_host_recent_idx ON bookings (host_id, check_in DESC, id DESC) WHERE status <> 'blocked';
CREATE INDEX bookings_property_recent_idx ON bookings (property_id, check_in DESC, id DESC)
  WHERE status <> 'blocked';

-- Serves: the completion sweep, `WHERE status = 'confirmed' AND expires_at <= $now ORDER BY expires_at`
-- (0004's index on check_out could not tell when check-out day begins in each listing's zone).
DROP INDEX bookings_confirmed_check_out_idx;
CREATE INDEX bookings_confirmed_end_idx ON bookings (expires_at) WHERE status = 'confirmed';

-- Payments: the gateway's token for the payment method (needed again when processing resumes after a
-- restart), refunds in part or in full, and why a charge was declined.
ALTER TABLE payments
  ADD COLUMN method_token text NOT NULL DEFAULT '',
  ADD COLUMN refunded_minor bigint NOT NULL DEFAULT 0,
  ADD COLUMN failure_reason text,
  DROP CONSTRAINT payments_status_check,
  DROP CONSTRAINT payments_gateway_reference_check;
ALTER TABLE payments
  ADD CONSTRAINT payments_status_check
    CHECK (status IN ('pending', 'succeeded', 'failed', 'refunded', 'partially_refunded')),
  ADD CONSTRAINT payments_gateway_reference_check
    CHECK (status NOT IN ('succeeded', 'refunded', 'partially_refunded') OR gateway_reference IS NOT NULL),
  ADD CONSTRAINT payments_refunded_check CHECK (refunded_minor BETWEEN 0 AND amount_minor),
  ADD CONSTRAINT payments_method_token_check CHECK (octet_length(method_token) <= 255);
DROP INDEX payments_booking_live_key;
-- Pages of a payer's and a booking's payments, newest first with the keyset `(created_at, id)`,
-- read in index order (0005's indexes lacked the id, so a page sorted all of them).
DROP INDEX payments_booking_id_idx;
DROP INDEX payments_payer_id_idx;
CREATE INDEX payments_booking_id_idx ON payments (booking_id, created_at DESC, id DESC);
CREATE INDEX payments_payer_id_idx ON payments (payer_id, created_at DESC, id DESC);
-- A booking is paid at most once: one payment at a time that is pending or moved money.
CREATE UNIQUE INDEX payments_booking_live_key ON payments (booking_id)
  WHERE status IN ('pending', 'succeeded', 'refunded', 'partially_refunded');

-- The sandbox gateway's ledger: every charge and refund it made, once per idempotency key (as a real
-- gateway dedupes by key). Tests count charges here; nothing else reads it.
CREATE TABLE sandbox_gateway_operations (
  idempotency_key text        NOT NULL,
  kind            text        NOT NULL,
  amount_minor    bigint      NOT NULL,
  currency        text        NOT NULL,
  method_token    text        NOT NULL,
  -- Calls that carried this key: more than 1 means a retry the key kept from charging twice.
  calls           integer     NOT NULL DEFAULT 1,
  reference       text        NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),

  CONSTRAINT sandbox_gateway_operations_pkey PRIMARY KEY (idempotency_key),
  CONSTRAINT sandbox_gateway_operations_kind_check CHECK (kind IN ('charge', 'refund'))
);
-- The transient-failure token fails a given number of calls per key before it succeeds.
CREATE TABLE sandbox_gateway_failures (
  idempotency_key text    NOT NULL,
  failures        integer NOT NULL,
  CONSTRAINT sandbox_gateway_failures_pkey PRIMARY KEY (idempotency_key)
);
