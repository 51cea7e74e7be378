-- 0010: the terms a host sets on a listing, which bookings follow: the place's time zone (which
-- calendar day is "today" there), minimum and maximum nights, a cleaning fee, instant booking or
-- request-to-book, and a cancellation policy. The defaults keep every existing listing valid and
-- bookable as before: UTC, 1 to 365 nights, no fee, instant, flexible.
--
-- The cleaning fee is in the listing's currency (a fee of 0 means none). The time zone is checked
-- by the application against the IANA database (a CHECK cannot consult pg_timezone_names).

ALTER TABLE properties
  ADD COLUMN time_zone           text    NOT NULL DEFAULT 'UTC',
  ADD COLUMN min_nights          integer NOT NULL DEFAULT 1,
  ADD COLUMN max_nights          integer NOT NULL DEFAULT 365,
  ADD COLUMN cleaning_fee_minor  bigint  NOT NULL DEFAULT 0,
  ADD COLUMN booking_mode        text    NOT NULL DEFAULT 'instant',
  ADD COLUMN cancellation_policy text    NOT NULL DEFAULT 'flexible',
  ADD CONSTRAINT properties_time_zone_check CHECK (time_zone <> ''),
  ADD CONSTRAINT properties_nights_check CHECK (min_nights BETWEEN 1 AND 365 AND max_nights BETWEEN min_nights AND 365),
  ADD CONSTRAINT properties_cleaning_fee_check CHECK (cleaning_fee_minor >= 0),
  ADD CONSTRAINT properties_booking_mode_check CHECK (booking_mode IN ('instant', 'request')),
  ADD CONSTRAINT properties_cancellation_policy_check
    CHECK (cancellation_policy IN ('flexible', 'moderate', 'strict'));

-- Server-wide secrets shared by every server process on this database: the key that signs page
-- tokens, so that a token from one process pages on in another. Created by the first process that
-- needs one (INSERT ... ON CONFLICT DO NOTHING), never returned to clients.
CREATE TABLE server_keys (
  name       text        NOT NULL,
  key        bytea       NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),

  CONSTRAINT server_keys_pkey PRIMARY KEY (name),
  CONSTRAINT server_keys_key_check CHECK (octet_length(key) >= 32)
);
