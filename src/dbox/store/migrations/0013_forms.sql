-- dbox store, schema 13: the live side of the address book (docs/serve.md) — sign-up forms served
-- at /f/SLUG, the e-mail confirmations of their double opt-in, and the private links volunteers
-- open at /v/TOKEN (IF NOT EXISTS: it may run again over a store that predates schema_migrations). Rules: docs/serve.md; SQL: dbox/store/forms.py. No IP address is stored
-- anywhere, and a link or confirmation token is kept only as its SHA-256.

CREATE TABLE IF NOT EXISTS signup_forms (
    id           INTEGER PRIMARY KEY,
    slug         TEXT NOT NULL UNIQUE,         -- the page is /f/<slug>
    title        TEXT NOT NULL,
    intro        TEXT,                         -- a few words under the title
    fields       TEXT NOT NULL,                -- JSON list of contact fields, in the page's order
    required     TEXT NOT NULL DEFAULT '[]',   -- JSON list: the fields a submission must fill
    consents     TEXT NOT NULL DEFAULT '{}',   -- JSON {channel: the exact wording shown beside its box}
    tags         TEXT NOT NULL DEFAULT '[]',   -- JSON list: tags given to every contact it brings
    status       TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    submissions  INTEGER NOT NULL DEFAULT 0,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);

-- Double opt-in: a form's e-mail consent is recorded only when the link mailed to the address is
-- opened. Until then the contact is not reachable by e-mail.
CREATE TABLE IF NOT EXISTS email_confirmations (
    id            INTEGER PRIMARY KEY,
    token_hash    TEXT NOT NULL UNIQUE,         -- SHA-256 of the token in the link
    contact_id    INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    email         TEXT NOT NULL,
    form_id       INTEGER REFERENCES signup_forms(id) ON DELETE SET NULL,
    wording       TEXT NOT NULL,                -- the wording shown on the page, recorded on confirmation
    created_at    TEXT NOT NULL,
    expires_at    TEXT NOT NULL,
    sent_at       TEXT,
    confirmed_at  TEXT
);
CREATE INDEX IF NOT EXISTS email_confirmations_contact ON email_confirmations(contact_id);

-- A volunteer's private link to their walk or call list for one action (/v/TOKEN): expiring,
-- revocable (dbox action unassign), kept as a hash only.
CREATE TABLE IF NOT EXISTS volunteer_links (
    id           INTEGER PRIMARY KEY,
    token_hash   TEXT NOT NULL UNIQUE,
    action_id    INTEGER NOT NULL REFERENCES actions(id) ON DELETE CASCADE,
    contact_id   INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    revoked_at   TEXT
);
CREATE INDEX IF NOT EXISTS volunteer_links_person ON volunteer_links(action_id, contact_id);
CREATE INDEX IF NOT EXISTS volunteer_links_contact ON volunteer_links(contact_id);

-- Actions shown to the public at /e/<action id> with an RSVP form (dbox action publish).
CREATE TABLE IF NOT EXISTS action_pages (
    action_id     INTEGER PRIMARY KEY REFERENCES actions(id) ON DELETE CASCADE,
    published_at  TEXT NOT NULL
);
