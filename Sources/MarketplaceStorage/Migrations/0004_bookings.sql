-- 0004: bookings, and the database-enforced rule that no two active stays of one property overlap.
--
-- A stay is the half-open date range [check_in, check_out): the guest leaves on check_out, so a stay
-- ending 07-04 and one starting 07-04 do not overlap. Dates are `date` (no time zone).
-- Lifecycle: pending -> confirmed (paid) | cancelled (incl. unpaid expiry);
--            confirmed -> cancelled (before check-in) | completed (after check-out).

CREATE TABLE bookings (
  id                uuid        NOT NULL DEFAULT gen_random_uuid(),
  property_id       uuid        NOT NULL,
  guest_id          uuid        NOT NULL,
  check_in          date        NOT NULL,
  check_out         date        NOT NULL,
  stay              daterange   NOT NULL GENERATED ALWAYS AS (daterange(check_in, check_out, '[)')) STORED,
  guests            integer     NOT NULL,
  total_price_minor bigint      NOT NULL,
  currency          text        NOT NULL,  -- ISO 4217
  status            text        NOT NULL DEFAULT 'pending',
  -- When an unpaid pending booking lapses and frees its dates (the expiry job cancels it).
  expires_at        timestamptz,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),

  CONSTRAINT bookings_pkey PRIMARY KEY (id),
  CONSTRAINT bookings_property_id_fkey FOREIGN KEY (property_id) REFERENCES properties (id),
  CONSTRAINT bookings_guest_id_fkey FOREIGN KEY (guest_id) REFERENCES users (id),
  CONSTRAINT bookings_dates_check
    CHECK (check_out > check_in AND isfinite(check_in) AND isfinite(check_out)),
  CONSTRAINT bookings_guests_check CHECK (guests > 0),
  CONSTRAINT bookings_total_price_check CHECK (total_price_minor >= 0),
  CONSTRAINT bookings_currency_check CHECK (currency ~ '^[A-Z]{3}$'),
  CONSTRAINT bookings_status_check CHECK (status IN ('pending', 'confirmed', 'cancelled', 'completed')),
  -- An unpaid booking always lapses; otherwise it could hold the dates forever.
  CONSTRAINT bookings_pending_expiry_check CHECK (status <> 'pending' OR expires_at IS NOT NULL),

  -- THE double-booking guard: no two pending/confirmed bookings of one property with overlapping stays,
  -- even under concurrent transactions. Violation: SQLSTATE 23P01 (exclusion_violation), which the app
  -- maps to datesUnavailable. Cancelled and completed rows are outside the predicate, so cancelling frees
  -- the dates. Its GiST index also serves the availability test
  -- `EXISTS (SELECT 1 FROM bookings WHERE property_id = $1 AND stay && daterange($2, $3, '[)')
  --          AND status IN ('pending', 'confirmed'))`, used by CreateBooking and by search.
  CONSTRAINT bookings_no_overlap
    EXCLUDE USING gist (property_id WITH =, stay WITH &&) WHERE (status IN ('pending', 'confirmed')),

  -- Target of the composite foreign keys from payments and reviews, which prove that their copies of
  -- property and guest agree with the booking.
  CONSTRAINT bookings_id_property_guest_key UNIQUE (id, property_id, guest_id)
);

-- Serves: a guest's trips, `WHERE guest_id = $1 ORDER BY check_in DESC`; also the FK check from users.
CREATE INDEX bookings_guest_id_idx ON bookings (guest_id, check_in DESC);

-- Serves: a property's bookings by date (host calendar / reservations list, any status),
-- `WHERE property_id = $1 [AND check_in >= $2] ORDER BY check_in`; also the FK check from properties.
CREATE INDEX bookings_property_id_idx ON bookings (property_id, check_in);

-- Serves: the unpaid-expiry sweep, `WHERE status = 'pending' AND expires_at <= now() ORDER BY expires_at`.
-- Partial: only pending rows are ever due, so the index stays small.
CREATE INDEX bookings_pending_expiry_idx ON bookings (expires_at) WHERE status = 'pending';

-- Serves: the completion sweep, `WHERE status = 'confirmed' AND check_out <= $today`
-- (confirmed -> completed after check-out, which is what makes a stay reviewable).
CREATE INDEX bookings_confirmed_check_out_idx ON bookings (check_out) WHERE status = 'confirmed';
