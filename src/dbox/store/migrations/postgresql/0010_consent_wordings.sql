-- dbox store, schema 10: the wording a person agreed to, kept with each consent event that has one.
-- A grant recorded by `dbox consent grant` kept its wording in `detail`; an import kept the file's
-- name there and no wording (`dbox consent show` flags those). A table of its own (not a column of
-- consent_events) so that this migration can run twice harmlessly.
CREATE TABLE IF NOT EXISTS consent_wordings (
    event_id  BIGINT PRIMARY KEY REFERENCES consent_events(id) ON DELETE CASCADE,
    wording   TEXT COLLATE "C" NOT NULL
);
INSERT INTO consent_wordings (event_id, wording)
    SELECT id, detail FROM consent_events WHERE action = 'grant' AND source <> 'import' AND detail IS NOT NULL
    ON CONFLICT DO NOTHING;
