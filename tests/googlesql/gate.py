"""The gate over one covered run: every statement analyzed, in the order it was sent,
against a catalog that follows the run (its seed tables, then every table a statement or
a job created, replaced or dropped). A failure names the statement's queries/ file(s)
and the analyzer's message.

Two checks need the analyzer's resolved types and BigQuery's documented storage rules,
which ZetaSQL does not apply: a partitioning expression must be a DATE, DATETIME,
TIMESTAMP or INT64 (range) value, and clustering columns must be of the types BigQuery
clusters by (no JSON, FLOAT64, ARRAY or STRUCT).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .analyzer import CLUSTER_KINDS, PARTITION_KINDS, Analyzer, _find, _walk, describe
from .capture import Run


@dataclass
class GateReport:
    analyzed: int = 0  # statements (a script counts each of its statements)
    failures: list[str] = field(default_factory=list)
    by_file: Counter[str] = field(default_factory=Counter)
    # the functions and operators the statements call, as the analyzer names them
    # (`concat`, `$equal`, ...): docs/googlesql.md must list each (test_gate)
    functions: Counter[str] = field(default_factory=Counter)


def check(run: Run, analyzer: Analyzer) -> GateReport:
    catalog = analyzer.catalog(run.project, run.dataset)
    for table, columns in run.seed.items():
        catalog.declare(table, columns)
    report = GateReport()
    for traced in run.traced:
        if traced.job is not None:
            catalog.learn_job(traced.job)
            continue
        where = describe(traced.name)
        for result in analyzer.analyze(traced.sql, catalog, traced.params):
            report.analyzed += 1
            report.by_file[where] += 1
            if result.error is not None:
                report.failures.append(f"{where}: {result.error}\n    {_head(result.sql)}")
                continue
            for problem in storage_problems(analyzer, result.resolved):
                report.failures.append(f"{where}: {problem}")
            report.functions.update(functions(result.resolved))
    return report


def functions(resolved: Any) -> list[str]:
    """The functions a resolved statement calls (`ZetaSQL:concat` -> `concat`)."""
    return [
        node.function.name.removeprefix("ZetaSQL:")
        for node in _walk(resolved)
        if "function" in node.DESCRIPTOR.fields_by_name and node.HasField("function")
    ]


def storage_problems(analyzer: Analyzer, resolved: Any) -> list[str]:
    """BigQuery's rules for PARTITION BY and CLUSTER BY types, on a resolved CREATE."""
    if resolved.WhichOneof("node") != "resolved_create_statement_node":
        return []
    type_pb2 = analyzer.pb["type"]
    problems = []
    for name in ("partition_by_list", "cluster_by_list"):
        exprs = next(
            (getattr(m, name) for m in _walk(resolved) if name in m.DESCRIPTOR.fields_by_name),
            [],
        )
        allowed = PARTITION_KINDS if name == "partition_by_list" else CLUSTER_KINDS
        if name == "cluster_by_list" and len(exprs) > 4:
            problems.append(f"CLUSTER BY names {len(exprs)} columns; BigQuery takes at most 4")
        for expr in exprs:
            kind = type_pb2.TypeKind.Name(_expr_type(expr).type_kind)
            if kind not in allowed:
                what = "PARTITION BY" if name == "partition_by_list" else "CLUSTER BY"
                problems.append(f"{what} an expression of type {kind.removeprefix('TYPE_')}")
    return problems


def _expr_type(expr: Any) -> Any:
    """The TypeProto of a resolved expression (AnyResolvedExprProto)."""
    return _find(expr, "type").type


def _head(sql: str, width: int = 160) -> str:
    line = " ".join(sql.split())
    return line if len(line) <= width else line[: width - 1] + "…"
