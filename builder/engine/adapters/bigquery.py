"""BigQuery adapter: production warehouse, through the official google-cloud-bigquery client.

Credentials are Application Default Credentials, except with an endpoint override
(`CONTACT_EVENTS_BQ_ENDPOINT`, e.g. a local emulator), where they are anonymous; none
found is one `ConfigError` saying how to provide them. Every API request waits at most
`CONTACT_EVENTS_BQ_TIMEOUT_SECONDS` for an answer and is tried again at most
`CONTACT_EVENTS_BQ_RETRIES` times when the endpoint does not answer; then the error names
the endpoint. Reads stream through the BigQuery Storage Read API as Arrow record batches
and fall back to REST paging when the Storage API cannot be used.

These libraries are the `[bigquery]` extra (`builder.engine.open_warehouse` says so
when they are missing; this module imports without them, so its settings can be read).
"""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import pyarrow as pa
from pydantic import BaseModel, Field

from ...core import trace
from ...core.errors import ConfigError, WarehouseError
from ..base import Capabilities, Params, Warehouse, staging_name

try:
    from google.api_core import exceptions as gexc
except ImportError:  # the extra is not installed: BigQueryWarehouse.missing() says so
    gexc = None  # type: ignore[assignment]

log = logging.getLogger("contact_events.bigquery")

GOOGLE_ENDPOINT = "https://bigquery.googleapis.com"
CREDENTIALS_HELP = (
    "BigQuery needs Google credentials and none were found: run `gcloud auth "
    "application-default login`, or set GOOGLE_APPLICATION_CREDENTIALS to a service "
    "account's key file, or run where a service account is attached (Cloud Run, GCE); "
    "for a local emulator set CONTACT_EVENTS_BQ_ENDPOINT"
)
JOB_LABELS = {"app": "contact-events"}
STORAGE_CONNECT_SECONDS = 5
LOAD_CHUNK_BYTES = 64 * 1024 * 1024  # one load job per chunk
ARROW_TO_BQ = {
    pa.string(): ("STRING", "NULLABLE"),
    pa.int64(): ("INT64", "NULLABLE"),
    pa.list_(pa.string()): ("STRING", "REPEATED"),
    pa.json_(): ("JSON", "NULLABLE"),
    pa.timestamp("us", tz="UTC"): ("TIMESTAMP", "NULLABLE"),
}


class BigQuerySettings(BaseModel):
    """CONTACT_EVENTS_BQ_*: where the canonicals and the projection are, the endpoints
    (a local emulator), and for each API request how long to wait for an answer and how
    many times to try again when the endpoint does not answer (refused, timed out, 5xx)."""

    bq_project: str | None = None
    bq_dataset: str | None = None
    bq_endpoint: str | None = None
    bq_storage_endpoint: str | None = None
    bq_location: str | None = None
    bq_timeout_seconds: float = Field(default=30.0, gt=0)
    bq_retries: int = Field(default=3, ge=0)


class BigQueryWarehouse(Warehouse):
    kind = "bigquery"
    dialect = "bigquery"
    settings_model = BigQuerySettings
    capabilities = Capabilities(storage_options=True)
    extra = "bigquery"
    extra_modules = ("google.api_core", "google.cloud.bigquery", "google.cloud.bigquery_storage")

    def __init__(
        self,
        project: str,
        dataset: str,
        *,
        endpoint: str | None = None,
        storage_endpoint: str | None = None,
        location: str | None = None,
        timeout: float | None = None,
        retry: bool = True,
        request_timeout: float = 30.0,
        retries: int = 3,
    ):
        from google.api_core.client_options import ClientOptions
        from google.auth import exceptions as auth_errors
        from google.cloud import bigquery

        self.project, self.dataset, self.location = project, dataset, location
        self.timeout = timeout  # a whole job's wait (None: as long as it takes)
        self._retry = retry
        self.request_timeout = request_timeout  # one API request's wait for an answer
        self.retries = retries if retry else 0
        self.endpoint = endpoint or GOOGLE_ENDPOINT
        # the client's own retries, bounded by the same budget as ours
        self._api_retry = bigquery.DEFAULT_RETRY.with_timeout(
            request_timeout * (self.retries + 1) + 2**self.retries
        )
        self.storage_endpoint = storage_endpoint
        credentials = None
        options = None
        if endpoint:
            from google.auth.credentials import AnonymousCredentials

            credentials = AnonymousCredentials()
            options = ClientOptions(api_endpoint=endpoint)
        try:
            self.client = bigquery.Client(
                project=project,
                credentials=credentials,
                client_options=options,
                location=location,
            )
        except auth_errors.DefaultCredentialsError:
            raise ConfigError(CREDENTIALS_HELP) from None
        self._credentials = credentials
        self._read_client = None
        self._channel = None
        # "storage" or "rest" per table read, for the report, tests and logs
        self.read_paths: dict[str, str] = {}
        # the schema each staging table was loaded with, for the swap to create a missing
        # table with (the tables API takes it exactly; a CREATE ... AS SELECT might not)
        self._staged_fields: dict[str, list[Any]] = {}
        self.call(
            self.client.create_dataset,
            f"creating dataset {project}.{dataset}",
            f"{project}.{dataset}",
            exists_ok=True,
        )

    @classmethod
    def describe(cls, settings: BigQuerySettings) -> str:
        return f"BigQuery {settings.bq_project}.{settings.bq_dataset}"

    @classmethod
    def open(cls, settings: BigQuerySettings, *, read_only: bool = False) -> BigQueryWarehouse:
        if not settings.bq_project or not settings.bq_dataset:
            raise ConfigError(
                "BigQuery needs CONTACT_EVENTS_BQ_PROJECT and CONTACT_EVENTS_BQ_DATASET"
            )
        return cls(
            settings.bq_project,
            settings.bq_dataset,
            endpoint=settings.bq_endpoint,
            storage_endpoint=settings.bq_storage_endpoint,
            location=settings.bq_location,
            request_timeout=settings.bq_timeout_seconds,
            retries=settings.bq_retries,
        )

    # --- every metadata call: a request timeout, bounded retries, one clear error ---------
    def call(self, method: Callable[..., Any], doing: str, *args: Any, **kwargs: Any) -> Any:
        """`method(*args, **kwargs)` with a per-request timeout, tried again at most
        `retries` times while the endpoint does not answer; errors as WarehouseError."""
        import requests
        from google.auth import exceptions as auth_errors

        kwargs.setdefault("timeout", self.request_timeout)
        kwargs.setdefault("retry", None)
        tries = self.retries + 1
        for attempt in range(1, tries + 1):
            try:
                return method(*args, **kwargs)
            except (
                requests.ConnectionError,
                requests.Timeout,
                gexc.ServerError,
                gexc.TooManyRequests,
            ) as e:
                if attempt == tries:
                    raise self._unreachable(e, doing, tries) from None
                log.info("BigQuery %s: %s; trying again (%d/%d)", doing, e, attempt, tries)
                time.sleep(min(2 ** (attempt - 1), 8))
            except auth_errors.RefreshError as e:
                raise ConfigError(
                    f"Google credentials were refused while {doing} ({e}); "
                    "run `gcloud auth application-default login` again or check the "
                    "service account"
                ) from None
            except gexc.GoogleAPICallError as e:
                raise self._error(e, doing) from e
        raise AssertionError("unreachable")

    def _unreachable(self, e: Exception, doing: str, tries: int) -> WarehouseError:
        import requests

        if isinstance(e, requests.Timeout):
            why = f"no answer within {self.request_timeout:g}s"
        elif isinstance(e, requests.ConnectionError):
            why = "could not connect"
        else:
            why = getattr(e, "message", None) or str(e)
        return WarehouseError(
            f"BigQuery endpoint {self.endpoint} did not answer while {doing}: {why} "
            f"({tries} tries); check the network, CONTACT_EVENTS_BQ_ENDPOINT, and "
            "CONTACT_EVENTS_BQ_TIMEOUT_SECONDS / CONTACT_EVENTS_BQ_RETRIES"
        )

    # --- helpers -----------------------------------------------------------------
    def qualifier(self) -> tuple[str | None, str | None]:
        return (self.project, self.dataset)

    def table_id(self, table: str) -> str:
        return f"{self.project}.{self.dataset}.{table}"

    @staticmethod
    def _error(e: Exception, doing: str) -> WarehouseError:
        if isinstance(e, gexc.Forbidden):
            return WarehouseError(f"BigQuery permission denied while {doing}: {e.message}")
        if isinstance(e, gexc.NotFound):
            return WarehouseError(f"BigQuery: not found while {doing}: {e.message}")
        message = getattr(e, "message", None) or str(e)
        return WarehouseError(f"BigQuery error while {doing}: {message}")

    def _job_config(self, params: Params | None, **extra: object):
        from google.cloud import bigquery

        query_params = []
        for name, value in (params or {}).items():
            kind = parameter_type(value)
            if kind.startswith("ARRAY<"):
                element = kind.removeprefix("ARRAY<").removesuffix(">")
                query_params.append(bigquery.ArrayQueryParameter(name, element, list(value)))
            else:
                query_params.append(bigquery.ScalarQueryParameter(name, kind, value))
        return bigquery.QueryJobConfig(
            query_parameters=query_params,
            labels=JOB_LABELS,
            default_dataset=f"{self.project}.{self.dataset}",
            **extra,
        )

    def _query(self, statement: str, params: Params | None):
        import requests

        kwargs: dict[str, object] = {}
        if not self._retry:
            kwargs["job_retry"] = None
        try:
            job = self.client.query(
                statement,
                job_config=self._job_config(params),
                retry=self._api_retry,
                timeout=self.request_timeout,
                **kwargs,
            )
            return job.result(timeout=self.timeout, retry=self._api_retry)
        except (requests.ConnectionError, requests.Timeout, gexc.RetryError) as e:
            raise self._unreachable(e, "running a query", self.retries + 1) from None
        except gexc.GoogleAPICallError as e:
            raise self._error(e, "running a query") from e

    # --- hooks -------------------------------------------------------------------------
    def _execute(self, statement: str, params: Params | None) -> None:
        self._query(statement, params)

    def _fetch(self, statement: str, params: Params | None) -> list[dict[str, object]]:
        return [dict(row.items()) for row in self._query(statement, params)]

    def estimate(
        self, statement: str, params: Params | None = None, *, name: str = ""
    ) -> str | None:
        trace.statement(self.kind, statement, params, name=f"dry run: {name or 'statement'}")
        try:
            job = self.client.query(
                statement,
                job_config=self._job_config(params, dry_run=True, use_query_cache=False),
            )
        except gexc.GoogleAPICallError as e:
            return f"no estimate: {getattr(e, 'message', e)}"
        return f"{job.total_bytes_processed or 0:,} bytes processed"

    def _swap(self, tables: Sequence[str]) -> None:
        """One multi-statement transaction (DELETE + INSERT per table): a failed swap
        changes nothing. A table that did not exist before is created empty first, with
        the schema its staging table was loaded with (DDL cannot run inside a
        transaction)."""
        begin, commit = self.statements("engine/bigquery/transaction")
        script = [begin.sql]
        for table in tables:
            if not self.table_exists(table):
                self._create_table(table, self._staged_fields[staging_name(table)])
            pair = {"target": table, "incoming": staging_name(table)}
            script += [s.sql for s in self.statements("engine/bigquery/swap", **pair)]
        script.append(commit.sql)
        self.execute(
            ";\n".join(script) + ";", name="engine/bigquery/transaction <- engine/bigquery/swap"
        )

    def _create_table(self, table: str, fields: Sequence[Any]) -> None:
        """Create `table`, empty, with `fields` (SchemaFields), through the tables API."""
        from google.cloud import bigquery

        trace.job(
            self.kind,
            f"create table {table}",
            trace.Job("create", table, columns=tuple(_column_types(fields).items())),
        )
        self.call(
            self.client.create_table,
            f"creating {table}",
            bigquery.Table(self.table_id(table), schema=list(fields)),
        )

    def _storage_schema(self, table: str, schema: pa.Schema) -> tuple[pa.Schema, list[str]]:
        """The contract's `schema`, except for a JSON column that the dataset's `table`
        already holds as STRING (CONTRACT §7 allows both): that one is loaded as the JSON
        text, a STRING, since BigQuery does not insert JSON into STRING. A JSON column
        the table holds as anything else is an error, before anything is written."""
        if pa.json_() not in schema.types:
            return schema, []
        held = self.column_types(table)
        if held is None:
            return schema, []
        fields, notes = [], []
        for field in schema:
            kind = held.get(field.name)
            if field.type == pa.json_() and kind == "STRING":
                fields.append(pa.field(field.name, pa.string()))
                notes.append(
                    f"{table}.{field.name} is a STRING column in {self.project}.{self.dataset}: "
                    "loaded as JSON text, as it holds it"
                )
            elif field.type == pa.json_() and kind not in (None, "JSON"):
                raise WarehouseError(
                    f"{table}.{field.name} is {kind} in {self.project}.{self.dataset}, and a "
                    f"{field.name} is a JSON object: make the column JSON or STRING, or drop "
                    f"the table, then load again (nothing was changed)"
                )
            else:
                fields.append(field)
        return pa.schema(fields), notes

    def keep_table(self, source: str, target: str) -> None:
        """A copy job: free of query bytes in BigQuery (a table-to-table metadata copy)."""
        from google.cloud import bigquery

        trace.job(
            self.kind,
            f"copy job: {source} -> {target} (write truncate)",
            trace.Job("copy", target, source=source),
        )
        config = bigquery.CopyJobConfig(write_disposition="WRITE_TRUNCATE", labels=JOB_LABELS)
        doing = f"keeping {source} as {target}"
        job = self.call(
            self.client.copy_table,
            doing,
            self.table_id(source),
            self.table_id(target),
            job_config=config,
        )
        self.call(job.result, doing, timeout=self.timeout)

    def drop_quietly(self, table: str) -> None:
        """Best-effort cleanup: one API call, a timeout and no retries, never raising."""
        trace.job(self.kind, f"delete table {table} (if it exists)", trace.Job("delete", table))
        try:
            self.client.delete_table(
                self.table_id(table), not_found_ok=True, timeout=self.timeout or 60, retry=None
            )
        except Exception as e:  # noqa: BLE001 - cleanup only; the first error matters
            log.warning("could not drop %s (%s); the next load replaces it", table, e)

    def _load_staging(
        self, table: str, schema: pa.Schema, batches: Iterable[pa.RecordBatch]
    ) -> None:
        """Stream `batches` into `table` with `schema` (a JSON column of the batches goes
        in as text where the schema says STRING), one load job per chunk of JSON lines."""
        from google.cloud import bigquery

        fields = [bigquery.SchemaField(f.name, *ARROW_TO_BQ[f.type]) for f in schema]
        self._staged_fields[table] = fields
        columns = tuple(_column_types(fields).items())
        target = self.table_id(table)
        disposition = bigquery.WriteDisposition.WRITE_TRUNCATE
        for chunk in _ndjson_chunks(batches, LOAD_CHUNK_BYTES, schema):
            try:
                if not chunk:  # an empty table: create it, an empty upload is no load
                    self.drop_quietly(table)
                    self._create_table(table, fields)
                    continue
                config = bigquery.LoadJobConfig(
                    schema=fields,
                    source_format=bigquery.SourceFormat.NEWLINE_DELIMITED_JSON,
                    write_disposition=disposition,
                    labels=JOB_LABELS,
                )
                trace.job(
                    self.kind,
                    f"load job: {chunk.count(10):,} rows into {table}",
                    trace.Job(
                        "load",
                        table,
                        columns=columns,
                        replace=disposition == bigquery.WriteDisposition.WRITE_TRUNCATE,
                    ),
                )
                self.client.load_table_from_file(
                    io.BytesIO(chunk), target, job_config=config
                ).result(timeout=self.timeout)
            except gexc.GoogleAPICallError as e:
                raise self._error(e, f"loading {table}") from e
            disposition = bigquery.WriteDisposition.WRITE_APPEND

    def _storage_client(self):
        if self._read_client is None:
            from google.cloud import bigquery_storage

            if self.storage_endpoint:
                import grpc
                from google.cloud.bigquery_storage_v1.services.big_query_read.transports import (
                    BigQueryReadGrpcTransport,
                )

                # Arrow pages can exceed gRPC's default 4 MiB limit; Google's own
                # transport lifts it the same way.
                channel = grpc.insecure_channel(
                    self.storage_endpoint,
                    options=[
                        ("grpc.max_receive_message_length", -1),
                        ("grpc.max_send_message_length", -1),
                    ],
                )
                # Fail fast (then fall back to REST) when nothing listens there.
                ready = grpc.channel_ready_future(channel)
                try:
                    ready.result(timeout=STORAGE_CONNECT_SECONDS)
                except grpc.FutureTimeoutError:
                    ready.cancel()  # else its polling thread outlives the process
                    channel.close()
                    raise
                self._channel = channel
                transport = BigQueryReadGrpcTransport(channel=channel)
                self._read_client = bigquery_storage.BigQueryReadClient(transport=transport)
            else:
                self._read_client = bigquery_storage.BigQueryReadClient(
                    credentials=self._credentials
                )
        return self._read_client

    def read_batches(
        self, table: str, columns: Sequence[str] | None = None, batch_rows: int = 50_000
    ) -> Iterator[pa.RecordBatch]:
        """Stream a table: Storage Read API (Arrow over gRPC), else REST paging."""
        ref = self.call(self.client.get_table, f"reading {table}", self.table_id(table))
        names = list(columns) if columns else [f.name for f in ref.schema]
        try:
            stream = self._storage_read(ref, names)
            first = next(stream, None)
            path = "storage"
        except (gexc.GoogleAPICallError, gexc.RetryError, grpc_errors()) as e:
            log.warning(
                "Storage Read API unavailable (%s: %s); falling back to REST paging",
                type(e).__name__,
                e,
            )
            by_name = {f.name: f for f in ref.schema}
            rows = self.client.list_rows(
                ref, selected_fields=[by_name[n] for n in names], page_size=batch_rows
            )
            stream = rows.to_arrow_iterable()
            first = next(stream, None)
            path = "rest"
        self.read_paths[table] = path
        if first is None:
            return
        for batch in _chain(first, stream):
            yield from _rebatch(batch.select(names), batch_rows)

    def _storage_read(self, ref, names: list[str]) -> Iterator[pa.RecordBatch]:
        """The table's rows from the Storage Read API: one read session, one stream,
        Arrow IPC messages decoded by pyarrow (the client library's own page decoding
        is deprecated in favour of pandas-gbq, which this project does not need)."""
        from google.cloud.bigquery_storage_v1 import types

        client = self._storage_client()
        session = client.create_read_session(
            parent=f"projects/{self.project}",
            read_session=types.ReadSession(
                table=f"projects/{ref.project}/datasets/{ref.dataset_id}/tables/{ref.table_id}",
                data_format=types.DataFormat.ARROW,
                read_options=types.ReadSession.TableReadOptions(selected_fields=names),
            ),
            max_stream_count=1,
            timeout=self.timeout,
        )
        if not session.streams:  # an empty table has no stream to read
            return
        schema = pa.ipc.read_schema(pa.py_buffer(session.arrow_schema.serialized_schema))
        for read_stream in session.streams:
            for response in client.read_rows(read_stream.name):
                message = response.arrow_record_batch.serialized_record_batch
                yield pa.ipc.read_record_batch(pa.py_buffer(message), schema)

    def column_types(self, table: str) -> dict[str, str] | None:
        """The type of each column of `table` as the dataset reports it (`STRING`,
        `JSON`, `ARRAY<STRING>`, ...), or None when there is no such table. The one place
        the adapter learns what a table holds: `json_text_columns` (which SQL a build
        sends) and `load` (what it writes into a JSON column) both ask here."""
        if not self.table_exists(table):
            return None
        ref = self.call(self.client.get_table, f"reading {table}", self.table_id(table))
        return _column_types(ref.schema)

    def json_text_columns(self, tables: Mapping[str, Mapping[str, str]]) -> dict[str, list[str]]:
        """JSON columns (by the contract) that this dataset holds as STRING: BigQuery's
        JSON_QUERY returns a STRING for those, so the build parses them first."""
        found: dict[str, list[str]] = {}
        for table, columns in tables.items():
            wanted = [name for name, kind in columns.items() if kind == "JSON"]
            held = self.column_types(table) if wanted else None
            if held is None:
                continue
            strings = [name for name in wanted if held.get(name) == "STRING"]
            if strings:
                found[table] = strings
        return found

    def table_exists(self, table: str) -> bool:
        try:
            self.call(self.client.get_table, f"looking up {table}", self.table_id(table))
        except WarehouseError as e:
            if isinstance(e.__cause__, gexc.NotFound):
                return False
            raise
        return True

    def tables(self) -> list[str]:
        dataset = f"{self.project}.{self.dataset}"
        listed = self.call(
            lambda **kw: list(self.client.list_tables(dataset, **kw)), f"listing {dataset}"
        )
        return sorted(t.table_id for t in listed)

    def close(self) -> None:
        self.client.close()
        if self._channel is not None:
            self._channel.close()


def parameter_type(value: object) -> str:
    """The BigQuery type a bound parameter value is sent as (`_job_config`); the
    GoogleSQL gate of the tests declares parameters with the same types."""
    if isinstance(value, list | tuple):
        return "ARRAY<STRING>"
    if isinstance(value, bool):
        return "BOOL"
    if isinstance(value, int):
        return "INT64"
    return "STRING"


# the tables API's legacy type names -> GoogleSQL's
LEGACY_TYPES = {"INTEGER": "INT64", "FLOAT": "FLOAT64", "BOOLEAN": "BOOL", "RECORD": "STRUCT"}


def _column_types(fields: Iterable[Any]) -> dict[str, str]:
    """SchemaFields -> {name: GoogleSQL type}, a repeated field as `ARRAY<type>`."""
    types = {}
    for f in fields:
        kind = LEGACY_TYPES.get(f.field_type, f.field_type)
        types[f.name] = f"ARRAY<{kind}>" if f.mode == "REPEATED" else kind
    return types


def _ndjson_chunks(
    batches: Iterable[pa.RecordBatch], limit: int, schema: pa.Schema | None = None
) -> Iterator[bytes]:
    """Rows as newline-delimited JSON, in load-job sized chunks (at least one, maybe empty).

    A JSON column's text goes in as the JSON value it holds (a load job reads an object
    into a JSON column), or as that text where `schema` (the table's) says STRING; a
    timestamp as RFC 3339."""
    buffer = bytearray()
    sent = False
    for batch in batches:
        types = schema.types if schema is not None else batch.schema.types
        encoders = [_encoder(kind) for kind in types]
        names = batch.schema.names
        for row in zip(*(col.to_pylist() for col in batch.columns), strict=True):
            record = {
                name: None if value is None else encode(value)
                for name, value, encode in zip(names, row, encoders, strict=True)
            }
            line = json.dumps(record, ensure_ascii=False).encode("utf-8") + b"\n"
            if buffer and len(buffer) + len(line) > limit:
                yield bytes(buffer)
                sent = True
                buffer.clear()
            buffer += line
    if buffer or not sent:
        yield bytes(buffer)


def _encoder(arrow_type: pa.DataType):  # noqa: ANN202 - a value -> JSON-ready value
    if arrow_type == pa.json_():
        return json.loads
    if pa.types.is_timestamp(arrow_type):
        return lambda value: value.isoformat()
    return lambda value: value


def grpc_errors() -> type[Exception]:
    import grpc

    return grpc.FutureTimeoutError


def _chain(first: pa.RecordBatch, rest: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    yield first
    yield from rest


def _rebatch(batch: pa.RecordBatch, size: int) -> Iterator[pa.RecordBatch]:
    for offset in range(0, batch.num_rows, size):
        yield batch.slice(offset, size)


ADAPTER = BigQueryWarehouse
