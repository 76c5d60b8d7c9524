-- dbox store, schema 9: sending that survives real providers (docs/sending.md).
-- A recipient refused for now (4xx: mailbox full, greylisting) stays planned with a time to try
-- again, for a bounded time; a campaign can be paused or cancelled; bounces read later are
-- recorded once and soft ones counted per address (hash only).

ALTER TABLE campaign_recipients ADD COLUMN retry_at TEXT COLLATE "C";     -- planned but not before this time
ALTER TABLE campaign_recipients ADD COLUMN soft_since TEXT COLLATE "C";   -- first temporary refusal in a row

-- 'paused' (run-due skips it) or 'cancelled' (planned messages were cancelled); NULL otherwise.
-- A column rather than new status values: the status CHECK cannot change without a rebuild.
ALTER TABLE campaigns ADD COLUMN control TEXT COLLATE "C" CHECK (control IN ('paused', 'cancelled'));

-- Delivery reports read by `dbox bounces sync`, by the report's own Message-ID: read once.
CREATE TABLE bounce_reports (
    report_id     TEXT COLLATE "C" PRIMARY KEY,
    kind          TEXT COLLATE "C" NOT NULL,         -- hard | soft | complaint | unmatched
    campaign_id   BIGINT,
    contact_id    BIGINT,
    status        TEXT COLLATE "C",                  -- the DSN status (5.1.1) or the feedback type (abuse)
    processed_at  TEXT COLLATE "C" NOT NULL
);

-- Soft bounces in a row per address (salted hash, as suppressions): one per campaign; a campaign
-- in between whose message to the address did not bounce starts the count again.
CREATE TABLE soft_bounces (
    value_hash     TEXT COLLATE "C" PRIMARY KEY,
    count          BIGINT NOT NULL,
    last_campaign  BIGINT,
    last_at        TEXT COLLATE "C" NOT NULL
);
