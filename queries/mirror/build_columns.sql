-- The columns ledger_builds has in this file (an older mirror's history may lack some).
SELECT name FROM pragma_table_info('ledger_builds');
