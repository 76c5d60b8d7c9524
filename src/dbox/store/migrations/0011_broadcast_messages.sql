-- dbox store, schema 11: a message of the ledger may have no contact. A social post (channel
-- social:<network>) is one row of campaign_recipients whose address is the account it is published
-- from and whose contact_id is NULL: the send engine claims, records and reconciles it like an SMS
-- or an e-mail (docs/sending.md, "Posts"). SQLite cannot drop a NOT NULL in place: the table is
-- rebuilt (same columns, same order, same indexes; nothing references it, no trigger reads it).
-- NULLs are distinct in UNIQUE (campaign_id, contact_id); campaign_recipients_address still allows
-- one live row per address, so a post campaign holds one message per account.

CREATE TABLE campaign_recipients_new (
    id               INTEGER PRIMARY KEY,
    campaign_id      INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    contact_id       INTEGER REFERENCES contacts(id) ON DELETE CASCADE,   -- NULL: a broadcast (a post)
    address          TEXT,                         -- the mobile (E.164), e-mail, or posting account
    state            TEXT NOT NULL CHECK (state IN ('planned', 'claimed', 'accepted', 'delivered',
                       'undelivered', 'failed', 'skipped', 'in-doubt')),
    reason           TEXT,
    attempts         INTEGER NOT NULL DEFAULT 0,
    claimed_at       TEXT,
    done_at          TEXT,
    provider_id      TEXT,                         -- Twilio SID, e-mail Message-ID, post id
    provider_status  TEXT,                         -- a post: its URL
    segments         INTEGER,
    error            TEXT,
    updated_at       TEXT NOT NULL,
    retry_at         TEXT,
    soft_since       TEXT,
    UNIQUE (campaign_id, contact_id)
);
INSERT INTO campaign_recipients_new (id, campaign_id, contact_id, address, state, reason, attempts, claimed_at,
    done_at, provider_id, provider_status, segments, error, updated_at, retry_at, soft_since)
SELECT id, campaign_id, contact_id, address, state, reason, attempts, claimed_at, done_at, provider_id,
    provider_status, segments, error, updated_at, retry_at, soft_since FROM campaign_recipients;
DROP TABLE campaign_recipients;
ALTER TABLE campaign_recipients_new RENAME TO campaign_recipients;
CREATE UNIQUE INDEX campaign_recipients_address
    ON campaign_recipients(campaign_id, address) WHERE state <> 'skipped';
CREATE INDEX campaign_recipients_state ON campaign_recipients(campaign_id, state, id);
CREATE INDEX campaign_recipients_provider ON campaign_recipients(provider_id)
    WHERE provider_id IS NOT NULL;
CREATE INDEX campaign_recipients_contact ON campaign_recipients(contact_id);

-- Posts made before: their campaign's status and 'published' event become their one message, as
-- the engine would have left it (published: accepted with the post id and URL; left running by a
-- process: claimed, which the next run finds in doubt; stopped in doubt: in-doubt; stopped after a
-- refusal: failed; cancelled: skipped; otherwise planned).
INSERT INTO campaign_recipients (campaign_id, contact_id, address, state, reason, provider_id, provider_status,
    error, claimed_at, done_at, updated_at)
SELECT k.id, NULL, coalesce(json_extract(k.template, '$.account_id'), substr(k.channel, 8)),
    CASE WHEN p.detail IS NOT NULL THEN 'accepted'
         WHEN k.control = 'cancelled' THEN 'skipped'
         WHEN k.status = 'running' THEN 'claimed'
         WHEN k.status = 'stopped' AND k.last_error LIKE 'in-doubt%' THEN 'in-doubt'
         WHEN k.status = 'stopped' THEN 'failed'
         ELSE 'planned' END,
    CASE WHEN p.detail IS NULL AND k.control = 'cancelled' THEN 'cancelled' END,
    json_extract(p.detail, '$.post_id'), json_extract(p.detail, '$.url'),
    CASE WHEN p.detail IS NULL AND k.status = 'stopped' THEN k.last_error END,
    CASE WHEN p.detail IS NOT NULL OR k.status IN ('running', 'stopped') THEN k.started_at END,
    p.at, coalesce(p.at, k.finished_at, k.started_at, k.created_at)
FROM campaigns k
LEFT JOIN campaign_events p ON p.id = (SELECT max(e.id) FROM campaign_events e
                                       WHERE e.campaign_id = k.id AND e.event = 'published')
WHERE k.channel LIKE 'social:%'
  AND NOT EXISTS (SELECT 1 FROM campaign_recipients r WHERE r.campaign_id = k.id)
ORDER BY k.id;
