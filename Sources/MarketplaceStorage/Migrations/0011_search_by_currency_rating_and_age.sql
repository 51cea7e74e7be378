-- 0011: search by currency and minimum rating, ordered by price, by rating or newest first.
--
-- Every search reads one index range in page order and stops after the page (0008's principle):
-- for each place shape (city, country, none) and each order (price; rating, highest first; newest
-- first) there is an index that leads with the place and then holds listings in that order, with
-- the keyset's id after the sort key. The filters that are not the order's key (party size,
-- currency, price, rating) follow as trailing index columns, so they are checked in the index
-- before any heap visit. Nine indexes, all partial on live listings: writes to properties are rare
-- next to searches.
--
-- The average rating is a stored generated column (0 without reviews), so it can be indexed and
-- compared as one value; reviews keep changing only rating_sum and rating_count.

ALTER TABLE properties ADD COLUMN rating_average double precision NOT NULL
  GENERATED ALWAYS AS (CASE WHEN rating_count = 0 THEN 0 ELSE rating_sum::double precision / rating_count END) STORED;

DROP INDEX properties_search_city_idx;
DROP INDEX properties_search_country_idx;
DROP INDEX properties_search_price_idx;

-- Order by price: `ORDER BY price_per_night_minor, id`, keyset `(price_per_night_minor, id) > (...)`.
CREATE INDEX properties_search_city_idx
  ON properties (lower(city), price_per_night_minor, id, max_guests, currency, rating_average)
  WHERE deleted_at IS NULL;
CREATE INDEX properties_search_country_idx
  ON properties (country, price_per_night_minor, id, max_guests, currency, rating_average)
  WHERE deleted_at IS NULL;
CREATE INDEX properties_search_price_idx
  ON properties (price_per_night_minor, id, max_guests, currency, rating_average)
  WHERE deleted_at IS NULL;

-- Order by rating: `ORDER BY rating_average DESC, id DESC`, keyset `(rating_average, id) < (...)`.
CREATE INDEX properties_search_city_rating_idx
  ON properties (lower(city), rating_average DESC, id DESC, max_guests, currency, price_per_night_minor)
  WHERE deleted_at IS NULL;
CREATE INDEX properties_search_country_rating_idx
  ON properties (country, rating_average DESC, id DESC, max_guests, currency, price_per_night_minor)
  WHERE deleted_at IS NULL;
CREATE INDEX properties_search_rating_idx
  ON properties (rating_average DESC, id DESC, max_guests, currency, price_per_night_minor)
  WHERE deleted_at IS NULL;

-- Newest first: `ORDER BY created_at DESC, id DESC`, keyset `(created_at, id) < (...)`.
CREATE INDEX properties_search_city_newest_idx
  ON properties (lower(city), created_at DESC, id DESC, max_guests, currency, price_per_night_minor, rating_average)
  WHERE deleted_at IS NULL;
CREATE INDEX properties_search_country_newest_idx
  ON properties (country, created_at DESC, id DESC, max_guests, currency, price_per_night_minor, rating_average)
  WHERE deleted_at IS NULL;
CREATE INDEX properties_search_newest_idx
  ON properties (created_at DESC, id DESC, max_guests, currency, price_per_night_minor, rating_average)
  WHERE deleted_at IS NULL;
