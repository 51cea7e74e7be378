-- 0008: the search indexes hold listings in the order a result page is read: place, then price, then id.
--
-- A search page is `... ORDER BY price_per_night_minor, id LIMIT n`, keyset-paginated on (price, id).
-- 0003's indexes ended their sort order at the price (and the city index had the country between the
-- city and the price), so PostgreSQL had to sort, and two plans went wrong as the data grew. Measured on
-- the default seed (50k properties, 500k bookings):
--   * a search by city alone (the common case: no country) could not read the city index in price
--     order; the planner walked properties_search_price_idx filtering on the city instead: 3.7 ms for
--     Paris, 21 ms for a city with no listing (46k entries read and discarded);
--   * the prepared statement's generic plan (which PostgreSQL may switch to after five executions)
--     sorted every listing of the city before the LIMIT: all 463 Paris listings and 463 probes of the
--     bookings index per page, 3.6 ms of CPU per SearchProperties call (0.3 ms with this order).
-- With (place, price, id) as the index order there is nothing to sort: every search reads one index
-- range in page order and stops after the page (plus the listings the free-dates test rejects); the
-- cursor `(price, id) > ($a, $b)` is an index condition. max_guests stays in the index (after id), so
-- the party-size test is checked before any heap visit. With a city, the country (when given) is
-- checked on the city's rows: city names rarely span countries. (The query spells that test
-- `upper(country) = upper($n)`, which the country index cannot serve; written `country = $n`, the generic
-- plan saw two indexes of equal estimated cost and could pick the country's, filtering every listing
-- of the country on the city.)

DROP INDEX properties_search_city_idx;
DROP INDEX properties_search_country_idx;
DROP INDEX properties_search_price_idx;

-- Serves: `WHERE deleted_at IS NULL AND lower(city) = lower($1) [AND upper(country) = upper($2)]
--   AND price range AND max_guests >= $n [AND (price, id) > cursor] ORDER BY price_per_night_minor, id LIMIT n`.
CREATE INDEX properties_search_city_idx
  ON properties (lower(city), price_per_night_minor, id, max_guests)
  WHERE deleted_at IS NULL;

-- Serves: the same by country alone.
CREATE INDEX properties_search_country_idx
  ON properties (country, price_per_night_minor, id, max_guests)
  WHERE deleted_at IS NULL;

-- Serves: the same with no place (browse by price, party size, dates).
CREATE INDEX properties_search_price_idx
  ON properties (price_per_night_minor, id, max_guests)
  WHERE deleted_at IS NULL;
