-- dbox store, schema 15: PostgreSQL writes the unsubscribe identifiers of new contacts once per
-- statement (migrations/postgresql/0015_unsubscribe_ids_per_statement.sql). SQLite has no
-- statement-level triggers; its per-row trigger of schema 7 stays (a large import drops and
-- rebuilds it, dbox.store.contacts_write). Nothing to change here: every migration ships in both forms.
SELECT 1;
