-- dbox store, schema 16: who did it, on a shared store. The OS user alone said "root" on a server;
-- each audit row now also names the host it ran on and, on PostgreSQL, the database role (the team
-- member's own login, docs/team.md). Rows written before stay as they were (NULL): their hash does
-- not cover these columns, so the chain still verifies.
ALTER TABLE audit_log ADD COLUMN host TEXT COLLATE "C";
ALTER TABLE audit_log ADD COLUMN db_role TEXT COLLATE "C";
