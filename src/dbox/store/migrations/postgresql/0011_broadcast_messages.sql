-- dbox store, schema 11: a message of the ledger may have no contact. A social post (channel
-- social:<network>) is one row of campaign_recipients whose address is the account it is published
-- from and whose contact_id is NULL: the send engine claims, records and reconciles it like an SMS
-- or an e-mail (docs/sending.md, "Posts"). PostgreSQL drops the NOT NULL in place (SQLite's form
-- rebuilds the table); NULLs are distinct in UNIQUE (campaign_id, contact_id).
ALTER TABLE campaign_recipients ALTER COLUMN contact_id DROP NOT NULL;

-- Posts made before: their campaign's status and 'published' event become their one message, as
-- the engine would have left it (the SQLite form says how).
INSERT INTO campaign_recipients (campaign_id, contact_id, address, state, reason, provider_id, provider_status,
    error, claimed_at, done_at, updated_at)
SELECT k.id, NULL, coalesce(k.template::json ->> 'account_id', substr(k.channel, 8)),
    CASE WHEN p.detail IS NOT NULL THEN 'accepted'
         WHEN k.control = 'cancelled' THEN 'skipped'
         WHEN k.status = 'running' THEN 'claimed'
         WHEN k.status = 'stopped' AND k.last_error LIKE 'in-doubt%' THEN 'in-doubt'
         WHEN k.status = 'stopped' THEN 'failed'
         ELSE 'planned' END,
    CASE WHEN p.detail IS NULL AND k.control = 'cancelled' THEN 'cancelled' END,
    p.detail::json ->> 'post_id', p.detail::json ->> 'url',
    CASE WHEN p.detail IS NULL AND k.status = 'stopped' THEN k.last_error END,
    CASE WHEN p.detail IS NOT NULL OR k.status IN ('running', 'stopped') THEN k.started_at END,
    p.at, coalesce(p.at, k.finished_at, k.started_at, k.created_at)
FROM campaigns k
LEFT JOIN campaign_events p ON p.id = (SELECT max(e.id) FROM campaign_events e
                                       WHERE e.campaign_id = k.id AND e.event = 'published')
WHERE k.channel LIKE 'social:%'
  AND NOT EXISTS (SELECT 1 FROM campaign_recipients r WHERE r.campaign_id = k.id)
ORDER BY k.id;
