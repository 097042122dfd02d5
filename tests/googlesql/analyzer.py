"""GoogleSQL's own analyzer, with BigQuery's settings, over a catalog that follows a run.

`Analyzer` asks ZetaSQL's local service (service.py) to analyze each statement with the
language options BigQuery runs with: every language feature, external product mode (no
INT32, UINT64, ... types; the functions BigQuery has), QUALIFY reserved, UTC as the
default time zone, named parameters declared with the types the BigQuery adapter binds
them as (`builder.engine.adapters.bigquery.parameter_type`). A script (the load's transaction)
is analyzed statement by statement, as BigQuery runs it.

`Catalog` holds the tables of one dataset with their exact column types: the canonical
tables a run starts from, then every table a statement or a job of the run creates,
replaces or drops, in order. A CREATE ... AS SELECT's columns are the analyzer's own
types for its SELECT, so a JSON column stays JSON whatever an emulator reports.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from contact_events.builder.core.trace import Job
from contact_events.builder.engine.adapters.bigquery import parameter_type

from .service import LocalService

# BigQuery type names (as written in DDL or by the tables API) -> ZetaSQL TypeKind names
TYPE_KINDS = {
    "STRING": "TYPE_STRING",
    "INT64": "TYPE_INT64",
    "INTEGER": "TYPE_INT64",
    "BOOL": "TYPE_BOOL",
    "BOOLEAN": "TYPE_BOOL",
    "FLOAT64": "TYPE_DOUBLE",
    "FLOAT": "TYPE_DOUBLE",
    "NUMERIC": "TYPE_NUMERIC",
    "BIGNUMERIC": "TYPE_BIGNUMERIC",
    "BYTES": "TYPE_BYTES",
    "DATE": "TYPE_DATE",
    "DATETIME": "TYPE_DATETIME",
    "TIME": "TYPE_TIME",
    "TIMESTAMP": "TYPE_TIMESTAMP",
    "JSON": "TYPE_JSON",
}
# Clustering columns BigQuery accepts (its CREATE TABLE reference), by TypeKind name
CLUSTER_KINDS = frozenset(
    {
        "TYPE_STRING", "TYPE_INT64", "TYPE_BOOL", "TYPE_NUMERIC", "TYPE_BIGNUMERIC",
        "TYPE_DATE", "TYPE_DATETIME", "TYPE_TIMESTAMP", "TYPE_GEOGRAPHY", "TYPE_RANGE",
    }
)  # fmt: skip
PARTITION_KINDS = frozenset({"TYPE_DATE", "TYPE_DATETIME", "TYPE_TIMESTAMP", "TYPE_INT64"})


def describe(name: str | None) -> str:
    """A traced statement's name as the file(s) it comes from."""
    if not name:
        return "a statement of no queries/ file"
    if name.startswith("dry run: "):
        return describe(name.removeprefix("dry run: ")) + " (dry run)"
    template, _, sources = name.partition(" <- ")
    text = _file(template)
    if sources:
        text += " with " + ", ".join(_file(s) for s in sources.split(", "))
    return text


def _file(name: str) -> str:
    return name if name.endswith(".sql") or name.startswith("/") else f"queries/{name}.sql"


@dataclass(frozen=True)
class Result:
    """One analyzed statement: `error` is the analyzer's message, or None when it passed."""

    sql: str
    error: str | None
    resolved: Any = None


class Catalog:
    """The tables of one BigQuery dataset, as `project.dataset.table` and (the default
    dataset) as `table`."""

    def __init__(self, pb: Mapping[str, Any], project: str, dataset: str) -> None:
        self.pb, self.project, self.dataset = pb, project, dataset
        self.tables: dict[str, list[tuple[str, Any]]] = {}

    def type(self, name: str) -> Any:
        """A TypeProto for a BigQuery type name (`ARRAY<STRING>` included)."""
        type_pb2 = self.pb["type"]
        name = name.strip().upper()
        if name.startswith("ARRAY<") and name.endswith(">"):
            element = self.type(name[len("ARRAY<") : -1])
            return type_pb2.TypeProto(
                type_kind=type_pb2.TYPE_ARRAY,
                array_type=type_pb2.ArrayTypeProto(element_type=element),
            )
        return type_pb2.TypeProto(type_kind=type_pb2.TypeKind.Value(TYPE_KINDS[name]))

    def declare(self, table: str, columns: Mapping[str, str]) -> None:
        """`table` with columns of these BigQuery types (replacing any it had)."""
        self.tables[table] = [(column, self.type(kind)) for column, kind in columns.items()]

    def columns(self, table: str) -> dict[str, str]:
        """`table`'s columns -> TypeKind names (`TYPE_JSON`, ...)."""
        type_pb2 = self.pb["type"]
        return {c: type_pb2.TypeKind.Name(t.type_kind) for c, t in self.tables.get(table, [])}

    def learn_job(self, job: Job) -> None:
        """What a load, copy, create or delete job does to the dataset."""
        if job.kind == "delete":
            self.tables.pop(job.table, None)
        elif job.kind == "copy":
            if job.source in self.tables:
                self.tables[job.table] = list(self.tables[job.source])
        elif job.replace or job.table not in self.tables:
            self.declare(job.table, dict(job.columns))

    def learn(self, resolved: Any) -> None:
        """What an analyzed statement does to the dataset: a CREATE TABLE gives its table
        the analyzer's column types (unless IF NOT EXISTS finds one), a DROP removes it."""
        kind = resolved.WhichOneof("node")
        if kind == "resolved_create_statement_node":
            base = _find(resolved, "column_definition_list")
            create = _find(resolved, "create_mode")
            table = create.name_path[-1]
            mode = type(create).DESCRIPTOR.fields_by_name["create_mode"].enum_type
            if mode.values_by_number[create.create_mode].name == "CREATE_IF_NOT_EXISTS" and (
                table in self.tables
            ):
                return
            self.tables[table] = [(c.name, c.type) for c in base.column_definition_list]
        elif kind == "resolved_drop_stmt_node":
            drop = _find(resolved, "name_path")
            self.tables.pop(drop.name_path[-1], None)

    def proto(self) -> Any:
        table_pb2, catalog_pb2 = self.pb["simple_table"], self.pb["simple_catalog"]
        tables = [
            table_pb2.SimpleTableProto(
                name=name,
                serialization_id=i + 1,
                column=[table_pb2.SimpleColumnProto(name=c, type=t) for c, t in columns],
            )
            for i, (name, columns) in enumerate(sorted(self.tables.items()))
        ]
        dataset = catalog_pb2.SimpleCatalogProto(name=self.dataset, table=tables)
        project = catalog_pb2.SimpleCatalogProto(name=self.project, catalog=[dataset])
        return catalog_pb2.SimpleCatalogProto(name="", catalog=[project], table=tables)


def _find(message: Any, field: str) -> Any:
    """The first message under `message` (itself included, depth first) with `field` set."""
    for found in _walk(message):
        if any(f.name == field for f, _ in found.ListFields()):
            return found
    raise LookupError(f"no {field} in {type(message).__name__}")


def _walk(message: Any) -> Iterator[Any]:
    yield message
    for field, value in message.ListFields():
        if field.message_type is None:
            continue
        for item in value if field.is_repeated else [value]:
            if hasattr(item, "ListFields"):
                yield from _walk(item)


class Analyzer:
    """ZetaSQL's analyzer with BigQuery's language options."""

    def __init__(self, service: LocalService) -> None:
        self.service, self.pb = service, service.pb
        ls, options_pb2 = self.pb["local_service"], self.pb["options"]
        language = service.stub.GetLanguageOptions(ls.LanguageOptionsRequest(maximum_features=True))
        language.product_mode = options_pb2.PRODUCT_EXTERNAL
        language.reserved_keywords.append("QUALIFY")
        del language.supported_statement_kinds[:]  # none listed: every kind
        self.language = language
        self.pools = ls.DescriptorPoolListProto(
            definitions=[
                ls.DescriptorPoolListProto.Definition(builtin=ls.DescriptorPoolListProto.Builtin())
            ]
        )

    def catalog(self, project: str, dataset: str) -> Catalog:
        return Catalog(self.pb, project, dataset)

    def options(self, params: Mapping[str, object] | Sequence[object] | None) -> Any:
        options_pb2 = self.pb["options"]
        analyzer_pb2 = self.pb["analyzer_options"]
        declared = []
        if isinstance(params, Mapping):
            for name, value in params.items():
                kind = Catalog.type(self, parameter_type(value))  # type: ignore[arg-type]
                declared.append(analyzer_pb2.AnalyzerOptionsProto.QueryParameterProto(
                    name=name, type=kind
                ))  # fmt: skip
        return analyzer_pb2.AnalyzerOptionsProto(
            language_options=self.language,
            default_timezone="UTC",
            parameter_mode=options_pb2.PARAMETER_NAMED,
            error_message_mode=options_pb2.ERROR_MESSAGE_ONE_LINE,
            query_parameters=declared,
        )

    def analyze(
        self,
        sql: str,
        catalog: Catalog,
        params: Mapping[str, object] | Sequence[object] | None = None,
    ) -> list[Result]:
        """Analyze every statement of `sql` in order, each against the catalog as the
        ones before it left it; stops at the first that fails."""
        import grpc

        ls = self.pb["local_service"]
        resume = self.pb["parse_resume_location"]
        options = self.options(params)
        text = sql.encode("utf-8")
        position, results = 0, []
        while text[position:].strip(b" \t\r\n;"):
            request = ls.AnalyzeRequest(
                options=options,
                simple_catalog=self._with_builtins(catalog.proto()),
                descriptor_pool_list=self.pools,
                parse_resume_location=resume.ParseResumeLocationProto(
                    input=sql, byte_position=position, allow_resume=True
                ),
            )
            try:
                response = self.service.stub.Analyze(request)
            except grpc.RpcError as e:
                results.append(Result(text[position:].decode().strip(), e.details()))
                return results
            end = response.resume_byte_position
            statement = text[position:end].decode().strip().rstrip(";")
            resolved = response.resolved_statement
            catalog.learn(resolved)
            results.append(Result(statement, None, resolved))
            position = end
        return results

    def _with_builtins(self, catalog: Any) -> Any:
        catalog.builtin_function_options.language_options.CopyFrom(self.language)
        return catalog
