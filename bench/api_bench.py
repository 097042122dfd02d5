"""Benchmark: the read API next to Datasette and next to the SQL itself, in alternated
rounds on a quiet machine.

    python -m bench.api_bench [--mirror PATH] [--rounds 3] [--duration 10] [--max-load 0.5]

Uses the 1M-event mirror left by `python -m bench.sync_bench --events 1000000` (needs
`wrk`, a Debian package, and the bench extra for Datasette). Starts, on 127.0.0.1:

- `contact-events serve` (one worker, its access log on, as deployed),
- `datasette serve -i` with each whole answer as one canned statement (channel-summary's
  SQL file; for needs-form and gone-quiet, whose API SQL is an order plus the items of a
  page, the one-statement form in bench/datasette/), NULL filters written as NULL,
  `max_returned_rows` raised so one request returns everything; for the timeline the
  plain `SELECT * ... LIMIT 50` of earlier runs.

Each round first waits until the 1-minute load average is below --max-load (the machine
is shared; waiting gives up after --wait seconds and the round is marked as measured under
load), prints the load, reads the file back into the page cache (untimed: the machine
reclaims cold pages while it waits), then measures, alternating which server goes first:

- whole answers: needs-form?days=14, gone-quiet?days=30, channel-summary, every page
  (limit=1000, following next_cursor) from contact-events; the route's own SQL run once
  over the whole answer in this process, on a connection opened as the API opens its
  own (the "single query": the answer, or its order and then the items of all its rows);
  the one-statement form too, for reference; and Datasette answering that statement in
  one request. Each round asks at its own as_of, so no round reuses an answer kept by an
  earlier one.
- a first page of 100 alone from contact-events (another as_of: nothing kept), for
  clients that read one page;
- the timeline of random contacts under wrk at 16 connections, each server in turn, and
  contact-events at 1 connection (p99).

With `--baseline PATH` another build's `serve` is started too, on the same mirror with the
same settings: PATH is another install's `contact-events` executable (a venv made from
another checkout), or the source tree of a release from before the `contact_events`
package (its `builder.cli` run with the tree on PYTHONPATH, e.g. `git archive c8aac32 |
tar -x -C DIR`). Its timeline is measured in every round beside this one's (order
alternating): the
ratios this / baseline (requests per second, and each server's CPU time per request,
which a loaded machine disturbs far less) say what a change costs the timeline.

Prints each round and, at the end, the medians and the median ratios. Servers are
stopped by pid.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import orjson

from contact_events.builder.core.queries import read_query
from contact_events.builder.mirror.store import connect_read_only

DEFAULT_MIRROR = Path(__file__).parent / "out" / "sync-1000000" / "m.db"
TOKEN = "bench-token-0123456789abcdef0123456789abcdef"
AS_OF = "2026-11-30T00:00:00.{round:06d}Z"
DATASETTE_SQL = Path(__file__).parent / "datasette"
# route -> (its canned SQL: the answer or its order; the items SQL of an order, if any;
# the whole answer as one statement; the route's parameters, None = NULL)
WHOLE = {
    "needs-form": (
        "needs_form",
        "needs_form_items",
        (DATASETTE_SQL / "needs_form.sql").read_text(),
        {"days": 14, "measure": None, "lifecycle_stage": None},
    ),
    "gone-quiet": (
        "gone_quiet",
        "gone_quiet_items",
        (DATASETTE_SQL / "gone_quiet.sql").read_text(),
        {"days": 30, "lifecycle_stage": None, "event_type": None},
    ),
    "channel-summary": (
        "channel_summary",
        None,
        read_query("api/channel_summary"),
        {"lifecycle_stage": None},
    ),
}
# Datasette's timeline: the plain query of earlier runs (and of ../shared/MEASURED.md).
TIMELINE_SQL = (
    "SELECT * FROM contact_events WHERE contact_id = :contact_id "
    "ORDER BY event_timestamp DESC, source_system, source_record_id LIMIT 50"
)
ZERO_COUNTS = json.dumps(dict.fromkeys(["form", "session", "email", "message", "system"], 0))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(port: int, path: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            con = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            con.request("GET", path)
            if con.getresponse().status < 500:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"server on port {port} did not come up")


class Server:
    def __init__(self, argv: list[str], env: dict[str, str], port: int, ready: str) -> None:
        self.proc = subprocess.Popen(
            argv,
            env={**os.environ, **env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.port = port
        wait_ready(port, ready)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def wait_quiet(max_load: float, wait: float) -> tuple[float, bool]:
    """Block until the 1-minute load average is below max_load (or `wait` passes)."""
    deadline = time.monotonic() + wait
    while True:
        load = os.getloadavg()[0]
        if load < max_load:
            return load, True
        if time.monotonic() > deadline:
            return load, False
        print(f"  waiting for a quiet machine: load average {load:.2f}", flush=True)
        time.sleep(10)


# -- whole answers ---------------------------------------------------------------------


def walk_pages(port: int, route: str, params: dict[str, object]) -> tuple[float, int, int]:
    """(seconds, rows, pages) reading every page of an answer, one keep-alive connection."""
    con = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    started = time.perf_counter()
    rows = pages = 0
    cursor = None
    while True:
        query = {k: v for k, v in params.items() if v is not None}
        query["limit"] = 1000
        if cursor:
            query["cursor"] = cursor
        con.request("GET", f"/contacts/{route}?{urlencode(query)}", headers=headers)
        response = con.getresponse()
        body = response.read()
        if response.status != 200:
            raise SystemExit(f"{route}: {response.status} {body[:200]!r}")
        page = orjson.loads(body)
        rows += len(page["items"])
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            con.close()
            return time.perf_counter() - started, rows, pages


def first_page(port: int, route: str, params: dict[str, object]) -> float:
    """Seconds for one first page of 100 (a client that reads one page only)."""
    con = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    query = {k: v for k, v in params.items() if v is not None}
    started = time.perf_counter()
    con.request(
        "GET",
        f"/contacts/{route}?{urlencode({**query, 'limit': 100})}",
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    response = con.getresponse()
    response.read()
    elapsed = time.perf_counter() - started
    con.close()
    if response.status != 200:
        raise SystemExit(f"{route}: {response.status}")
    return elapsed


def sql_binds(sql: str, params: dict[str, object], as_of: str) -> dict[str, object]:
    from contact_events.app.core.timestamps import cutoff, parse_request_timestamp, to_mirror

    moment = parse_request_timestamp(as_of)
    binds: dict[str, object] = {
        **params,
        "as_of": to_mirror(moment),
        "zero_counts": ZERO_COUNTS,
        "after_at": None,
        "after_id": None,
        "limit": -1,
    }
    if "days" in params:
        binds["cutoff"] = cutoff(moment, int(params["days"]))  # type: ignore[arg-type]
    return binds


def single_query(
    mirror: Path, sql: str, items: str | None, binds: dict[str, object]
) -> tuple[float, int]:
    """(seconds, rows): the route's SQL once over the whole answer -- the answer, or its
    order and then the items of all its rows -- on a connection opened as the API's."""
    con = connect_read_only(mirror)
    try:
        started = time.perf_counter()
        rows = con.execute(read_query(f"api/{sql}"), binds).fetchall()
        if items is not None:
            rows = con.execute(
                read_query(f"api/{items}"), {**binds, "rows": orjson.dumps(rows).decode()}
            ).fetchall()
        return time.perf_counter() - started, len(rows)
    finally:
        con.close()


def one_statement(mirror: Path, text: str, binds: dict[str, object]) -> tuple[float, int]:
    """(seconds, rows): the whole answer as one statement (what Datasette is given)."""
    con = connect_read_only(mirror)
    try:
        started = time.perf_counter()
        rows = con.execute(text, binds).fetchall()
        return time.perf_counter() - started, len(rows)
    finally:
        con.close()


def datasette_sql(sql: str, binds: dict[str, object]) -> str:
    """The one statement for Datasette: NULL filters written as NULL (Datasette binds every
    named parameter it is given as text, and a missing one as '')."""
    text = "\n".join(line.split("--", 1)[0] for line in sql.splitlines())
    for name, value in binds.items():
        if value is None:
            text = re.sub(rf":{name}\b", "NULL", text)
    return text


def datasette_whole(port: int, db: str, query: str, binds: dict[str, object]) -> tuple[float, int]:
    """(seconds, rows): Datasette answering the canned SQL in one request."""
    con = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    args = {k: v for k, v in binds.items() if v is not None}
    started = time.perf_counter()
    con.request("GET", f"/{db}/{query}.json?_shape=array&{urlencode(args)}")
    response = con.getresponse()
    body = response.read()
    elapsed = time.perf_counter() - started
    con.close()
    if response.status != 200:
        raise SystemExit(f"datasette {query}: {response.status} {body[:300]!r}")
    return elapsed, len(orjson.loads(body))


# -- timeline under wrk ----------------------------------------------------------------


def lua_script(path_template: str, ids: list[str], headers: dict[str, str]) -> str:
    id_list = ",".join(json.dumps(i) for i in ids)
    header_list = ",".join(f"[{json.dumps(k)}]={json.dumps(v)}" for k, v in headers.items())
    return f"""
ids = {{{id_list}}}
hdrs = {{{header_list}}}
math.randomseed(7)
request = function()
  local id = ids[math.random(#ids)]
  local path = string.gsub("{path_template}", "{{id}}", id)
  return wrk.format("GET", path, hdrs)
end
"""


def parse_wrk(out: str) -> dict[str, float]:
    def ms(value: str) -> float:
        number, unit = re.match(r"([\d.]+)(\w+)", value).groups()  # type: ignore[union-attr]
        return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    p50 = ms(re.search(r"\s50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    p99 = ms(re.search(r"\s99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {
        "rps": rps,
        "p50": p50,
        "p99": p99,
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
        "requests": requests,
    }


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_wrk(
    port: int,
    template: str,
    ids: list[str],
    headers,
    conns: int,
    duration: int,
    pid: int | None = None,
):
    """wrk's numbers; with the server's `pid`, also its CPU time per request (`cpu_us`):
    on a shared, loaded machine throughput swings with the neighbours, the CPU a server
    spends on each request much less."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(lua_script(template, ids, headers))
        script = fh.name
    cpu_before = cpu_seconds(pid) if pid is not None else 0.0
    try:
        out = subprocess.run(
            [
                "wrk",
                f"-t{min(2, conns)}",
                f"-c{conns}",
                f"-d{duration}s",
                "--latency",
                "-s",
                script,
                f"http://127.0.0.1:{port}",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(script)
    found = parse_wrk(out)
    if pid is not None:
        found["cpu_us"] = (cpu_seconds(pid) - cpu_before) * 1e6 / max(found["requests"], 1)
    return found


def random_contacts(mirror: Path, n: int = 2000) -> list[str]:
    con = sqlite3.connect(f"file:{mirror}?mode=ro", uri=True)
    ids = [
        r[0] for r in con.execute("SELECT contact_id FROM contacts ORDER BY random() LIMIT ?", (n,))
    ]
    con.close()
    return ids


# -- the run ---------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mirror", type=Path, default=DEFAULT_MIRROR)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--max-load", type=float, default=0.5)
    parser.add_argument("--wait", type=float, default=900, help="seconds to wait for quiet")
    parser.add_argument("--skip-whole", action="store_true")
    parser.add_argument("--skip-timeline", action="store_true")
    parser.add_argument(
        "--baseline",
        type=Path,
        help="another install's contact-events, or an older source tree, to measure alongside",
    )
    args = parser.parse_args()
    if not args.mirror.exists():
        raise SystemExit(f"no mirror at {args.mirror}: run `python -m bench.sync_bench` first")
    bin_dir = Path(sys.executable).parent
    ids = random_contacts(args.mirror)
    db = args.mirror.stem

    ours_port = free_port()
    ours_server = Server(
        [str(bin_dir / "contact-events"), "serve", "--port", str(ours_port)],
        {
            "CONTACT_EVENTS_MIRROR_PATH": str(args.mirror),
            "CONTACT_EVENTS_API_TOKENS": TOKEN,
            "CONTACT_EVENTS_QUERY_TIME_LIMIT_MS": "60000",
        },
        ours_port,
        "/health",
    )
    baseline = None
    if args.baseline is not None:
        base_port = free_port()
        if args.baseline.is_file():  # another install's executable
            argv, where = [str(args.baseline.resolve())], {}
        else:  # a source tree from before the package: its modules on the path
            argv = [sys.executable, "-m", "builder.cli"]
            where = {"PYTHONPATH": str(args.baseline.resolve())}
        baseline = Server(
            [*argv, "serve", "--port", str(base_port)],
            {
                **where,
                "CONTACT_EVENTS_MIRROR_PATH": str(args.mirror),
                "CONTACT_EVENTS_API_TOKENS": TOKEN,
                "CONTACT_EVENTS_QUERY_TIME_LIMIT_MS": "60000",
            },
            base_port,
            "/health",
        )
    tmp = tempfile.TemporaryDirectory()
    queries = {
        route: datasette_sql(statement, sql_binds(sql, params, AS_OF.format(round=0)))
        for route, (sql, _items, statement, params) in WHOLE.items()
    }
    queries["timeline"] = TIMELINE_SQL
    meta = Path(tmp.name) / "metadata.json"
    meta.write_text(json.dumps({"databases": {db: {"queries": queries}}}))
    ds_port = free_port()
    datasette = Server(
        [
            str(bin_dir / "datasette"),
            "serve",
            "-i",
            str(args.mirror),
            "--metadata",
            str(meta),
            "--host",
            "127.0.0.1",
            "--port",
            str(ds_port),
            "--setting",
            "max_returned_rows",
            "100000",
            "--setting",
            "sql_time_limit_ms",
            "120000",
        ],
        {},
        ds_port,
        "/-/versions.json",
    )
    results: list[dict] = []
    auth = {"Authorization": f"Bearer {TOKEN}"}
    ds_timeline = f"/{db}/timeline.json?_shape=array&contact_id={{id}}"
    try:
        # Warm-up, not measured: every server and the single query read the file once, so
        # no one pays for a cold page cache in round 1.
        print("warm-up (not measured)", flush=True)
        warm_as_of = AS_OF.format(round=0)
        for route, (sql, items, _statement, params) in () if args.skip_whole else WHOLE.items():
            binds = sql_binds(sql, params, warm_as_of)
            walk_pages(ours_port, route, {**params, "as_of": warm_as_of})
            single_query(args.mirror, sql, items, binds)
            datasette_whole(ds_port, db, route, binds)
        if not args.skip_timeline:
            run_wrk(ours_port, "/contacts/{id}/timeline?limit=50", ids, auth, 16, 3)
            run_wrk(ds_port, ds_timeline, ids, {}, 16, 3)
            if baseline is not None:
                run_wrk(baseline.port, "/contacts/{id}/timeline?limit=50", ids, auth, 16, 3)
        for r in range(1, args.rounds + 1):
            load, quiet = wait_quiet(args.max_load, args.wait)
            row: dict = {"round": r, "load_before": round(load, 2), "quiet": quiet, "whole": {}}
            print(f"round {r}: load average {load:.2f}{'' if quiet else ' (NOT QUIET)'}")
            flip = r % 2 == 0  # alternate who goes first
            as_of = AS_OF.format(round=r)
            if not args.skip_whole:
                # Untimed: read the file back into the page cache. This machine reclaims
                # cold pages (DAMON) while the round waits for quiet, and whoever ran
                # first would pay for the reads (seconds for gone-quiet's table lookups).
                for sql, items, _statement, params in WHOLE.values():
                    single_query(args.mirror, sql, items, sql_binds(sql, params, as_of))
                for route, (sql, items, statement, params) in WHOLE.items():
                    binds = sql_binds(sql, params, as_of)
                    got: dict = {}
                    steps = ["contact-events", "single query", "one statement", "datasette"]
                    for step in reversed(steps) if flip else steps:
                        if step == "contact-events":
                            got["pages_s"], got["rows"], got["pages"] = walk_pages(
                                ours_port, route, {**params, "as_of": as_of}
                            )
                        elif step == "single query":
                            got["single_s"], got["single_rows"] = single_query(
                                args.mirror, sql, items, binds
                            )
                        elif step == "one statement":
                            got["statement_s"], got["statement_rows"] = one_statement(
                                args.mirror, statement, binds
                            )
                        else:
                            got["datasette_s"], got["datasette_rows"] = datasette_whole(
                                ds_port, db, route, binds
                            )
                    got["first_page_s"] = first_page(
                        ours_port, route, {**params, "as_of": AS_OF.format(round=100 + r)}
                    )
                    row["whole"][route] = got
                    print(
                        f"  {route:16} every page {got['pages_s']:.3f} s ({got['rows']} rows,"
                        f" {got['pages']} pages) | single query {got['single_s']:.3f} s"
                        f" (one statement {got['statement_s']:.3f} s)"
                        f" | datasette {got['datasette_s']:.3f} s"
                        f" | pages/single {got['pages_s'] / got['single_s']:.2f}"
                        f" | a first page of 100 alone {got['first_page_s']:.3f} s",
                        flush=True,
                    )
            if not args.skip_timeline:
                auth = {"Authorization": f"Bearer {TOKEN}"}
                ours_path = "/contacts/{id}/timeline?limit=50"
                runs = [
                    ("contact-events", ours_port, ours_path, auth, ours_server.proc.pid),
                    (
                        "datasette",
                        ds_port,
                        f"/{db}/timeline.json?_shape=array&contact_id={{id}}",
                        {},
                        None,
                    ),
                ]
                if baseline is not None:
                    runs.insert(1, ("baseline", baseline.port, ours_path, auth, baseline.proc.pid))
                timeline: dict = {}
                for name, port, template, headers, pid in reversed(runs) if flip else runs:
                    timeline[name] = run_wrk(
                        port, template, ids, headers, 16, args.duration, pid=pid
                    )
                timeline["contact-events, 1 conn"] = run_wrk(
                    ours_port, ours_path, ids, auth, 1, args.duration
                )
                row["timeline"] = timeline
                ours, theirs, one = (
                    timeline["contact-events"],
                    timeline["datasette"],
                    timeline["contact-events, 1 conn"],
                )
                print(
                    f"  timeline 16 conns: contact-events {ours['rps']:,.0f} req/s"
                    f" (p99 {ours['p99']:.2f} ms, non-2xx {ours['non2xx']})"
                    f" | datasette {theirs['rps']:,.0f} req/s (p99 {theirs['p99']:.2f} ms)"
                    f" | ratio {ours['rps'] / theirs['rps']:.2f}"
                    f" | 1 conn: {one['rps']:,.0f} req/s, p50 {one['p50']:.2f} ms,"
                    f" p99 {one['p99']:.2f} ms",
                    flush=True,
                )
                if baseline is not None:
                    base = timeline["baseline"]
                    print(
                        f"  timeline 16 conns: baseline {base['rps']:,.0f} req/s"
                        f" (p99 {base['p99']:.2f} ms, non-2xx {base['non2xx']})"
                        f" | this / baseline {ours['rps'] / base['rps']:.3f}"
                        f" | CPU per request: this {ours['cpu_us']:.0f} us,"
                        f" baseline {base['cpu_us']:.0f} us,"
                        f" this / baseline {ours['cpu_us'] / base['cpu_us']:.3f}",
                        flush=True,
                    )
            row["load_after"] = round(os.getloadavg()[0], 2)
            results.append(row)
    finally:
        ours_server.stop()
        datasette.stop()
        if baseline is not None:
            baseline.stop()
        tmp.cleanup()

    print(f"\nmedians over {len(results)} rounds:")
    med = statistics.median
    if not args.skip_whole:
        for route in WHOLE:
            runs_of = [r["whole"][route] for r in results]
            print(
                f"  {route:16} every page {med(g['pages_s'] for g in runs_of):.3f} s"
                f" | single query {med(g['single_s'] for g in runs_of):.3f} s"
                f" (one statement {med(g['statement_s'] for g in runs_of):.3f} s)"
                f" | datasette {med(g['datasette_s'] for g in runs_of):.3f} s"
                f" | median ratio pages/single"
                f" {med(g['pages_s'] / g['single_s'] for g in runs_of):.2f}"
                f" | median ratio pages/datasette"
                f" {med(g['pages_s'] / g['datasette_s'] for g in runs_of):.2f}"
                f" | a first page of 100 alone {med(g['first_page_s'] for g in runs_of):.3f} s"
            )
    if not args.skip_timeline:
        ratio = med(
            r["timeline"]["contact-events"]["rps"] / r["timeline"]["datasette"]["rps"]
            for r in results
        )
        p99 = med(r["timeline"]["contact-events, 1 conn"]["p99"] for r in results)
        print(f"  timeline, 16 conns: median ratio contact-events / datasette {ratio:.2f}")
        if baseline is not None:
            versus = med(
                r["timeline"]["contact-events"]["rps"] / r["timeline"]["baseline"]["rps"]
                for r in results
            )
            cpu = med(
                r["timeline"]["contact-events"]["cpu_us"] / r["timeline"]["baseline"]["cpu_us"]
                for r in results
            )
            print(f"  timeline, 16 conns: median ratio this / baseline {versus:.3f} (req/s)")
            print(f"  timeline, 16 conns: median ratio this / baseline {cpu:.3f} (CPU per request)")
        print(f"  timeline, 1 conn: median p99 {p99:.2f} ms")
    print(json.dumps(results))


if __name__ == "__main__":
    # `kill <pid>` of the bench stops its servers too (the `finally` runs).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    main()
