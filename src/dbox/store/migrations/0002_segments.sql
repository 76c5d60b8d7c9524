-- dbox store, schema 2: saved segments, and what makes filters fast and accent-insensitive.

-- Saved, dynamic segments: a name for a filter expression (its canonical text), counted live.
CREATE TABLE segments (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL,
    key          TEXT NOT NULL UNIQUE,   -- folded name: "Élus" and "elus" are one segment
    expression   TEXT NOT NULL,          -- canonical filter text (may use in:other)
    description  TEXT,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);

-- Folded search keys (dbox.filters.keys): lower case, no accents, no punctuation or spaces.
-- '' for an empty field; NULL means "not computed yet" and dbox.store.filters.refresh_keys fills it.
ALTER TABLE contacts ADD COLUMN first_name_key TEXT;
ALTER TABLE contacts ADD COLUMN last_name_key TEXT;
ALTER TABLE contacts ADD COLUMN address_key TEXT;
ALTER TABLE contacts ADD COLUMN commune_key TEXT;
CREATE INDEX contacts_last_name_key ON contacts(last_name_key);
-- Contacts whose commune was not resolved are matched by name (resolved ones by INSEE code).
CREATE INDEX contacts_commune_key_unresolved ON contacts(commune_key) WHERE commune_insee IS NULL;
-- Finds the rows whose keys are missing in no time when there are none.
CREATE INDEX contacts_keys_missing ON contacts(id)
    WHERE first_name_key IS NULL OR last_name_key IS NULL OR address_key IS NULL OR commune_key IS NULL;

-- A writer that changes a value without its key leaves the key missing rather than wrong.
CREATE TRIGGER contacts_first_name_key_stale AFTER UPDATE OF first_name ON contacts
    WHEN NEW.first_name IS NOT OLD.first_name AND NEW.first_name_key IS OLD.first_name_key
BEGIN
    UPDATE contacts SET first_name_key = NULL WHERE id = NEW.id;
END;
CREATE TRIGGER contacts_last_name_key_stale AFTER UPDATE OF last_name ON contacts
    WHEN NEW.last_name IS NOT OLD.last_name AND NEW.last_name_key IS OLD.last_name_key
BEGIN
    UPDATE contacts SET last_name_key = NULL WHERE id = NEW.id;
END;
CREATE TRIGGER contacts_address_key_stale AFTER UPDATE OF address ON contacts
    WHEN NEW.address IS NOT OLD.address AND NEW.address_key IS OLD.address_key
BEGIN
    UPDATE contacts SET address_key = NULL WHERE id = NEW.id;
END;
CREATE TRIGGER contacts_commune_key_stale AFTER UPDATE OF commune_name ON contacts
    WHEN NEW.commune_name IS NOT OLD.commune_name AND NEW.commune_key IS OLD.commune_key
BEGIN
    UPDATE contacts SET commune_key = NULL WHERE id = NEW.id;
END;

ALTER TABLE contact_fields ADD COLUMN value_key TEXT;
CREATE INDEX contact_fields_name_key ON contact_fields(name, value_key);
CREATE INDEX contact_fields_keys_missing ON contact_fields(name) WHERE value_key IS NULL;
CREATE TRIGGER contact_fields_value_key_stale AFTER UPDATE OF value ON contact_fields
    WHEN NEW.value IS NOT OLD.value AND NEW.value_key IS OLD.value_key
BEGIN
    UPDATE contact_fields SET value_key = NULL WHERE contact_id = NEW.contact_id AND name = NEW.name;
END;

-- The salted hash of each address (dbox.store.suppressions.Hasher), so that reachable:sms and
-- reachable:email can leave out suppressed addresses in SQL. NULL until computed.
ALTER TABLE contact_points ADD COLUMN value_hash TEXT;
CREATE INDEX contact_points_hash_missing ON contact_points(contact_id) WHERE value_hash IS NULL;
CREATE TRIGGER contact_points_hash_stale AFTER UPDATE OF value ON contact_points
    WHEN NEW.value IS NOT OLD.value AND NEW.value_hash IS OLD.value_hash
BEGIN
    UPDATE contact_points SET value_hash = NULL
     WHERE contact_id = NEW.contact_id AND kind = NEW.kind AND value = NEW.value;
END;
