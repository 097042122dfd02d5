"""contact-events builder: canonical tables -> proj_contact_events ledger -> SQLite mirror.

Read the rooms from the ground up (docs/architecture.md says where a new source, route or
engine goes; no room imports one above it):
- core/      what every room, and the API, shares: settings (config.py), errors and
             `one_line`, the contract's names, the SQL files' text (queries.py), owner-only
             files, the timestamp grammar, the one execute hook (trace.py, --show-sql)
- engine/    one small interface (base.py), SQL rendered for an engine (sql.py, the one
             place), the registry (__init__.py) and one adapter module per engine (adapters/)
- mirror/    the SQLite mirror's format, shared with the API: its files, read-only open,
             checksum and verification (store.py), its build rows (build_row.py)
- stages/    a build: the profile's source files (profiles.py), load, the strategy (full or
             incremental, decided once), build, sync, and the writers' lock
- validate/  the independent Python reference path, compared with ledger and mirror
- pipeline.py  the daily job and the rebuild job: build -> sync -> validate
- doctor.py    `contact-events doctor`: is this setup able to run?
- demo/      synthetic practices with every data trap (flat.py, lorchestra.py) and the demo
             itself as a library (run.py)
- cli.py     thin Typer shell over all of the above, and `serve` for the API (app/)
"""
