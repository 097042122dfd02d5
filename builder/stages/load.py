"""`contact-events load DIR`: canonical JSONL files -> warehouse tables.

Files are parsed as they are streamed into the warehouse, one Arrow batch at a time, so
memory does not grow with the files. The warehouse replaces the tables all or nothing
(`Warehouse.replace_tables`: each engine writes `<table>__incoming` staging tables and
swaps them in only once every file has loaded), so a bad line anywhere leaves the
warehouse as it was. Unknown extra fields are ignored (and counted in the report);
a value of the wrong type is coerced where the meaning is unambiguous (a number in a
string column becomes its text, a JSON-array string in an array column is decoded) and
is an error otherwise.

Every bad byte is one `LoadError` naming the file and line, and nothing is changed:
bytes that are not UTF-8 (a latin-1 export), a lone surrogate escape (`"\ud800"`, which
no engine can store), `NaN`/`Infinity` (not JSON), a key twice in one object, nesting
deeper than MAX_DEPTH, an integer of more than MAX_DIGITS digits. A UTF-8 byte-order mark
at the start of a file is skipped (spreadsheet exports write one).
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from ..core.contract import INT64, JSON, STRING, STRING_ARRAY, TIMESTAMP
from ..core.errors import LoadError
from ..core.timestamps import TimestampError, parse_timestamp
from ..engine import Warehouse
from .profiles import PROFILES_DIR, Profile, Tables, load_profile

log = logging.getLogger("contact_events.load")
BATCH_ROWS = 50_000
BOM = b"\xef\xbb\xbf"
MAX_DEPTH = 64  # nesting of arrays/objects in one line (a canonical row needs 3)
MAX_DIGITS = 400  # digits of one JSON number (int64 has 19; Python refuses 4,300+)
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_DEEP = re.compile(rb"[\[{]")
_LONG_NUMBER = re.compile(rb"\d{%d,}" % (MAX_DIGITS + 1))
ARROW_TYPES = {
    STRING: pa.string(),
    INT64: pa.int64(),
    STRING_ARRAY: pa.list_(pa.string()),
    JSON: pa.json_(),
    TIMESTAMP: pa.timestamp("us", tz="UTC"),
}


def arrow_schema(table: str, tables: Tables) -> pa.Schema:
    return pa.schema([(col, ARROW_TYPES[t]) for col, t in tables[table].items()])


@dataclass
class LoadReport:
    rows: dict[str, int] = field(default_factory=dict)
    missing_files: list[str] = field(default_factory=list)
    ignored_fields: dict[str, list[str]] = field(default_factory=dict)
    # columns the warehouse keeps otherwise than the contract's type (a STRING payload)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


class _BadValue(ValueError):
    pass


def _to_string(value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def _to_int(value: object) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise _BadValue("expected an integer, got a boolean")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    elif isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        value = int(value.strip())
    if not isinstance(value, int):
        raise _BadValue(f"expected an integer, got {value!r}")
    if not INT64_MIN <= value <= INT64_MAX:
        raise _BadValue(f"integer {value} is outside the 64-bit range")
    return value


def _to_string_array(value: object) -> list[str | None] | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise _BadValue("expected a JSON array of strings") from None
    if not isinstance(value, list):
        raise _BadValue(f"expected an array of strings, got {type(value).__name__}")
    return [_to_string(v) for v in value]


def _to_json_object(value: object) -> str | None:
    """A JSON object (a lorchestra payload), kept as its JSON text."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _BadValue(f"expected a JSON object, got {_json_kind(value)}")
    # keys sorted at every depth: the text DuckDB keeps (and JSON_QUERY returns) is then
    # the canonical one the validator compares and ties are ordered by
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def _json_kind(value: object) -> str:
    kinds = {str: "a string", bool: "a boolean", int: "a number", float: "a number"}
    return "an array" if isinstance(value, list) else kinds.get(type(value), "a value")


def _to_timestamp(value: object) -> object:
    """An RFC 3339 text (the contract's grammar) for a TIMESTAMP column; '' is null."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise _BadValue(f"expected an RFC 3339 timestamp, got {_json_kind(value)}")
    try:
        return parse_timestamp(value)
    except TimestampError as e:
        raise _BadValue(str(e)) from None


COERCE: dict[str, Callable[[object], object]] = {
    STRING: _to_string,
    INT64: _to_int,
    STRING_ARRAY: _to_string_array,
    JSON: _to_json_object,
    TIMESTAMP: _to_timestamp,
}


def read_jsonl(
    path: Path,
    table: str,
    unknown: Counter[str],
    tables: Tables,
) -> Iterator[pa.RecordBatch]:
    """Parse one canonical file into record batches; raise LoadError naming file:line."""
    columns = tables[table]
    schema = arrow_schema(table, tables)
    buffer: dict[str, list[object]] = {c: [] for c in columns}
    with path.open("rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            if lineno == 1 and raw.startswith(BOM):
                raw = raw[len(BOM) :]
            if not raw.strip():
                continue
            try:
                record = parse_line(raw)
            except _BadLine as e:
                raise LoadError(f"{path}:{lineno}: {e}") from None
            if not isinstance(record, dict):
                raise LoadError(f"{path}:{lineno}: expected a JSON object per line")
            for key in record.keys() - columns.keys():
                unknown[key] += 1
            for col, typ in columns.items():
                try:
                    buffer[col].append(COERCE[typ](record.get(col)))
                except _BadValue as e:
                    raise LoadError(f"{path}:{lineno}: field {col!r}: {e}") from None
            if len(buffer[next(iter(columns))]) >= BATCH_ROWS:
                yield pa.RecordBatch.from_pydict(buffer, schema=schema)
                buffer = {c: [] for c in columns}
    if buffer[next(iter(columns))]:
        yield pa.RecordBatch.from_pydict(buffer, schema=schema)


class _BadLine(ValueError):
    pass


def _no_constants(name: str) -> object:
    raise _BadLine(f"{name} is not JSON (numbers must be finite)")


def _unique_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    found: dict[str, object] = {}
    for key, value in pairs:
        if key in found:
            raise _BadLine(f"key {key!r} appears twice in one object")
        found[key] = value
    return found


def _lone_surrogate(value: object) -> bool:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_lone_surrogate(k) or _lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_lone_surrogate(v) for v in value)
    return False


def parse_line(raw: bytes) -> object:
    """One JSONL line -> its value, or _BadLine saying what is wrong (for file:line)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise _BadLine(
            f"not UTF-8 (byte 0x{raw[e.start]:02x} at column {e.start + 1}); save the file as UTF-8"
        ) from None
    if len(_DEEP.findall(raw)) > MAX_DEPTH and _depth(text) > MAX_DEPTH:
        raise _BadLine(f"nested deeper than {MAX_DEPTH} levels")
    if _LONG_NUMBER.search(raw) and _has_long_number(text):
        raise _BadLine(f"a number longer than {MAX_DIGITS} digits")
    try:
        value = json.loads(text, parse_constant=_no_constants, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as e:
        raise _BadLine(f"not valid JSON ({e.msg} at column {e.colno})") from None
    except RecursionError:
        raise _BadLine(f"nested deeper than {MAX_DEPTH} levels") from None
    except _BadLine:
        raise
    except ValueError as e:  # e.g. Python's limit on digits in an integer
        raise _BadLine(f"not loadable JSON ({e})") from None
    if _SURROGATE_ESCAPE.search(raw) and _lone_surrogate(value):
        raise _BadLine("a lone surrogate escape (\\ud800-\\udfff) is not text")
    return value


def _outside_strings(text: str) -> Iterator[str]:
    """The characters of a JSON text outside its strings (a string's opening quote is
    yielded, so whatever a string interrupts is seen as interrupted)."""
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
            continue
        if ch == '"':
            in_string = True
        yield ch


def _depth(text: str) -> int:
    """Deepest nesting of brackets outside strings."""
    depth = deepest = 0
    for ch in _outside_strings(text):
        if ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def _has_long_number(text: str) -> bool:
    """A run of more than MAX_DIGITS digits outside strings (inside one it is just text)."""
    run = 0
    for ch in _outside_strings(text):
        run = run + 1 if ch.isdigit() else 0
        if run > MAX_DIGITS:
            return True
    return False


def load_directory(
    warehouse: Warehouse,
    directory: Path,
    progress: Callable[[str, int], None] | None = None,
    profile: Profile | None = None,
) -> LoadReport:
    """Load every canonical table of the profile (default: flat) from
    `directory/<table>.jsonl` (missing file = empty)."""
    started = time.perf_counter()
    directory = Path(directory)
    profile = profile or load_profile(PROFILES_DIR / "flat", "flat")
    tables = profile.tables
    if tables is None:
        raise LoadError(
            f"no file of {profile.folder} declares a table (`-- table: name (columns)`): "
            "its sources read tables already in the warehouse, so there is nothing to load"
        )
    if not directory.is_dir():
        raise LoadError(f"{directory} is not a directory")
    report = LoadReport()

    def stream(table: str, path: Path) -> Iterator[pa.RecordBatch]:
        """The file's batches, counted into the report as the warehouse takes them."""
        unknown: Counter[str] = Counter()
        for batch in read_jsonl(path, table, unknown, tables):
            report.rows[table] += batch.num_rows
            if progress:
                progress(table, batch.num_rows)
            yield batch
        if unknown:
            report.ignored_fields[table] = sorted(unknown)
        log.info("read %s rows from %s", report.rows[table], path)

    replacing: dict[str, tuple[pa.Schema, Iterable[pa.RecordBatch]]] = {}
    for table in tables:
        path = directory / f"{table}.jsonl"
        report.rows[table] = 0
        schema = arrow_schema(table, tables)
        if path.exists():
            replacing[table] = (schema, stream(table, path))
        else:
            report.missing_files.append(path.name)
            replacing[table] = (schema, ())
    report.notes = warehouse.replace_tables(replacing)
    report.seconds = time.perf_counter() - started
    return report
