-- The SMS inbox (docs/serve.md): every inbound message kept whole, linked to its contact and to the
-- campaign (and so the action) it answers. Idempotent on the provider's id (Twilio's MessageSid).
-- Personal data: a contact's messages go with the contact (forget, retention: contact_id); messages
-- from numbers no contact holds are deleted by `privacy retention purge` after single_message_months.
CREATE TABLE IF NOT EXISTS inbox_messages (
    id            INTEGER PRIMARY KEY,
    provider_id   TEXT NOT NULL UNIQUE,
    channel       TEXT NOT NULL,
    sender        TEXT NOT NULL,            -- E.164 (as the provider gave it when not a phone number)
    recipient     TEXT,                     -- our number or short code
    body          TEXT NOT NULL,
    received_at   TEXT NOT NULL,
    contact_id    INTEGER REFERENCES contacts(id) ON DELETE CASCADE,
    campaign_id   INTEGER REFERENCES campaigns(id) ON DELETE SET NULL,   -- the campaign it answers
    action_id     INTEGER REFERENCES actions(id) ON DELETE SET NULL,     -- the action that campaign invited to
    kind          TEXT NOT NULL DEFAULT 'message' CHECK (kind IN ('message', 'optout', 'rsvp', 'reply')),
    answer        TEXT CHECK (answer IN ('yes', 'no')),                  -- kind rsvp: the RSVP it became
    read_at       TEXT,                     -- NULL: unread
    created_at    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS inbox_messages_contact ON inbox_messages(contact_id, received_at);
CREATE INDEX IF NOT EXISTS inbox_messages_unread ON inbox_messages(read_at, received_at);
CREATE INDEX IF NOT EXISTS inbox_messages_campaign ON inbox_messages(campaign_id);

-- Delivery statuses received by webhook, idempotent on (MessageSid, status): a status callback that
-- Twilio retries or that an attacker replays is applied once.
CREATE TABLE IF NOT EXISTS status_callbacks (
    provider_id   TEXT NOT NULL,
    status        TEXT NOT NULL,
    error_code    TEXT,
    received_at   TEXT NOT NULL,
    PRIMARY KEY (provider_id, status)
) WITHOUT ROWID;

-- An action may acknowledge the answers read from replies (`dbox inbox ack`): the text sent back,
-- through the ledger, to whoever answered yes or no.
CREATE TABLE IF NOT EXISTS action_reply_acks (
    action_id     INTEGER PRIMARY KEY REFERENCES actions(id) ON DELETE CASCADE,
    yes_text      TEXT,
    no_text       TEXT
);
