"""contact-events builder: canonical tables -> proj_contact_events ledger -> SQLite mirror.

Read the tree from here down (docs/architecture.md says where a new source, route or
engine goes):
- contract.py   the names and types fixed by CONTRACT.md (tables, columns, reasons)
- config.py     settings from the environment / contact-events.toml
- queries.py    reads queries/*.sql as written
- sql.py        renders them for an engine (the one place)
- trace.py      the one execute hook: every statement on every engine (--show-sql)
- profiles.py   what the canonical tables look like: a folder of source files
- warehouse/    one small interface, one thin adapter per engine (DuckDB, BigQuery)
- mirror.py     the SQLite mirror's files, its read-only open, its timestamp text
- strategy.py   full or incremental, decided once, with the reason
- timestamps.py the contract's timestamp grammar, parsed in Python (load, API)
- load.py       JSONL canonicals -> warehouse tables
- build.py      runs the projection SQL, returns a BuildReport
- sync.py       warehouse -> new SQLite file -> atomic swap onto the mirror
- validate/     independent Python reference path, compared with ledger and mirror
- pipeline.py   the daily job: build -> sync -> validate
- lock.py       one writer at a time (load, build, sync, rebuild)
- demo_data.py  a synthetic practice with every data trap
- cli.py        thin Typer shell over all of the above
"""
