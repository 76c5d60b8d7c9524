-- dbox store, schema 6: organizing — actions (door-to-door, leafleting, phone banks, meetings,
-- events), who was invited, answered and came, volunteers' assignments and territories, and the
-- interactions with each person (door knocks, calls, meetings, notes, donations, membership).
-- The rules are in docs/organizing.md; every statement that touches these tables is in
-- dbox/store/organizing.py. Every table about a person has a contact_id column, so that
-- `dbox privacy export` and `dbox privacy forget` find its rows.

CREATE TABLE actions (
    id               INTEGER PRIMARY KEY,
    title            TEXT NOT NULL,
    title_key        TEXT NOT NULL,          -- fold(title): attended:"..." and look-ups by name
    type             TEXT NOT NULL,          -- porte-a-porte | tractage | phoning | reunion | evenement | a custom word
    sheet            TEXT NOT NULL CHECK (sheet IN ('walk', 'call', 'list')),  -- what `dbox action sheet` prints
    starts_at        TEXT NOT NULL,          -- ISO UTC
    ends_at          TEXT,                   -- ISO UTC
    timezone         TEXT NOT NULL DEFAULT 'Europe/Paris',
    address          TEXT,
    commune_name     TEXT,
    commune_insee    TEXT,                   -- when the geography reference knows the commune
    capacity         INTEGER CHECK (capacity IS NULL OR capacity > 0),
    description      TEXT,
    target           TEXT NOT NULL DEFAULT '',   -- filter expression: whom the walk or call lists reach
    script           TEXT,                   -- what canvassers and callers say
    consent_wording  TEXT,                   -- printed on the sheets; wording of consents given on the spot
    status           TEXT NOT NULL DEFAULT 'planned' CHECK (status IN ('planned', 'cancelled')),
    cancel_reason    TEXT,
    cancelled_at     TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX actions_title_key ON actions(title_key);
CREATE INDEX actions_starts ON actions(starts_at);

-- One row per person and action: their answer to the invitation and whether they came.
CREATE TABLE action_people (
    action_id    INTEGER NOT NULL REFERENCES actions(id) ON DELETE CASCADE,
    contact_id   INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    rsvp         TEXT CHECK (rsvp IN ('yes', 'no', 'maybe')),
    rsvp_at      TEXT,
    attended     INTEGER CHECK (attended IN (0, 1)),   -- 1 came, 0 did not come, NULL not recorded
    attended_at  TEXT,                                 -- when it was recorded
    source       TEXT NOT NULL,                        -- manual | sheet
    updated_at   TEXT NOT NULL,
    PRIMARY KEY (action_id, contact_id)
) WITHOUT ROWID;
CREATE INDEX action_people_contact ON action_people(contact_id, action_id);

-- The campaigns that carried invitations to an action, by the send ledger's fingerprint. Written
-- before the first message goes, so `invited:ACTION` and the statistics see every invitation,
-- including a campaign resumed later by `dbox send --resume` or `dbox run-due`.
CREATE TABLE action_invitations (
    id           INTEGER PRIMARY KEY,
    action_id    INTEGER NOT NULL REFERENCES actions(id) ON DELETE CASCADE,
    channel      TEXT NOT NULL,
    fingerprint  TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    UNIQUE (action_id, fingerprint)
);
CREATE INDEX action_invitations_fingerprint ON action_invitations(fingerprint);

-- Volunteers assigned to an action, each with a territory (streets or communes; none: a share of
-- what is left). contact_id is the volunteer.
CREATE TABLE action_assignments (
    id           INTEGER PRIMARY KEY,
    action_id    INTEGER NOT NULL REFERENCES actions(id) ON DELETE CASCADE,
    contact_id   INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    territory    TEXT NOT NULL DEFAULT '[]',   -- JSON: [{"kind": "street"|"commune", "label", "key", "codes"}]
    created_at   TEXT NOT NULL,
    UNIQUE (action_id, contact_id)
);
CREATE INDEX action_assignments_contact ON action_assignments(contact_id);

-- Every interaction with a person. `reached` says the person was actually reached (a door that
-- opened, a call answered): last_interaction counts only those. A result brought back from an
-- action's sheet is one row per (action, person, type): importing a corrected sheet updates it.
CREATE TABLE interactions (
    id            INTEGER PRIMARY KEY,
    contact_id    INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    type          TEXT NOT NULL,            -- door | call | meeting | message | note | donation | membership | other
    at            TEXT NOT NULL,            -- ISO UTC
    outcome       TEXT,                     -- answered | not-home | refused | moved | no-answer | voicemail | ...
    reached       INTEGER NOT NULL DEFAULT 1 CHECK (reached IN (0, 1)),
    support       INTEGER CHECK (support BETWEEN 1 AND 5),   -- 5: strong supporter ... 1: opposed
    wants_call    INTEGER NOT NULL DEFAULT 0 CHECK (wants_call IN (0, 1)),
    gained        TEXT,                     -- what the person gave on the spot: 'email,mobile,consent:sms'
    amount_cents  INTEGER,                  -- donation or membership fee
    note          TEXT,
    action_id     INTEGER REFERENCES actions(id) ON DELETE SET NULL,
    volunteer_id  INTEGER REFERENCES contacts(id) ON DELETE SET NULL,
    source        TEXT NOT NULL,            -- manual | sheet | import
    import_id     INTEGER REFERENCES imports(id),
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX interactions_contact ON interactions(contact_id, at);
CREATE INDEX interactions_support ON interactions(contact_id, at, id) WHERE support IS NOT NULL;
CREATE INDEX interactions_reached ON interactions(contact_id, at) WHERE reached = 1;
CREATE INDEX interactions_volunteer ON interactions(volunteer_id, at) WHERE volunteer_id IS NOT NULL;
CREATE UNIQUE INDEX interactions_action_contact ON interactions(action_id, contact_id, type)
    WHERE action_id IS NOT NULL AND source = 'sheet';
