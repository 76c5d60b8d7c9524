-- dbox store, schema 7: the wording a person agreed to, kept with each consent event.
-- A grant recorded by `dbox consent grant` kept its wording in `detail`; an import kept the
-- file's name there and no wording (`dbox consent show` flags those).
ALTER TABLE consent_events ADD COLUMN wording TEXT;
UPDATE consent_events SET wording = detail WHERE action = 'grant' AND source <> 'import';
