-- 0001: extensions the schema needs.
--
-- btree_gist gives GiST an operator class for plain scalar types (uuid here), so that one exclusion
-- constraint can say "same property AND overlapping stay" (bookings_no_overlap, 0004). It is a trusted
-- extension since PostgreSQL 13: the database owner may create it without being a superuser.
--
-- Nothing else is needed: ids are uuid with gen_random_uuid() (built in since PostgreSQL 13, no pgcrypto),
-- and emails are compared through lower(email) (no citext).
--
-- Applied by the app's migrator in its own transaction: no BEGIN/COMMIT here.

CREATE EXTENSION IF NOT EXISTS btree_gist;
