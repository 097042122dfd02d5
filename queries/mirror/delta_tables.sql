-- `sync --incremental`: temp tables for what an incremental build changed, filled from the
-- warehouse (proj_stage_delta_ledger, proj_stage_delta_rejects, proj_stage_changed,
-- proj_contacts) before patch.sql applies them.
CREATE TEMP TABLE delta_ledger (
  contact_id, contact_email, event_type, event_name, event_source, event_timestamp,
  source_system, source_record_id, payload
);
CREATE TEMP TABLE delta_rejects (source_system, source_record_id, severity, reason, detail);
CREATE TEMP TABLE changed (source_system, source_record_id);
CREATE TEMP TABLE new_contacts (
  contact_id, email, first_name, last_name, lifecycle_stage, client_type_code, updated_at
);
