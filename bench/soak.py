"""Soak: the API over hours in minutes -- bursts of readers, idle gaps, a rebuild every
minute -- recording what would grow if something leaked.

    python -m bench.soak [--minutes 30] [--events 20000] [--contacts 1000]

Builds a demo practice (DuckDB warehouse + mirror) in a temporary folder, starts
`contact-events serve` on 127.0.0.1 (one worker, access log on), then repeats: a burst of
40 concurrent readers for 10 s (every data route, cursors followed), 12 s idle (long
enough for the thread pool to retire its idle threads, as in the leak this guards
against), and every minute a `POST /rebuild` (build + sync: a new mirror file swapped in).
After each cycle it samples the server process: open file descriptors, those naming a
deleted mirror file, RSS, and the p99 of the cycle's requests. Prints one line per cycle
and a summary (first, last, max); stops the server by pid.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from contact_events.builder.core.config import Settings
from contact_events.builder.demo.flat import PRACTICE_EMAILS, DemoSize, write_demo_data
from contact_events.builder.engine import open_warehouse
from contact_events.builder.pipeline import rebuild
from contact_events.builder.stages.load import load_directory

READ = "soak-read-token-0123456789abcdef0123456789"
ADMIN = "soak-admin-token-0123456789abcdef0123456789"
URLS = [
    "/contacts/needs-form?days=14&limit=200",
    "/contacts/gone-quiet?days=30&limit=200",
    "/contacts/channel-summary?limit=500",
    "/events?limit=100",
    "/events?event_type=email&limit=100",
    "/status",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sample(pid: int, mirror: Path) -> dict[str, float]:
    fds = deleted = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        fds += 1
        if mirror.name in target and target.endswith("(deleted)"):
            deleted += 1
    rss = 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) / 1024
    return {"fds": fds, "deleted": deleted, "rss_mib": round(rss, 1)}


def reader(base: str, contacts: list[str], stop: float, latencies: list[float]) -> int:
    """Requests until `stop`: every route, cursors followed; returns the non-2xx count."""
    errors = 0
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {READ}"}) as http:
        i = 0
        while time.monotonic() < stop:
            url = (
                URLS[i % len(URLS)]
                if i % 3
                else f"/contacts/{contacts[i % len(contacts)]}/timeline"
            )
            i += 1
            started = time.perf_counter()
            response = http.get(url)
            latencies.append(time.perf_counter() - started)
            if response.status_code != 200:
                errors += 1
                continue
            cursor = response.json().get("next_cursor") if url.startswith("/contacts/n") else None
            if cursor:
                http.get(url + f"&cursor={cursor}")
    return errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--contacts", type=int, default=1_000)
    parser.add_argument("--burst", type=float, default=10.0, help="seconds of readers")
    parser.add_argument("--idle", type=float, default=12.0, help="seconds of idle after")
    args = parser.parse_args()

    tmp = tempfile.TemporaryDirectory()
    root = Path(tmp.name)
    settings = Settings(
        duckdb_path=root / "warehouse.duckdb",
        mirror_path=root / "mirror.db",
        practice_emails=list(PRACTICE_EMAILS),
    )
    write_demo_data(root / "canonicals", DemoSize(contacts=args.contacts, events=args.events))
    with open_warehouse(settings) as wh:
        load_directory(wh, root / "canonicals")
    rebuild(settings)
    import sqlite3

    con = sqlite3.connect(f"file:{settings.mirror_path}?mode=ro", uri=True)
    contacts = [r[0] for r in con.execute("SELECT contact_id FROM contacts LIMIT 500")]
    con.close()

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CONTACT_EVENTS_")},
        "CONTACT_EVENTS_DUCKDB_PATH": str(settings.duckdb_path),
        "CONTACT_EVENTS_MIRROR_PATH": str(settings.mirror_path),
        "CONTACT_EVENTS_PRACTICE_EMAILS": ",".join(PRACTICE_EMAILS),
        "CONTACT_EVENTS_API_TOKENS": READ,
        "CONTACT_EVENTS_ADMIN_TOKEN": ADMIN,
    }
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "contact-events"), "serve", "--port", str(port)],
        env=env,
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    rows: list[dict[str, float]] = []
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("the server did not come up")
            time.sleep(0.2)
        started = time.monotonic()
        end = started + args.minutes * 60
        last_rebuild = started
        rebuilds = 0
        admin = {"Authorization": f"Bearer {ADMIN}"}
        cycle = 0
        while time.monotonic() < end:
            cycle += 1
            latencies: list[float] = []
            stop = time.monotonic() + args.burst
            with ThreadPoolExecutor(40) as pool:
                futures = [pool.submit(reader, base, contacts, stop, latencies) for _ in range(40)]
                errors = sum(f.result() for f in futures)
            if time.monotonic() - last_rebuild >= 60:
                job = httpx.post(f"{base}/rebuild", headers=admin, timeout=30).json()
                while job["state"] in ("queued", "running"):
                    time.sleep(0.5)
                    job = httpx.get(f"{base}/rebuild/{job['job_id']}", headers=admin).json()
                rebuilds += job["state"] == "succeeded"
                last_rebuild = time.monotonic()
            time.sleep(args.idle)
            latencies.sort()
            p99 = latencies[int(len(latencies) * 0.99)] * 1000 if latencies else 0.0
            row = {
                "minute": round((time.monotonic() - started) / 60, 1),
                **sample(server.pid, settings.mirror_path),
                "requests": len(latencies),
                "non_2xx": errors,
                "p99_ms": round(p99, 1),
                "rebuilds": rebuilds,
            }
            rows.append(row)
            print(" ".join(f"{k}={v}" for k, v in row.items()), flush=True)
    finally:
        server.terminate()
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
        tmp.cleanup()
    if rows:
        print("summary (first / last / max):")
        for key in ("fds", "deleted", "rss_mib", "p99_ms"):
            values = [r[key] for r in rows]
            print(f"  {key:8} {values[0]} / {values[-1]} / {max(values)}")
        print(
            f"  requests {sum(r['requests'] for r in rows)}, non-2xx "
            f"{sum(r['non_2xx'] for r in rows)}, rebuilds {rows[-1]['rebuilds']},"
            f" median p99 {statistics.median(r['p99_ms'] for r in rows)} ms"
        )


if __name__ == "__main__":
    # `kill <pid>` of the soak stops its server too (the `finally` runs).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    main()
