"""Profiles: what the canonical tables look like (CONTRACT §7).

A profile is a folder of GoogleSQL files, each a plain SELECT with a header that says
what it is:

    -- contact-events: source             one event source, selecting the staged shape
    -- source_system: canonical.messages  ... with the source_system and event_type
    -- event_type: message                    its rows carry in the ledger
    -- table: messages (message_id,       optional, in any file: a canonical table it
    --   channel, ..., session_num INT64)     reads, which `load` writes from JSONL
    -- contact-events: contacts           the contacts (CONTRACT §1 columns); exactly one
    -- contact-events: inputs             optional: (input, rows, used) for the build report

A `table:` declaration names the table and its columns, each STRING unless a type
follows (INT64, ARRAY<STRING>, JSON, TIMESTAMP), and may run over the comment lines after
it. The profile's canonical tables are what its files declare: `load` writes them, the
build checks them, the validator reads them. So a new source of a built-in profile is one
file, its table declared in its own header.

The built-in profiles live in `queries/profiles/<name>/` (`flat`, `lorchestra`);
`CONTACT_EVENTS_SOURCES_DIR` points at a practice's own folder instead. Everything after
the source files (staging, dedupe, contact resolution, rejects, the mirror, the API) is
the same for every profile: the union of sources, the event-type set and the report's
sources all follow from the files found here. A file that does not select the staged
shape is a `ProfileError` naming the file and the missing or extra column, raised before
any build starts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from sqlglot import exp
from sqlglot.errors import ParseError

from ..core import contract as c
from ..core.config import Settings
from ..core.errors import ConfigError
from ..core.queries import QUERIES_DIR
from ..engine import sql

PROFILES_DIR = QUERIES_DIR / "profiles"
ROLES = ("source", "contacts", "inputs")
CONTACT_COLUMNS = c.CONTACT_COLUMNS
INPUT_COLUMNS = ("input", "row_count", "used")
# Parameters a source file may use (bound by the build; see builder.stages.build.build_params).
SOURCE_PARAMS = frozenset({"practice_emails"})

_HEADER = re.compile(r"^--\s*(contact-events|source_system|event_type|table)\s*:\s*(.*?)\s*$")
_TABLE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*\((.*)\)$", re.S)
_COLUMN = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?:\s+([A-Z0-9<>]+))?$")
COLUMN_TYPES = (c.STRING, c.INT64, c.STRING_ARRAY, c.JSON, c.TIMESTAMP)
Tables = dict[str, dict[str, str]]


class ProfileError(ConfigError):
    """A profile's source folder or one of its files cannot be used; nothing was built."""


@dataclass(frozen=True)
class SourceFile:
    """One file of a profile: its role, its declarations and its parsed SELECT."""

    path: Path
    role: str
    query: exp.Query = field(compare=False, repr=False)
    source_system: str | None = None
    event_type: str | None = None
    params: frozenset[str] = frozenset()  # the @parameters its SQL uses
    tables: Tables = field(default_factory=dict, compare=False)  # what its header declares

    @property
    def name(self) -> str:
        return self.path.stem

    @property
    def label(self) -> str:
        """How the file is named in logs and `--show-sql`: its path under queries/ for a
        built-in profile (profiles/flat/messages), else the file's own path."""
        try:
            return str(self.path.relative_to(QUERIES_DIR).with_suffix(""))
        except ValueError:
            return str(self.path)


@dataclass(frozen=True)
class Profile:
    """The files of one profile, checked; `name` is flat, lorchestra or custom."""

    name: str
    folder: Path
    contacts: SourceFile
    sources: tuple[SourceFile, ...]
    inputs: SourceFile | None = None
    declared: Tables = field(default_factory=dict)  # the files' `table:` declarations

    @cached_property
    def event_types(self) -> tuple[str, ...]:
        """The event types the sources declare, in display order (contract order first)."""
        declared = {s.event_type for s in self.sources if s.event_type}
        known = [t for t in c.EVENT_TYPE_ORDER if t in declared]
        return (*known, *sorted(declared - set(known)))

    @cached_property
    def source_systems(self) -> tuple[str, ...]:
        return tuple(s.source_system for s in self.sources if s.source_system)

    @property
    def tables(self) -> Tables | None:
        """The canonical tables `load` writes for this profile, column -> type, as its
        files declare them (None: they declare none, e.g. a practice's own folder that
        reads tables already in its warehouse)."""
        return self.declared or None

    @property
    def builtin(self) -> bool:
        return self.name != c.CUSTOM_PROFILE


def profile_of(settings: Settings) -> Profile:
    """The profile the settings ask for: SOURCES_DIR if set, else PROFILE's own folder."""
    if settings.sources_dir is not None:
        return load_profile(Path(settings.sources_dir), c.CUSTOM_PROFILE)
    return load_profile(PROFILES_DIR / settings.profile, settings.profile)


def load_profile(folder: Path, name: str) -> Profile:
    if not folder.is_dir():
        raise ProfileError(f"source folder {folder} does not exist (CONTACT_EVENTS_SOURCES_DIR)")
    files = sorted(folder.glob("*.sql"))
    if not files:
        raise ProfileError(f"{folder} holds no .sql source files")
    parsed = [_read(path) for path in files]
    by_role = {role: [f for f in parsed if f.role == role] for role in ROLES}
    if len(by_role["contacts"]) != 1:
        found = ", ".join(f.path.name for f in by_role["contacts"]) or "none"
        raise ProfileError(
            f"{folder}: exactly one file must declare `-- contact-events: contacts` (found {found})"
        )
    if not by_role["source"]:
        raise ProfileError(f"{folder}: no file declares `-- contact-events: source`")
    if len(by_role["inputs"]) > 1:
        raise ProfileError(f"{folder}: at most one file may declare `-- contact-events: inputs`")
    seen: dict[str, Path] = {}
    for source in by_role["source"]:
        assert source.source_system is not None
        if source.source_system in seen:
            raise ProfileError(
                f"{source.path}: source_system {source.source_system!r} is declared by "
                f"{seen[source.source_system].name} too; each source needs its own"
            )
        seen[source.source_system] = source.path
    order = {t: i for i, t in enumerate(c.EVENT_TYPE_ORDER)}
    sources = sorted(
        by_role["source"], key=lambda s: (order.get(s.event_type or "", len(order)), s.name)
    )
    declared: Tables = {}
    for source in parsed:
        for table, columns in source.tables.items():
            if table in declared and declared[table] != columns:
                raise ProfileError(
                    f"{source.path}: table {table} is declared with other columns by "
                    "another file of the folder; declare it once"
                )
            declared[table] = columns
    return Profile(
        name=name,
        folder=folder,
        contacts=by_role["contacts"][0],
        sources=tuple(sources),
        inputs=by_role["inputs"][0] if by_role["inputs"] else None,
        declared=declared,
    )


def _read(path: Path) -> SourceFile:
    text = path.read_text(encoding="utf-8")
    header = _header(text)
    role = header.get("contact-events")
    if role not in ROLES:
        raise ProfileError(
            f"{path}: the file must start with a `-- contact-events: "
            f"{'|'.join(ROLES)}` line" + (f" (got {role!r})" if role else "")
        )
    try:
        trees = sql.parse(text)
    except ParseError as e:
        first = str(e).splitlines()[0]
        raise ProfileError(f"{path}: not valid GoogleSQL: {first}") from None
    if len(trees) != 1 or not isinstance(trees[0], exp.Query):
        raise ProfileError(f"{path}: must hold exactly one SELECT (no other statements)")
    query = trees[0]
    params = frozenset(p.name for p in query.find_all(exp.Parameter))
    unknown = params - SOURCE_PARAMS
    if unknown:
        raise ProfileError(
            f"{path}: unknown parameter @{sorted(unknown)[0]}; a source may use "
            + ", ".join(f"@{p}" for p in sorted(SOURCE_PARAMS))
        )
    source_system = event_type = None
    if role == "source":
        source_system = header.get("source_system")
        event_type = header.get("event_type")
        if not source_system:
            raise ProfileError(f"{path}: a source must declare `-- source_system: <name>`")
        if not event_type or not c.EVENT_TYPE_RE.fullmatch(event_type):
            raise ProfileError(
                f"{path}: a source must declare `-- event_type: <type>` "
                "(lower-case letters, digits and _, starting with a letter)"
            )
        query = _with_optional_columns(path, query, c.STAGED_COLUMNS, c.OPTIONAL_STAGED_COLUMNS)
    elif role == "contacts":
        _check_columns(path, query, CONTACT_COLUMNS, ())
    else:
        _check_columns(path, query, INPUT_COLUMNS, ())
    tables = _tables(path, header.get("table"))
    return SourceFile(path, role, query, source_system, event_type, params, tables)


def _header(text: str) -> dict[str, str]:
    """The declarations in the file's leading comment block (a `table:` declaration
    continues over the comment lines after it until its parenthesis closes)."""
    found: dict[str, str] = {}
    table: list[str] | None = None
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if not stripped.startswith("--"):
            break
        if table is not None and table[-1].count("(") > table[-1].count(")"):
            table[-1] += " " + stripped.removeprefix("--").strip()
            continue
        match = _HEADER.match(stripped)
        if match and match.group(1) == "table":
            table = table or []
            table.append(match.group(2))
        elif match:
            found.setdefault(match.group(1), match.group(2))
    if table:
        found["table"] = "\n".join(table)
    return found


def _tables(path: Path, declared: str | None) -> Tables:
    """A file's `table:` declarations: table -> column -> type (see the module docstring)."""
    tables: Tables = {}
    for text in (declared or "").splitlines():
        match = _TABLE.match(text)
        if not match:
            raise ProfileError(
                f"{path}: `-- table: {text}` is not `-- table: name (column [TYPE], ...)`"
            )
        columns: dict[str, str] = {}
        for part in match.group(2).split(","):
            column = _COLUMN.match(part.strip())
            kind = (column.group(2) or c.STRING) if column else ""
            if column is None or kind not in COLUMN_TYPES:
                raise ProfileError(
                    f"{path}: table {match.group(1)}: {part.strip()!r} is not a column name "
                    f"and one of the types {', '.join(COLUMN_TYPES)}"
                )
            columns[column.group(1)] = kind
        tables[match.group(1)] = columns
    return tables


def _selected(path: Path, query: exp.Query) -> list[str]:
    select = query
    while isinstance(select, exp.SetOperation):  # a UNION: its first SELECT names columns
        select = select.this
    if not isinstance(select, exp.Select):
        raise ProfileError(f"{path}: must be a SELECT")
    names = []
    for projection in select.expressions:
        if isinstance(projection, exp.Star) or (
            isinstance(projection, exp.Column) and isinstance(projection.this, exp.Star)
        ):
            raise ProfileError(f"{path}: select the columns by name, not with *")
        names.append(projection.alias_or_name)
    return names


def _check_columns(
    path: Path, query: exp.Query, required: tuple[str, ...], optional: tuple[str, ...]
) -> list[str]:
    names = _selected(path, query)
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate:
        raise ProfileError(f"{path}: column {duplicate!r} is selected twice")
    missing = [n for n in required if n not in names]
    if missing:
        raise ProfileError(
            f"{path}: missing column {missing[0]!r} (a {'source' if optional else 'file'} "
            f"of this kind selects {', '.join(required + optional)})"
        )
    extra = [n for n in names if n not in required and n not in optional]
    if extra:
        raise ProfileError(
            f"{path}: extra column {extra[0]!r} (selects exactly "
            f"{', '.join(required)}"
            + (f", and optionally {', '.join(optional)})" if optional else ")")
        )
    return names


def _with_optional_columns(
    path: Path, query: exp.Query, required: tuple[str, ...], optional: tuple[str, ...]
) -> exp.Query:
    """The source's SELECT, wrapped to select NULL for an optional column it leaves out."""
    names = _check_columns(path, query, required, optional)
    absent = [n for n in optional if n not in names]
    if not absent:
        return query
    nulls = [exp.alias_(exp.cast(exp.null(), "STRING"), n) for n in absent]
    return exp.select("*", *nulls).from_(
        exp.Subquery(this=query, alias=exp.TableAlias(this=exp.to_identifier("staged")))
    )
