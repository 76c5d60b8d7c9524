-- dbox store, schema 7: electoral geography (docs/electoral.md): the electoral roll (voters are not
-- contacts), bureaux de vote, the address -> bureau table, past results per bureau, and the legal
-- calendar of elections.

-- Elections: their rounds and area, for the ban on electronic propaganda (Code électoral L49) and
-- for the retention of the rolls obtained for them.
CREATE TABLE IF NOT EXISTS elections (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    area_kind   TEXT NOT NULL,          -- france | departement | commune | canton | circonscription
    areas       TEXT NOT NULL,          -- JSON list of codes ('[]' for france)
    created_at  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS election_rounds (
    election_id  INTEGER NOT NULL REFERENCES elections(id) ON DELETE CASCADE,
    day          TEXT NOT NULL,         -- YYYY-MM-DD, the day of the vote in metropolitan France
    quiet_from   TEXT NOT NULL,         -- UTC: 00:00 on the eve, in the earliest-voting zone of the area
    quiet_until  TEXT NOT NULL,         -- UTC: the closing of the last polls of the area
    PRIMARY KEY (election_id, day)
) WITHOUT ROWID;

-- An electoral roll (a commune's list, from the REU) and where it came from. Purged after its election.
CREATE TABLE IF NOT EXISTS electoral_rolls (
    id             INTEGER PRIMARY KEY,
    commune_insee  TEXT NOT NULL,
    filename       TEXT NOT NULL,
    sha256         TEXT NOT NULL,
    source         TEXT NOT NULL,       -- who gave it, when: shown by `dbox privacy export`
    election       TEXT NOT NULL,       -- the election it was obtained for (Code électoral L37)
    purge_after    TEXT NOT NULL,       -- YYYY-MM-DD: the day after the election's last round
    imported_at    TEXT NOT NULL,
    voters         INTEGER NOT NULL DEFAULT 0
);

-- Registered voters. Never contacts: no consent, never messaged; linked to a contact when matched.
-- Birthplace and nationality are not kept (CNIL: no targeting by origin).
CREATE TABLE IF NOT EXISTS voters (
    id             INTEGER PRIMARY KEY,
    roll_id        INTEGER NOT NULL REFERENCES electoral_rolls(id) ON DELETE CASCADE,
    row_number     INTEGER NOT NULL,
    bureau         TEXT NOT NULL,       -- '38185-0012': INSEE code, dash, bureau number on 4 digits
    order_number   INTEGER,
    birth_name     TEXT,
    usage_name     TEXT,
    first_names    TEXT,
    sex            TEXT,                -- F | M
    birth_date     TEXT,                -- YYYY-MM-DD
    house_number   INTEGER,
    house_suffix   TEXT,
    street         TEXT,
    street_key     TEXT,
    complement     TEXT,
    postal_code    TEXT,
    commune_insee  TEXT NOT NULL,
    contact_id     INTEGER REFERENCES contacts(id) ON DELETE SET NULL,
    match_how      TEXT                 -- birth-date | address
);
CREATE INDEX IF NOT EXISTS voters_roll ON voters(roll_id);
CREATE INDEX IF NOT EXISTS voters_bureau ON voters(bureau);
CREATE INDEX IF NOT EXISTS voters_contact ON voters(contact_id);

-- Bureaux de vote, and what the results files say of them.
CREATE TABLE IF NOT EXISTS bureaux (
    code             TEXT PRIMARY KEY,  -- '38185-0012'
    commune_insee    TEXT NOT NULL,
    label            TEXT,
    canton_code      TEXT,
    circonscription  TEXT
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS bureaux_commune ON bureaux(commune_insee);

-- Address -> bureau: number ranges per street side, derived from a roll or the INSEE table.
CREATE TABLE IF NOT EXISTS bureau_streets (
    commune_insee  TEXT NOT NULL,
    street_key     TEXT NOT NULL,
    side           TEXT NOT NULL,       -- odd | even | none (addresses without a number)
    low            INTEGER,
    high           INTEGER,
    bureau         TEXT NOT NULL,
    addresses      INTEGER NOT NULL,
    source         TEXT NOT NULL        -- roll | insee
);
CREATE INDEX IF NOT EXISTS bureau_streets_key ON bureau_streets(commune_insee, street_key);

-- A contact's bureau: from a voter it matched (registered) or from its address.
CREATE TABLE IF NOT EXISTS contact_bureaux (
    contact_id   INTEGER PRIMARY KEY REFERENCES contacts(id) ON DELETE CASCADE,
    bureau       TEXT NOT NULL,
    registered   INTEGER NOT NULL DEFAULT 0,
    how          TEXT NOT NULL,         -- roll | address
    at           TEXT NOT NULL,
    set_canton   TEXT,                  -- the canton this gave a contact of a split commune
    set_circo    TEXT                   -- likewise its circonscription
);
CREATE INDEX IF NOT EXISTS contact_bureaux_bureau ON contact_bureaux(bureau);

-- Results per bureau (Ministry of the Interior files), for turnout and shares.
CREATE TABLE IF NOT EXISTS election_results (
    election     TEXT NOT NULL,         -- legislatives-2024-t1
    bureau       TEXT NOT NULL,
    inscrits     INTEGER NOT NULL,
    votants      INTEGER NOT NULL,
    exprimes     INTEGER NOT NULL,
    blancs       INTEGER,
    nuls         INTEGER,
    PRIMARY KEY (election, bureau)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS election_votes (
    election     TEXT NOT NULL,
    bureau       TEXT NOT NULL,
    panel        INTEGER NOT NULL,
    nuance       TEXT,
    candidate    TEXT,
    voix         INTEGER NOT NULL,
    PRIMARY KEY (election, bureau, panel)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS election_votes_nuance ON election_votes(election, nuance);

-- A campaign allowed to go out during an electoral silence (`dbox elections allow`), with its reason.
CREATE TABLE IF NOT EXISTS election_overrides (
    campaign_id  INTEGER PRIMARY KEY,
    reason       TEXT NOT NULL,
    by           TEXT NOT NULL,
    at           TEXT NOT NULL
);
