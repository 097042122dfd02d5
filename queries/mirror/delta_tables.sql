-- `sync --incremental`: temp tables for what an incremental build changed, filled from the
-- warehouse (proj_stage_delta_ledger, proj_stage_delta_rejects, proj_stage_changed,
-- proj_contacts) before patch.sql applies them. They take the mirror's own columns, so
-- a new column of the ledger, the rejects or the contacts is not listed here again.
CREATE TEMP TABLE delta_ledger AS SELECT * FROM main.contact_events LIMIT 0;
CREATE TEMP TABLE delta_rejects AS SELECT * FROM main.contact_events_rejects LIMIT 0;
CREATE TEMP TABLE changed (source_system, source_record_id);
CREATE TEMP TABLE new_contacts AS SELECT * FROM main.contacts LIMIT 0;
