-- dbox store, schema 4: personal data — the audit log, rectification history, exchanges with a
-- contact (for retention), and the imports whose data came from a third party.

-- Append-only log of every command that reads many contacts or changes them. Each row carries the
-- SHA-256 of the previous row's hash and its own content, so a row changed or removed behind
-- dbox's back (with another SQLite client) breaks the chain: `dbox audit --verify` finds it.
CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    at          TEXT NOT NULL,
    os_user     TEXT NOT NULL,          -- who: the operating-system user that ran the command
    command     TEXT NOT NULL,          -- 'import', 'privacy forget', 'send', 'backup', ...
    count       INTEGER NOT NULL DEFAULT 0,  -- how many contacts were read or changed
    detail      TEXT,                   -- JSON, never an e-mail or a phone in clear
    hash        TEXT NOT NULL           -- sha256(previous hash + this row)
);
CREATE INDEX audit_log_at ON audit_log(at);
CREATE INDEX audit_log_command ON audit_log(command, at);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

-- Who changed what on a contact (GDPR art. 16). Erased with the contact.
CREATE TABLE rectifications (
    id          INTEGER PRIMARY KEY,
    contact_id  INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    at          TEXT NOT NULL,
    os_user     TEXT NOT NULL,
    field       TEXT NOT NULL,
    old_value   TEXT,
    new_value   TEXT,
    reason      TEXT
);
CREATE INDEX rectifications_contact ON rectifications(contact_id, id);

-- A contact coming from the person (a reply, a form, a meeting, a call): retention counts from
-- the latest one. Other areas record theirs through dbox.privacy.retention.record_exchange.
CREATE TABLE contact_exchanges (
    id          INTEGER PRIMARY KEY,
    contact_id  INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    at          TEXT NOT NULL,
    kind        TEXT NOT NULL,          -- reply | form | meeting | call | event | ...
    detail      TEXT
);
CREATE INDEX contact_exchanges_contact ON contact_exchanges(contact_id, at);

-- Imports whose people did not give their data to the campaign themselves (a public list, a
-- parrainage list): their first message must say who writes, why, and how to object, and they
-- fall under the short retention rule.
CREATE TABLE third_party_imports (
    import_id   INTEGER PRIMARY KEY REFERENCES imports(id),
    origin      TEXT NOT NULL,
    marked_at   TEXT NOT NULL,
    os_user     TEXT NOT NULL
) WITHOUT ROWID;

-- What is left of a message to a person who was erased, when the send ledger cannot keep the
-- row itself without its contact: the campaign, the outcome and the cost — nothing that leads
-- back to the person (no contact, address, provider id or error text).
CREATE TABLE erased_recipients (
    id            INTEGER PRIMARY KEY,
    campaign_id   INTEGER,
    state         TEXT,
    reason        TEXT,
    segments      INTEGER,
    done_at       TEXT,
    erased_at     TEXT NOT NULL
);
CREATE INDEX erased_recipients_campaign ON erased_recipients(campaign_id);
