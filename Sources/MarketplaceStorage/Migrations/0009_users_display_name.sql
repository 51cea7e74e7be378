-- 0009: an account has one display name (what hosts and guests see), bounded, instead of a first and
-- a last name: names do not split that way everywhere, and the API asks for one field.
--
-- Existing rows keep "first last". The bound (100 characters) is the API's rule; the CHECK holds it
-- for hand-written SQL too. Emails get a length bound (RFC 5321's 254) for the same reason.

ALTER TABLE users ADD COLUMN display_name text;
UPDATE users SET display_name = first_name || ' ' || last_name;
ALTER TABLE users
  ALTER COLUMN display_name SET NOT NULL,
  ADD CONSTRAINT users_display_name_check
    CHECK (btrim(display_name) <> '' AND char_length(display_name) <= 100),
  ADD CONSTRAINT users_email_length_check CHECK (octet_length(email) <= 254),
  DROP COLUMN first_name,
  DROP COLUMN last_name;
