-- dbox store, schema 7: unsubscribe tokens name a random identifier, not the contact id.
-- Contact ids are reused after an erasure (SQLite gives the next contact the highest free id), so
-- a token built on the id would, after an erasure, withdraw the consent of a stranger. Each
-- contact gets a random identifier when it is created (the trigger below covers every code path
-- that inserts contacts); it goes with the contact (cascade) and is never given to anyone else.
-- Rules: docs/privacy.md, "One-click unsubscribe endpoint"; SQL: dbox/store/privacy.py.

CREATE TABLE unsubscribe_ids (
    uid         TEXT COLLATE "C" PRIMARY KEY,   -- 32 random hex digits; 'legacy:<id>' for tokens sent before schema 7
    contact_id  BIGINT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE
);
CREATE INDEX unsubscribe_ids_contact ON unsubscribe_ids(contact_id);

CREATE FUNCTION dbox_contacts_unsubscribe_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO unsubscribe_ids (uid, contact_id) VALUES (replace(gen_random_uuid()::text, '-', ''), NEW.id);
    RETURN NULL;
END $$;
CREATE TRIGGER contacts_unsubscribe_id AFTER INSERT ON contacts
    FOR EACH ROW EXECUTE FUNCTION dbox_contacts_unsubscribe_id();

INSERT INTO unsubscribe_ids (uid, contact_id) SELECT replace(gen_random_uuid()::text, '-', ''), id FROM contacts;

-- Tokens already sent (<contact id>.<HMAC>) keep working for the contacts they were sent to: only
-- contacts the ledger shows an e-mail sent (or perhaps sent) to, still holding their id. An erased contact's ledger
-- rows lost their contact_id, so a contact that reused its id gets no legacy identifier.
INSERT INTO unsubscribe_ids (uid, contact_id)
    SELECT DISTINCT 'legacy:' || r.contact_id, r.contact_id
    FROM campaign_recipients r JOIN campaigns k ON k.id = r.campaign_id
    WHERE k.channel = 'email' AND r.contact_id IS NOT NULL
      AND r.state IN ('claimed', 'accepted', 'delivered', 'undelivered', 'in-doubt')
    ON CONFLICT DO NOTHING;
