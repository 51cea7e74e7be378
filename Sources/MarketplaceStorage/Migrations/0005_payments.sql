-- 0005: payments.
--
-- Idempotency: (payer_id, idempotency_key) is unique. A retry with the same key finds the existing row;
-- request_fingerprint (a digest of the request's canonical parameters) tells a true retry from a reused
-- key with other parameters, which is rejected. The gateway is called with the payment id as its own
-- idempotency key, so no retry charges twice.

CREATE TABLE payments (
  id                  uuid        NOT NULL DEFAULT gen_random_uuid(),
  booking_id          uuid        NOT NULL,
  payer_id            uuid        NOT NULL,
  property_id         uuid        NOT NULL,
  amount_minor        bigint      NOT NULL,
  currency            text        NOT NULL,  -- ISO 4217
  method              text        NOT NULL,
  status              text        NOT NULL DEFAULT 'pending',
  -- The gateway's id for the charge, known once the gateway has answered.
  gateway_reference   text,
  idempotency_key     text        NOT NULL,
  -- 32-byte digest (SHA-256 / BLAKE2b-256) of the canonical request parameters.
  request_fingerprint bytea       NOT NULL,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),

  CONSTRAINT payments_pkey PRIMARY KEY (id),
  -- The payment's property and payer are the booking's property and guest; this also makes them
  -- existing users and properties (bookings references both), so no separate FKs are needed.
  CONSTRAINT payments_booking_fkey FOREIGN KEY (booking_id, property_id, payer_id)
    REFERENCES bookings (id, property_id, guest_id),
  CONSTRAINT payments_amount_check CHECK (amount_minor > 0),
  CONSTRAINT payments_currency_check CHECK (currency ~ '^[A-Z]{3}$'),
  CONSTRAINT payments_method_check CHECK (method IN ('card', 'bank_transfer', 'wallet')),
  CONSTRAINT payments_status_check CHECK (status IN ('pending', 'succeeded', 'failed', 'refunded')),
  -- Money that moved has a gateway reference.
  CONSTRAINT payments_gateway_reference_check
    CHECK (status NOT IN ('succeeded', 'refunded') OR gateway_reference IS NOT NULL),
  CONSTRAINT payments_idempotency_key_check
    CHECK (idempotency_key <> '' AND octet_length(idempotency_key) <= 255),
  CONSTRAINT payments_request_fingerprint_check CHECK (octet_length(request_fingerprint) = 32)
);

-- Serves: CreatePayment's idempotency lookup, `WHERE payer_id = $1 AND idempotency_key = $2`.
-- Enforces: a key is used once per payer, even under concurrent retries (the loser gets 23505, re-reads
-- the winner's row and compares request_fingerprint).
CREATE UNIQUE INDEX payments_payer_idempotency_key ON payments (payer_id, idempotency_key);

-- Enforces: a booking is paid at most once. At most one payment per booking is pending, succeeded or
-- refunded; after a failed payment a new one may be made. A second payment with a different key while
-- one is live gets 23505 here. Also serves `WHERE booking_id = $1 AND status IN (...)`.
CREATE UNIQUE INDEX payments_booking_live_key ON payments (booking_id)
  WHERE status IN ('pending', 'succeeded', 'refunded');

-- Serves: a booking's payment history, `WHERE booking_id = $1 ORDER BY created_at`
-- (and the refund job finding the booking's payment); also the FK check from bookings.
CREATE INDEX payments_booking_id_idx ON payments (booking_id, created_at);

-- Serves: a payer's payments, `WHERE payer_id = $1 ORDER BY created_at DESC`.
CREATE INDEX payments_payer_id_idx ON payments (payer_id, created_at DESC);
