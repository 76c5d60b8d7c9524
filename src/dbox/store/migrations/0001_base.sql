-- dbox store, schema 1: contacts, their addresses, tags, custom fields, consent, provenance,
-- social identities, imports, and the French geography reference.

CREATE TABLE imports (
    id            INTEGER PRIMARY KEY,
    filename      TEXT NOT NULL,
    sha256        TEXT NOT NULL,
    kind          TEXT NOT NULL DEFAULT 'contacts',   -- contacts | followers | optouts | ...
    started_at    TEXT NOT NULL,
    finished_at   TEXT,
    rows_read     INTEGER NOT NULL DEFAULT 0,
    added         INTEGER NOT NULL DEFAULT 0,
    merged        INTEGER NOT NULL DEFAULT 0,
    unchanged     INTEGER NOT NULL DEFAULT 0,
    rejected      INTEGER NOT NULL DEFAULT 0,
    suppressed    INTEGER NOT NULL DEFAULT 0,
    options       TEXT                                 -- JSON of the options used
);
CREATE INDEX imports_sha ON imports(sha256);

CREATE TABLE contacts (
    id                INTEGER PRIMARY KEY,
    civility          TEXT,
    first_name        TEXT,
    last_name         TEXT,
    name_key          TEXT,            -- accent/case-folded "last first", for dedupe
    email             TEXT,            -- primary e-mail (lower-case), also in contact_points
    mobile            TEXT,            -- primary mobile, E.164
    fixed             TEXT,            -- primary fixed (non-mobile) line, E.164
    address           TEXT,
    postal_code       TEXT,            -- 5 digits, always text
    commune_name      TEXT,            -- as given, or the INSEE name when resolved
    commune_insee     TEXT,            -- INSEE code when resolved (NULL when unknown/ambiguous)
    departement       TEXT,            -- '38', '2A', '971'
    canton_code       TEXT,            -- NULL when the commune spans several cantons
    circonscription   TEXT,            -- '38-01' style; NULL when the commune spans several
    geo_status        TEXT,            -- resolved | ambiguous | unknown | missing
    phone_region      TEXT NOT NULL DEFAULT 'FR',
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);
CREATE INDEX contacts_email ON contacts(email);
CREATE INDEX contacts_mobile ON contacts(mobile);
CREATE INDEX contacts_name_key ON contacts(name_key, postal_code);
CREATE INDEX contacts_postal ON contacts(postal_code);
CREATE INDEX contacts_insee ON contacts(commune_insee);
CREATE INDEX contacts_dep ON contacts(departement);
CREATE INDEX contacts_canton ON contacts(canton_code);
CREATE INDEX contacts_circo ON contacts(circonscription);
CREATE INDEX contacts_created ON contacts(created_at);
CREATE INDEX contacts_updated ON contacts(updated_at);

-- Every e-mail and phone a contact has (the primary ones are copied on contacts for speed).
CREATE TABLE contact_points (
    contact_id  INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('email', 'mobile', 'fixed')),
    value       TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'valid',   -- valid | invalid (provider said so)
    PRIMARY KEY (contact_id, kind, value)
) WITHOUT ROWID;
CREATE INDEX contact_points_value ON contact_points(value, kind);

CREATE TABLE tags (
    id     INTEGER PRIMARY KEY,
    name   TEXT NOT NULL UNIQUE,
    key    TEXT NOT NULL UNIQUE                      -- folded name: "Porte-à-porte" ~ "porte-a-porte"
);
CREATE TABLE contact_tags (
    contact_id  INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    tag_id      INTEGER NOT NULL REFERENCES tags(id) ON DELETE CASCADE,
    PRIMARY KEY (tag_id, contact_id)
) WITHOUT ROWID;
CREATE INDEX contact_tags_contact ON contact_tags(contact_id);

-- Any extra column of an import, queryable as field.<name>.
CREATE TABLE contact_fields (
    contact_id  INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    value       TEXT NOT NULL,
    PRIMARY KEY (contact_id, name)
) WITHOUT ROWID;
CREATE INDEX contact_fields_name_value ON contact_fields(name, value);

-- Consent is a history of events; `consents` holds the current state derived from it.
CREATE TABLE consent_events (
    id          INTEGER PRIMARY KEY,
    contact_id  INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    channel     TEXT NOT NULL,         -- sms | email | phone | post | social
    action      TEXT NOT NULL CHECK (action IN ('grant', 'withdraw')),
    at          TEXT NOT NULL,
    source      TEXT NOT NULL,         -- import | form | stop-reply | unsubscribe | manual | ...
    detail      TEXT                   -- the wording, the import file, the campaign
);
CREATE INDEX consent_events_contact ON consent_events(contact_id, channel, id);

CREATE TABLE consents (
    contact_id  INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    channel     TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('granted', 'withdrawn')),
    at          TEXT NOT NULL,
    source      TEXT NOT NULL,
    PRIMARY KEY (channel, contact_id)
) WITHOUT ROWID;
CREATE INDEX consents_contact ON consents(contact_id);

-- Where each contact came from: which import, which row (a merged contact has several).
CREATE TABLE contact_sources (
    contact_id  INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    import_id   INTEGER NOT NULL REFERENCES imports(id),
    row_number  INTEGER NOT NULL,
    PRIMARY KEY (contact_id, import_id, row_number)
) WITHOUT ROWID;
CREATE INDEX contact_sources_import ON contact_sources(import_id);

-- Social identities: a follower may or may not be linked to a contact.
CREATE TABLE identities (
    id            INTEGER PRIMARY KEY,
    contact_id    INTEGER REFERENCES contacts(id) ON DELETE SET NULL,
    network       TEXT NOT NULL,
    account_id    TEXT,
    handle        TEXT,
    display_name  TEXT,
    profile_url   TEXT,
    relation      TEXT,               -- follower | following | connection | friend
    since         TEXT,
    import_id     INTEGER REFERENCES imports(id),
    UNIQUE (network, account_id, handle)
);
CREATE INDEX identities_contact ON identities(contact_id);

-- Hashed identifiers (e-mail, phone) of people who opposed or were erased: never re-imported,
-- never messaged. Values are salted SHA-256, never clear text.
CREATE TABLE suppressions (
    value_hash  TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,        -- email | phone
    reason      TEXT NOT NULL,        -- erasure | stop-reply | unsubscribe | manual
    channel     TEXT,                 -- the channel opposed, NULL for every channel
    at          TEXT NOT NULL
) WITHOUT ROWID;

-- The store's own settings (salt for suppression hashes, geography version, ...).
CREATE TABLE meta (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
) WITHOUT ROWID;

-- French geography, loaded from the reference table shipped in dbox/data at store creation.
CREATE TABLE geo_communes (
    insee          TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    name_key       TEXT NOT NULL,
    departement    TEXT NOT NULL,
    population     INTEGER,
    lat            REAL,
    lon            REAL
) WITHOUT ROWID;
CREATE INDEX geo_communes_name ON geo_communes(name_key);
CREATE INDEX geo_communes_dep ON geo_communes(departement);

CREATE TABLE geo_cantons (
    code       TEXT PRIMARY KEY,      -- INSEE canton code, e.g. '3806'
    name       TEXT NOT NULL,
    name_key   TEXT NOT NULL,
    departement TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX geo_cantons_name ON geo_cantons(name_key);

CREATE TABLE geo_commune_cantons (
    insee      TEXT NOT NULL,
    canton_code TEXT NOT NULL,
    PRIMARY KEY (insee, canton_code)
) WITHOUT ROWID;

CREATE TABLE geo_commune_circonscriptions (
    insee      TEXT NOT NULL,
    circonscription TEXT NOT NULL,    -- '38-01': departement, dash, 2-digit number
    PRIMARY KEY (insee, circonscription)
) WITHOUT ROWID;
CREATE INDEX geo_commune_circos_circo ON geo_commune_circonscriptions(circonscription);
CREATE INDEX geo_commune_cantons_canton ON geo_commune_cantons(canton_code);

CREATE TABLE geo_postal_codes (
    postal_code TEXT NOT NULL,
    insee       TEXT NOT NULL,
    PRIMARY KEY (postal_code, insee)
) WITHOUT ROWID;
