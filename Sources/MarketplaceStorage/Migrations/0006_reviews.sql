-- 0006: reviews. Only the guest of a completed booking reviews it, once (completion is checked by the app
-- in the same transaction that adds the rating to properties.rating_sum / rating_count).

CREATE TABLE reviews (
  id          uuid        NOT NULL DEFAULT gen_random_uuid(),
  booking_id  uuid        NOT NULL,
  property_id uuid        NOT NULL,
  author_id   uuid        NOT NULL,
  rating      smallint    NOT NULL,
  comment     text        NOT NULL DEFAULT '',
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),

  CONSTRAINT reviews_pkey PRIMARY KEY (id),
  -- The review's property and author are the booking's property and guest (hosts do not review);
  -- this also makes them an existing property and user (bookings references both).
  CONSTRAINT reviews_booking_fkey FOREIGN KEY (booking_id, property_id, author_id)
    REFERENCES bookings (id, property_id, guest_id),
  CONSTRAINT reviews_rating_check CHECK (rating BETWEEN 1 AND 5)
);

-- Enforces: one review per booking (a second one gets 23505 -> alreadyReviewed).
-- Serves: `WHERE booking_id = $1` (has this stay been reviewed?) and the FK check from bookings.
CREATE UNIQUE INDEX reviews_booking_id_key ON reviews (booking_id);

-- Serves: a property's reviews, newest first, keyset-paginated,
-- `WHERE property_id = $1 [AND (created_at, id) < ($2, $3)] ORDER BY created_at DESC, id DESC LIMIT n`.
CREATE INDEX reviews_property_recent_idx ON reviews (property_id, created_at DESC, id DESC);

-- Serves: a user's own reviews, `WHERE author_id = $1 ORDER BY created_at DESC`; also the FK check.
CREATE INDEX reviews_author_id_idx ON reviews (author_id, created_at DESC);
