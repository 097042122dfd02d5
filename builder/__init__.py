"""contact-events builder: canonical tables -> proj_contact_events ledger -> SQLite mirror.

Read the tree from here down:
- contract.py   the names and types fixed by CONTRACT.md (tables, columns, reasons)
- config.py     settings from the environment / contact-events.toml
- sql.py        loads queries/*.sql and renders them for an engine (the one place)
- warehouse/    one small interface, one thin adapter per engine (DuckDB, BigQuery)
- load.py       JSONL canonicals -> warehouse tables
- build.py      runs the projection SQL, returns a BuildReport
- sync.py       warehouse -> new SQLite file -> atomic swap onto the mirror
- validate/     independent Python reference path, compared with ledger and mirror
- pipeline.py   the daily job: build -> sync -> validate
- lock.py       one writer at a time (load, build, sync, rebuild)
- cli.py        thin Typer shell over all of the above
"""
