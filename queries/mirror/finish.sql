-- Before the swap: the file readers will open gets SQLite's usual rollback journal.
PRAGMA journal_mode = DELETE;
