-- dbox store, schema 15 (PostgreSQL): the unsubscribe identifiers of new contacts (schema 7) are
-- written once per statement, from the statement's new rows, instead of by a PL/pgSQL call and a
-- one-row INSERT per contact. An import COPYs thousands of contacts in one statement: the per-row
-- trigger was the largest part of its server time (docs/team.md, "A store of millions"). Same
-- rule, same content: every contact inserted, by any code path, gets one random identifier.

DROP TRIGGER contacts_unsubscribe_id ON contacts;
DROP FUNCTION dbox_contacts_unsubscribe_id();

CREATE FUNCTION dbox_contacts_unsubscribe_ids() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO unsubscribe_ids (uid, contact_id)
        SELECT replace(gen_random_uuid()::text, '-', ''), id FROM dbox_new_contacts;
    RETURN NULL;
END $$;
CREATE TRIGGER contacts_unsubscribe_ids AFTER INSERT ON contacts
    REFERENCING NEW TABLE AS dbox_new_contacts
    FOR EACH STATEMENT EXECUTE FUNCTION dbox_contacts_unsubscribe_ids();
