-- 0008: the city search index leads with the city, then the price.
--
-- 0003's properties_search_city_idx was (lower(city), country, price_per_night_minor, max_guests). A
-- search by city alone (the common case: no country given) could not read it in price order, since
-- country sits between; the planner then preferred walking properties_search_price_idx in price order
-- and filtering on the city, which is cheap for a big city (Paris: 5k index entries, 3.7 ms) and bad
-- for a small one (46k entries read and discarded for a city with no listing, 21 ms, at the default
-- seed size; it grows with the table). Measured on the default seed (50k properties).
--
-- With the price right after the city, every city search (with or without a country) is one index
-- range in price order: the LIMIT stops it early, and the country, when given, is checked on the few
-- rows of that city (city names rarely span countries). The country-only search keeps
-- properties_search_country_idx.
--
-- Serves: `WHERE deleted_at IS NULL AND lower(city) = lower($1) [AND country = $2]
--   AND price_per_night_minor BETWEEN $3 AND $4 AND max_guests >= $5 ORDER BY price_per_night_minor, id`.

DROP INDEX properties_search_city_idx;

CREATE INDEX properties_search_city_idx
  ON properties (lower(city), price_per_night_minor, max_guests)
  WHERE deleted_at IS NULL;
