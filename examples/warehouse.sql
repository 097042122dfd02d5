-- A small practice's own warehouse, for the worked example in examples/sources/ (README
-- "Profiles: a practice's own source files"). DuckDB SQL: it creates and fills the four
-- tables the example's source files read. Load it with
--   .venv/bin/python -c "import duckdb; duckdb.connect('data/own.duckdb').execute(open('examples/warehouse.sql').read())"
CREATE OR REPLACE TABLE clients (
  client_ref VARCHAR, email_address VARCHAR, given_name VARCHAR, family_name VARCHAR,
  status VARCHAR, modified VARCHAR, work_email VARCHAR
);
INSERT INTO clients VALUES
  ('CL-1', 'Ada@Example.org', 'Ada', 'Lovelace', 'active', '2025-01-02T09:00:00Z', NULL),
  -- Alan also writes from work: his secondary email
  ('CL-2', 'alan@example.org', 'Alan', 'Turing', 'active', '2025-01-02T09:00:00Z',
   'A.Turing@Bletchley.example'),
  ('CL-3', 'grace@example.org', 'Grace', 'Hopper', 'discharged', '2025-01-02T09:00:00Z', NULL),
  -- CL-3 moved: the later `modified` wins
  ('CL-3', 'grace.h@example.org', 'Grace', 'Hopper', 'active', '2025-03-01T09:00:00Z', NULL);

CREATE OR REPLACE TABLE appointments (
  id VARCHAR, client_ref VARCHAR, starts TIMESTAMP, state VARCHAR, created TIMESTAMP
);
INSERT INTO appointments VALUES
  ('A-1', 'CL-1', '2025-03-03 10:00:00', 'attended', '2025-02-20 08:00:00'),
  ('A-2', 'CL-1', '2025-03-10 10:00:00', 'no-show', '2025-02-20 08:00:00'),
  ('A-3', 'CL-2', '2025-03-04 15:00:00', 'attended', '2025-02-21 08:00:00'),
  ('A-4', 'CL-9', '2025-03-05 15:00:00', 'attended', '2025-02-21 08:00:00'),  -- no such client
  ('A-5', 'CL-3', NULL, 'cancelled', '2025-02-22 08:00:00');                  -- no time

CREATE OR REPLACE TABLE text_messages (
  id VARCHAR, client_email VARCHAR, outgoing BOOLEAN, body VARCHAR, sent VARCHAR,
  logged_at VARCHAR
);
INSERT INTO text_messages VALUES
  ('T-1', ' ADA@example.org', TRUE, 'See you Monday', '2025-03-02T18:00:00+01:00', '2025-03-02T17:00:01Z'),
  ('T-2', 'alan@example.org', FALSE, 'Running late', '2025-03-04 14:55:00', '2025-03-04T14:55:02Z'),
  ('T-3', 'stranger@example.net', FALSE, 'Who is this?', '2025-03-05T09:00:00Z', '2025-03-05T09:00:01Z'),
  ('T-4', 'alan@example.org', TRUE, 'Reminder', 'last tuesday', '2025-03-06T09:00:01Z'),
  ('T-5', 'a.turing@bletchley.example', FALSE, 'From the office', '2025-03-07T12:00:00Z', '2025-03-07T12:00:01Z');

CREATE OR REPLACE TABLE reminders (
  id VARCHAR, client_ref VARCHAR, kind VARCHAR, sent_at VARCHAR, created VARCHAR
);
INSERT INTO reminders VALUES
  ('R-1', 'CL-1', 'Form Reminder Sent', '2025-03-01T08:00:00Z', '2025-03-01T08:00:00Z'),
  ('R-2', 'CL-2', 'Form Reminder Sent', '2025-03-01T08:00:00Z', '2025-03-01T08:00:00Z'),
  (NULL, 'CL-2', 'Form Reminder Sent', '2025-03-01T08:00:00Z', '2025-03-01T08:00:00Z');
