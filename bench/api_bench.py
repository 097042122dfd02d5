"""Benchmark: the read API under load, next to Datasette serving the same query.

    python -m bench.api_bench [--mirror PATH] [--duration 10]

Needs `wrk` (Debian package) and the bench extra (`pip install -e '.[bench]'` for
Datasette). Uses the 1M-event mirror left by `python -m bench.sync_bench` (or builds one).
Starts each server on 127.0.0.1 on a free port, drives it with wrk at fixed concurrency
for a fixed duration, stops it by pid, and prints req/s, p50 and p99.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

DEFAULT_MIRROR = Path(__file__).parent / "out" / "sync-1000000" / "m.db"
TOKEN = "bench-token-" + "0" * 32  # tokens need 32+ characters
TIMELINE_SQL = (
    "SELECT * FROM contact_events WHERE contact_id = :contact_id "
    "ORDER BY event_timestamp DESC, source_system, source_record_id LIMIT 50"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit(f"server at {url} did not come up")


def contact_sets(mirror: Path) -> tuple[list[str], list[str]]:
    con = sqlite3.connect(f"file:{mirror}?mode=ro", uri=True)
    random_ids = [
        r[0] for r in con.execute("SELECT contact_id FROM contacts ORDER BY random() LIMIT 2000")
    ]
    busiest = [
        r[0]
        for r in con.execute(
            "SELECT contact_id FROM contact_events WHERE contact_id IS NOT NULL "
            "GROUP BY contact_id ORDER BY count(*) DESC LIMIT 100"
        )
    ]
    con.close()
    return random_ids, busiest


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
    p50 = ms(re.search(r"\s50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    p99 = ms(re.search(r"\s99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = int(non2xx.group(1)) if non2xx else 0
    return {"req_per_s": rps, "p50_ms": p50, "p99_ms": p99, "non_2xx": errors}


def run_wrk(base: str, path_template: str, ids: list[str], headers, conns: int, duration: int):
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(lua_script(path_template, ids, headers))
        script = fh.name
    try:
        threads = min(2, conns)
        out = subprocess.run(
            [
                "wrk",
                f"-t{threads}",
                f"-c{conns}",
                f"-d{duration}s",
                "--latency",
                "-s",
                script,
                base,
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(script)
    return parse_wrk(out)


class Server:
    def __init__(self, argv: list[str], env: dict[str, str], ready_url: str):
        self.proc = subprocess.Popen(
            argv, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_ready(ready_url)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mirror", type=Path, default=DEFAULT_MIRROR)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument(
        "--workers", type=int, default=1, help="Also run the 16-connection timelines on N workers."
    )
    args = parser.parse_args()
    if not args.mirror.exists():
        raise SystemExit(f"no mirror at {args.mirror}: run `python -m bench.sync_bench` first")
    random_ids, busiest = contact_sets(args.mirror)
    bin_dir = Path(sys.executable).parent
    results = []
    auth = {"Authorization": f"Bearer {TOKEN}"}

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    api = Server(
        [
            str(bin_dir / "uvicorn"),
            "app.main:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        {"CONTACT_EVENTS_MIRROR_PATH": str(args.mirror), "CONTACT_EVENTS_API_TOKENS": TOKEN},
        f"{base}/health",
    )
    try:
        timeline = "/contacts/{id}/timeline?limit=50"
        for label, ids in (("random contacts", random_ids), ("busiest contacts", busiest)):
            for conns in (1, 16):
                r = run_wrk(base, timeline, ids, auth, conns, args.duration)
                results.append(
                    {"server": "contact-events", "route": f"timeline, {label}", "conns": conns, **r}
                )
        r = run_wrk(base, "/contacts/needs-form?days=14&limit=1000", ["1"], auth, 1, args.duration)
        results.append(
            {"server": "contact-events", "route": "needs-form, all contacts", "conns": 1, **r}
        )
    finally:
        api.stop()

    # `contact-events serve` with 1 and with N worker processes (its access log on, as
    # deployed), the 16-connection timelines only: the ratio is what N workers buy.
    for workers in (1, args.workers) if args.workers > 1 else ():
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        argv = [str(bin_dir / "contact-events"), "serve", "--port", str(port)]
        api = Server(
            [*argv, "--workers", str(workers)],
            {"CONTACT_EVENTS_MIRROR_PATH": str(args.mirror), "CONTACT_EVENTS_API_TOKENS": TOKEN},
            f"{base}/health",
        )
        try:
            for label, ids in (("random contacts", random_ids), ("busiest contacts", busiest)):
                r = run_wrk(base, "/contacts/{id}/timeline?limit=50", ids, auth, 16, args.duration)
                results.append(
                    {
                        "server": f"contact-events serve --workers {workers}",
                        "route": f"timeline, {label}",
                        "conns": 16,
                        **r,
                    }
                )
        finally:
            api.stop()

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        meta = Path(tmp) / "metadata.json"
        db_name = args.mirror.stem
        meta.write_text(
            json.dumps({"databases": {db_name: {"queries": {"timeline": TIMELINE_SQL}}}})
        )
        ds = Server(
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
                str(port),
            ],
            {},
            f"{base}/-/versions.json",
        )
        try:
            path = f"/{db_name}/timeline.json?contact_id={{id}}&_shape=array"
            for label, ids in (("random contacts", random_ids), ("busiest contacts", busiest)):
                for conns in (1, 16):
                    r = run_wrk(base, path, ids, {}, conns, args.duration)
                    results.append(
                        {
                            "server": "datasette -i",
                            "route": f"timeline, {label}",
                            "conns": conns,
                            **r,
                        }
                    )
        finally:
            ds.stop()

    table = Table(title=f"API under wrk, {args.duration}s each, 127.0.0.1")
    for col in ("server", "route", "conns", "req/s", "p50 ms", "p99 ms", "non-2xx"):
        table.add_column(col, justify="right" if col not in ("server", "route") else "left")
    for r in results:
        table.add_row(
            r["server"],
            r["route"],
            str(r["conns"]),
            f"{r['req_per_s']:,.0f}",
            f"{r['p50_ms']:.2f}",
            f"{r['p99_ms']:.2f}",
            str(r["non_2xx"]),
        )
    console = Console()
    console.print(table)
    for label in ("random contacts", "busiest contacts"):
        ours = next(
            r
            for r in results
            if r["server"] == "contact-events" and label in r["route"] and r["conns"] == 16
        )
        theirs = next(
            r
            for r in results
            if r["server"] == "datasette -i" and label in r["route"] and r["conns"] == 16
        )
        console.print(
            f"timeline, {label}, 16 conns: {ours['req_per_s'] / theirs['req_per_s']:.2f}x Datasette"
        )
    console.print_json(json.dumps(results))


if __name__ == "__main__":
    main()
