-- 0003: listings.
--
-- Money is an integer count of minor units (cents) plus an ISO 4217 code, never a float.
-- Codes are text pinned by a CHECK to exactly 2 / 3 upper-case ASCII letters (not char(n), whose
-- blank-padding semantics surprise). Soft delete: a deleted listing keeps its row (bookings, payments and
-- reviews reference it) and gets deleted_at; every search index below is partial on deleted_at IS NULL.

CREATE TABLE properties (
  id                    uuid             NOT NULL DEFAULT gen_random_uuid(),
  host_id               uuid             NOT NULL,
  name                  text             NOT NULL,
  description           text             NOT NULL DEFAULT '',
  address               text             NOT NULL,
  city                  text             NOT NULL,
  country               text             NOT NULL,  -- ISO 3166-1 alpha-2, e.g. 'FR'
  latitude              double precision,
  longitude             double precision,
  price_per_night_minor bigint           NOT NULL,
  currency              text             NOT NULL,  -- ISO 4217, e.g. 'EUR'
  max_guests            integer          NOT NULL,
  -- Sum and count of review ratings, changed in the review's transaction; average = sum / count.
  rating_sum            bigint           NOT NULL DEFAULT 0,
  rating_count          bigint           NOT NULL DEFAULT 0,
  created_at            timestamptz      NOT NULL DEFAULT now(),
  updated_at            timestamptz      NOT NULL DEFAULT now(),
  deleted_at            timestamptz,

  CONSTRAINT properties_pkey PRIMARY KEY (id),
  CONSTRAINT properties_host_id_fkey FOREIGN KEY (host_id) REFERENCES users (id),
  CONSTRAINT properties_name_check CHECK (btrim(name) <> ''),
  CONSTRAINT properties_address_check CHECK (btrim(address) <> ''),
  CONSTRAINT properties_city_check CHECK (btrim(city) <> ''),
  CONSTRAINT properties_country_check CHECK (country ~ '^[A-Z]{2}$'),
  CONSTRAINT properties_latitude_check CHECK (latitude BETWEEN -90 AND 90),
  CONSTRAINT properties_longitude_check CHECK (longitude BETWEEN -180 AND 180),
  CONSTRAINT properties_coordinates_check CHECK ((latitude IS NULL) = (longitude IS NULL)),
  CONSTRAINT properties_price_check CHECK (price_per_night_minor > 0),
  CONSTRAINT properties_currency_check CHECK (currency ~ '^[A-Z]{3}$'),
  CONSTRAINT properties_max_guests_check CHECK (max_guests > 0),
  -- Every rating is 1..5, so the sum lies between count and 5 * count (and both are >= 0).
  CONSTRAINT properties_rating_check
    CHECK (rating_count >= 0 AND rating_sum BETWEEN rating_count AND 5 * rating_count),
  CONSTRAINT properties_deleted_at_check CHECK (deleted_at IS NULL OR deleted_at >= created_at)
);

-- Serves: search by place, `WHERE deleted_at IS NULL AND lower(city) = lower($1) [AND country = $2]
--   [AND price_per_night_minor BETWEEN $3 AND $4] [AND max_guests >= $5] ORDER BY price_per_night_minor`.
-- City is matched case-insensitively through lower(city) (spell it so in the query). Equality columns
-- first, then the price range (which also yields price order), then max_guests so the guest filter is
-- checked inside the index before any heap visit. A city alone (no country) still uses it.
CREATE INDEX properties_search_city_idx
  ON properties (lower(city), country, price_per_night_minor, max_guests)
  WHERE deleted_at IS NULL;

-- Serves: search by country only, `WHERE deleted_at IS NULL AND country = $1 [AND price range]
--   [AND max_guests >= $n] ORDER BY price_per_night_minor` (the city index leads with city, and
-- PostgreSQL 15 has no skip scan).
CREATE INDEX properties_search_country_idx
  ON properties (country, price_per_night_minor, max_guests)
  WHERE deleted_at IS NULL;

-- Serves: search with no place, by price range and/or guests,
-- `WHERE deleted_at IS NULL [AND price_per_night_minor BETWEEN $1 AND $2] [AND max_guests >= $3]
--   ORDER BY price_per_night_minor LIMIT n` (also the unfiltered "browse by price" page).
CREATE INDEX properties_search_price_idx
  ON properties (price_per_night_minor, max_guests)
  WHERE deleted_at IS NULL;

-- Serves: a host's listings, `WHERE host_id = $1 [AND deleted_at IS NULL] ORDER BY created_at DESC`;
-- also the foreign key check from users. Not partial: hosts (and admins) may list deleted ones too.
CREATE INDEX properties_host_id_idx ON properties (host_id, created_at DESC);
