-- dbox store, schema 5: social networks.
-- Followers and connections live in `identities` (schema 1); this adds what linking and
-- incremental imports need, the relations of each identity, follower-count snapshots and the
-- connected accounts' metadata. Access and refresh tokens are never stored here: they live in
-- the system keyring (see dbox.social.tokens); `social_accounts.token_key` names the entry.

ALTER TABLE identities ADD COLUMN email TEXT;           -- as the export gave it (LinkedIn), lower-case
ALTER TABLE identities ADD COLUMN url_key TEXT;         -- normalized profile URL (dbox.social.urls)
ALTER TABLE identities ADD COLUMN entry_key TEXT;       -- name|date, for entries with no id, handle or URL (Facebook)
ALTER TABLE identities ADD COLUMN link_method TEXT;     -- email | profile_url when linked to a contact
ALTER TABLE identities ADD COLUMN first_seen_at TEXT;
ALTER TABLE identities ADD COLUMN last_seen_at TEXT;

CREATE INDEX identities_network_account ON identities(network, account_id);
CREATE INDEX identities_network_handle ON identities(network, handle);
CREATE INDEX identities_url_key ON identities(url_key);
CREATE INDEX identities_entry_key ON identities(network, entry_key);
CREATE INDEX identities_email ON identities(email);

-- How an identity relates to the campaign's own account: one row per relation, so a person who
-- follows the campaign and is followed back has two.
CREATE TABLE identity_relations (
    identity_id     INTEGER NOT NULL REFERENCES identities(id) ON DELETE CASCADE,
    relation        TEXT NOT NULL CHECK (relation IN ('follower', 'following', 'connection', 'friend')),
    since           TEXT,                               -- when the relation began, if the source says
    import_id       INTEGER REFERENCES imports(id),     -- the import that first saw it
    last_import_id  INTEGER REFERENCES imports(id),     -- the latest import that saw it
    PRIMARY KEY (identity_id, relation)
) WITHOUT ROWID;
CREATE INDEX identity_relations_relation ON identity_relations(relation, identity_id);

-- Follower counts per network per import: growth over time.
CREATE TABLE follower_snapshots (
    id          INTEGER PRIMARY KEY,
    network     TEXT NOT NULL,
    relation    TEXT NOT NULL,
    import_id   INTEGER REFERENCES imports(id),
    source      TEXT NOT NULL,          -- file | api
    taken_at    TEXT NOT NULL,
    total       INTEGER NOT NULL,       -- the size of the list (file) or the count the network gave (api)
    new         INTEGER NOT NULL,       -- identities this import saw for the first time in that relation
    known       INTEGER NOT NULL,       -- identities in that relation on that network after the import
    linked      INTEGER NOT NULL        -- of those, attached to a contact
);
CREATE INDEX follower_snapshots_network ON follower_snapshots(network, relation, taken_at);

-- The account connected on each network (one per network per store). Metadata only.
CREATE TABLE social_accounts (
    network       TEXT PRIMARY KEY,
    account_id    TEXT NOT NULL,
    handle        TEXT,
    display_name  TEXT,
    instance      TEXT,                 -- Mastodon server base URL
    token_key     TEXT NOT NULL,        -- the keyring entry holding the tokens
    scopes        TEXT,
    connected_at  TEXT NOT NULL,
    expires_at    TEXT,                 -- access token expiry; NULL when it does not expire
    refreshable   INTEGER NOT NULL DEFAULT 0,
    refreshed_at  TEXT,
    sync_state    TEXT,                 -- JSON: resume point of an unfinished first follower sync
    synced_at     TEXT,
    settings      TEXT                  -- JSON: what the server told us (character limit, page id, ...)
);
