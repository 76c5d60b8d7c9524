-- dbox store, schema 3: the sending ledger (campaigns, one row per recipient, a journal of steps)
-- and the inbound replies already read (so an opt-out is recorded once).
-- The rules are in docs/sending.md; every statement that touches these tables is in
-- dbox/store/ledger.py.

CREATE TABLE campaigns (
    id                INTEGER PRIMARY KEY,
    uid               TEXT NOT NULL UNIQUE,        -- random; names the campaign in Message-IDs
    channel           TEXT NOT NULL,               -- sms | email | a plugin's id
    fingerprint       TEXT NOT NULL,               -- channel + audience + message: a rerun resumes
    expression        TEXT NOT NULL DEFAULT '',    -- the segment expression as typed
    segment           TEXT,                        -- the saved segment used, if any
    selection_sql     TEXT NOT NULL,               -- the WHERE it compiled to (over alias c)
    selection_params  TEXT NOT NULL,               -- JSON list
    template          TEXT NOT NULL,               -- JSON: body, subject, html
    status            TEXT NOT NULL CHECK (status IN
                        ('scheduled', 'running', 'waiting', 'stopped', 'done')),
    due_at            TEXT,                        -- when run-due (re)starts it
    ignore_window     INTEGER NOT NULL DEFAULT 0,  -- --now: quiet hours not applied
    settings          TEXT NOT NULL DEFAULT '{}',  -- JSON: rate, workers
    created_by        TEXT NOT NULL,
    created_at        TEXT NOT NULL,
    started_at        TEXT,
    finished_at       TEXT,
    last_error        TEXT
);
CREATE INDEX campaigns_status_due ON campaigns(status, due_at);
CREATE INDEX campaigns_fingerprint ON campaigns(fingerprint);

-- One row per contact of the frozen audience. state:
--   planned -> claimed -> accepted -> delivered | undelivered | failed
--   planned -> skipped (reason)            (unreachable at freeze or claim time)
--   claimed -> failed (permanent error) | planned (retryable error, run stopped)
--   claimed -> in-doubt                    (outcome unknown: crash, read timeout)
--   in-doubt -> accepted (found at the provider) | planned (--retry-in-doubt only)
CREATE TABLE campaign_recipients (
    id               INTEGER PRIMARY KEY,
    campaign_id      INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    contact_id       INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    address          TEXT,                         -- the mobile (E.164) or e-mail frozen for it
    state            TEXT NOT NULL CHECK (state IN ('planned', 'claimed', 'accepted', 'delivered',
                       'undelivered', 'failed', 'skipped', 'in-doubt')),
    reason           TEXT,                         -- skipped: why; failed: provider error code
    attempts         INTEGER NOT NULL DEFAULT 0,
    claimed_at       TEXT,
    done_at          TEXT,                         -- when the outcome was recorded
    provider_id      TEXT,                         -- Twilio SID, e-mail Message-ID
    provider_status  TEXT,
    segments         INTEGER,                      -- SMS parts billed
    error            TEXT,                         -- masked: never a full phone or e-mail
    updated_at       TEXT NOT NULL,
    UNIQUE (campaign_id, contact_id)
);
-- The same phone or e-mail receives one message per campaign, whoever holds it.
CREATE UNIQUE INDEX campaign_recipients_address
    ON campaign_recipients(campaign_id, address) WHERE state <> 'skipped';
CREATE INDEX campaign_recipients_state ON campaign_recipients(campaign_id, state, id);
CREATE INDEX campaign_recipients_provider ON campaign_recipients(provider_id)
    WHERE provider_id IS NOT NULL;
CREATE INDEX campaign_recipients_contact ON campaign_recipients(contact_id);

CREATE TABLE campaign_events (
    id           INTEGER PRIMARY KEY,
    campaign_id  INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    at           TEXT NOT NULL,
    event        TEXT NOT NULL,     -- created | started | waiting | stopped | done | in-doubt | ...
    detail       TEXT
);
CREATE INDEX campaign_events_campaign ON campaign_events(campaign_id, id);

-- Inbound replies already processed (opt-out keywords), by provider id; the sender only as a hash.
CREATE TABLE inbound_replies (
    provider_id   TEXT PRIMARY KEY,
    channel       TEXT NOT NULL,
    from_hash     TEXT NOT NULL,
    received_at   TEXT,
    keyword       TEXT,             -- the opt-out keyword found, NULL when the reply is not one
    processed_at  TEXT NOT NULL
) WITHOUT ROWID;
