"""BigQuery's documented rules that GoogleSQL's analyzer does not enforce, checked on the
statements and jobs a covered run sent (parsed with sqlglot, in the order sent).

Rules (each finding names its rule, the statement's queries/ file and what to do):

- `order-by-into-table`: no top-level ORDER BY (without LIMIT) in a statement that
  writes a table. Into a partitioned or clustered table BigQuery refuses it ("Result of
  ORDER BY queries cannot be clustered"); into any other it sorts the whole result on one
  worker for nothing (a table has no order) and can run out of memory on a large one.
- `partitions-per-job`: a job may change at most 4,000 partitions. Only monthly or
  yearly time-unit partitioning (TIMESTAMP_TRUNC / DATETIME_TRUNC / DATE_TRUNC with
  MONTH or YEAR), or RANGE_BUCKET over at most 4,000 buckets, stays under it whatever the
  data: BigQuery keeps time-unit partitions for 1960-01-01 to 2159-12-31 only (other
  dates go to __UNPARTITIONED__), so monthly is at most 2,400 partitions and a century
  1,200, where daily passes 4,000 with 11 years of event days.
- `cluster-columns`: CLUSTER BY names at most 4 top-level columns (no expressions).
- `replace-partitioned`: CREATE OR REPLACE TABLE with PARTITION BY or CLUSTER BY fails
  when the table exists partitioned or clustered otherwise ("Cannot replace a table with
  a different partitioning spec"), as a dataset built by an earlier version is: such a
  table is dropped first (DROP TABLE IF EXISTS, then CREATE TABLE).
- `ddl-in-transaction`: no DDL on a permanent table between BEGIN TRANSACTION and COMMIT
  (CREATE/DROP TEMP TABLE excepted), and at most 100 tables modified in one transaction.
- `statement-size`: a query is at most 1,024K characters; the request (query and
  parameter values) at most 10 MB; at most 10,000 query parameters.
- `tables-per-query`: a query references at most 1,000 tables.
- `table-operations`: a build, or a load, writes one table at most 5 times. BigQuery
  allows 5 metadata-changing operations per table in 10 seconds (a build's statements
  follow each other within seconds) and 1,500 per table per day: 5 writes a build leaves
  room for 300 builds a day.

Statements sent as a dry run (`build --dry-run`) change nothing and count for no write.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import sqlglot
from sqlglot import exp

from contact_events.builder.core.trace import Traced

from .analyzer import describe

MAX_PARTITIONS_PER_JOB = 4_000
MAX_QUERY_CHARACTERS = 1_024_000
MAX_REQUEST_BYTES = 10 * 1024 * 1024
MAX_PARAMETERS = 10_000
MAX_TABLES_PER_QUERY = 1_000
MAX_TABLES_PER_TRANSACTION = 100
MAX_WRITES_PER_TABLE = 5
COARSE_UNITS = {"MONTH", "YEAR"}
TRUNCATIONS = (exp.TimestampTrunc, exp.DatetimeTrunc, exp.DateTrunc)


@dataclass(frozen=True)
class Finding:
    rule: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: [{self.rule}] {self.message}"


def lint(traced: Sequence[Traced]) -> list[Finding]:
    """Every rule over the run's statements and jobs, in the order they were sent."""
    state = _State()
    for item in traced:
        state.see(item)
    return state.findings


class _State:
    def __init__(self) -> None:
        self.findings: list[Finding] = []
        self.storage: set[str] = set()  # tables created partitioned or clustered
        self.dropped: set[str] = set()  # tables dropped and not created since
        self.in_transaction = False
        self.transaction_tables: set[str] = set()
        self.writes: Counter[str] = Counter()  # per table, in the current build or load

    def report(self, rule: str, where: str, message: str) -> None:
        self.findings.append(Finding(rule, where, message))

    def see(self, item: Traced) -> None:
        if item.job is not None:
            self.write(item.job.table, f"the {item.job.kind} job of {item.job.table}")
            if item.job.source is not None and item.job.source in self.storage:
                self.storage.add(item.job.table)
            return
        where = describe(item.name)
        dry = bool(item.name and item.name.startswith("dry run: "))
        self.size(item, where)
        for tree in sqlglot.parse(item.sql, read="bigquery"):
            if tree is None:
                continue
            self.statement(tree, where, dry)
        if item.name in ("publish/build_meta",) or (item.name or "").startswith(
            "engine/bigquery/transaction"
        ):
            self.writes.clear()  # a build, or a load, ends here

    def size(self, item: Traced, where: str) -> None:
        if len(item.sql) > MAX_QUERY_CHARACTERS:
            self.report(
                "statement-size",
                where,
                f"{len(item.sql):,} characters; BigQuery takes at most "
                f"{MAX_QUERY_CHARACTERS:,}: split the statement",
            )
        params = item.params if isinstance(item.params, dict) else {}
        if len(params) > MAX_PARAMETERS:
            self.report("statement-size", where, f"{len(params):,} query parameters (max 10,000)")
        request = len(item.sql.encode()) + sum(len(repr(v).encode()) for v in params.values())
        if request > MAX_REQUEST_BYTES:
            self.report("statement-size", where, f"a {request:,}-byte request (max 10 MB)")

    def statement(self, tree: exp.Expression, where: str, dry: bool) -> None:
        if isinstance(tree, exp.Transaction):
            self.in_transaction, self.transaction_tables = True, set()
            return
        if isinstance(tree, exp.Commit | exp.Rollback):
            self.in_transaction = False
            return
        tables = {t.name for t in tree.find_all(exp.Table) if t.name}
        if len(tables) > MAX_TABLES_PER_QUERY:
            self.report("tables-per-query", where, f"{len(tables)} tables (max 1,000)")
        target = _target(tree)
        if isinstance(tree, exp.Create | exp.Drop | exp.Alter):
            self.ddl(tree, where, target)
        if target is None:
            return
        if self.in_transaction:
            self.transaction_tables.add(target)
            if len(self.transaction_tables) > MAX_TABLES_PER_TRANSACTION:
                self.report("ddl-in-transaction", where, "a transaction modifies over 100 tables")
        self.order_by(tree, where, target)
        if not dry:
            self.write(target, where)

    def ddl(self, tree: exp.Expression, where: str, target: str | None) -> None:
        temporary = bool(tree.find(exp.TemporaryProperty)) or bool(tree.args.get("temporary"))
        if self.in_transaction and not temporary:
            self.report(
                "ddl-in-transaction",
                where,
                f"{tree.key.upper()} {target} inside a multi-statement transaction, which "
                "BigQuery refuses: run it before BEGIN TRANSACTION",
            )
        if not isinstance(tree, exp.Create) or target is None:
            if isinstance(tree, exp.Drop) and target is not None:
                self.storage.discard(target)
                self.dropped.add(target)
            return
        partition = tree.find(exp.PartitionedByProperty)
        cluster = tree.find(exp.ClusterProperty)
        if tree.args.get("replace") and (partition or cluster) and target not in self.dropped:
            self.report(
                "replace-partitioned",
                where,
                f"CREATE OR REPLACE TABLE {target} with PARTITION BY or CLUSTER BY fails on a "
                f"{target} partitioned or clustered otherwise: DROP TABLE IF EXISTS first",
            )
        self.dropped.discard(target)
        if partition is not None or cluster is not None:
            self.storage.add(target)
        elif tree.args.get("replace"):
            self.storage.discard(target)
        if partition is not None:
            self.partitioning(partition.this, where)
        if cluster is not None:
            columns = cluster.expressions
            if len(columns) > 4 or not all(_plain_column(c) for c in columns):
                self.report(
                    "cluster-columns",
                    where,
                    f"CLUSTER BY {', '.join(c.sql('bigquery') for c in columns)}: BigQuery "
                    "clusters by at most 4 top-level columns, named",
                )

    def partitioning(self, expression: exp.Expression, where: str) -> None:
        if isinstance(expression, TRUNCATIONS):
            unit = expression.args.get("unit")
            if unit is not None and unit.name.upper() in COARSE_UNITS:
                return
        if isinstance(expression, exp.RangeBucket):
            buckets = _range_buckets(expression)
            if buckets is not None and buckets <= MAX_PARTITIONS_PER_JOB:
                return
        self.report(
            "partitions-per-job",
            where,
            f"PARTITION BY {expression.sql('bigquery')} can give one job over "
            f"{MAX_PARTITIONS_PER_JOB:,} partitions (daily: 11 years of event days), which "
            "BigQuery refuses; partition by TIMESTAMP_TRUNC(column, MONTH)",
        )

    def order_by(self, tree: exp.Expression, where: str, target: str) -> None:
        query = tree.expression if isinstance(tree, exp.Create | exp.Insert) else None
        if not isinstance(query, exp.Query):
            return
        if query.args.get("order") is None or query.args.get("limit") is not None:
            return
        partitioned = target in self.storage or (
            isinstance(tree, exp.Create)
            and (tree.find(exp.PartitionedByProperty) or tree.find(exp.ClusterProperty))
        )
        why = (
            "BigQuery refuses to write an ORDER BY result into a partitioned or clustered table"
            if partitioned
            else "a BigQuery table has no order: the ORDER BY sorts the whole result on one "
            "worker for nothing"
        )
        self.report("order-by-into-table", where, f"ORDER BY writing {target}: {why}")

    def write(self, table: str, where: str) -> None:
        self.writes[table] += 1
        if self.writes[table] == MAX_WRITES_PER_TABLE + 1:
            self.report(
                "table-operations",
                where,
                f"writes {table} a {MAX_WRITES_PER_TABLE + 1}th time in one build or load; "
                "BigQuery allows 5 table updates in 10 seconds and 1,500 a day",
            )


def _target(tree: exp.Expression) -> str | None:
    """The table a statement writes (creates, drops, inserts into, updates, merges into)."""
    if isinstance(tree, exp.Create | exp.Drop) and tree.args.get("kind", "").upper() != "TABLE":
        return None
    if isinstance(tree, exp.Create | exp.Drop | exp.Insert | exp.Update | exp.Delete | exp.Merge):
        table = tree.this
        if isinstance(table, exp.Schema):
            table = table.this
        if isinstance(table, exp.Table):
            return table.name
    return None


def _plain_column(expression: exp.Expression) -> bool:
    return isinstance(expression, exp.Column | exp.Identifier) and not (
        isinstance(expression, exp.Column) and expression.table
    )


def _range_buckets(expression: exp.RangeBucket) -> int | None:
    """How many partitions RANGE_BUCKET(x, GENERATE_ARRAY(start, end, step)) makes."""
    array = expression.expression
    if not isinstance(array, exp.GenerateSeries):
        return None
    try:
        start, end = int(array.args["start"].name), int(array.args["end"].name)
        step = int(array.args["step"].name) if array.args.get("step") else 1
    except (KeyError, ValueError, AttributeError):
        return None
    return max(0, (end - start) // step + 1)
