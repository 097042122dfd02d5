"""A real BigQuery wire protocol for tests: bqemulator (REST + Storage Read gRPC) on a
background thread, random ports on 127.0.0.1, no network.

bqemulator's own pytest plugin imports testcontainers (disabled in pyproject with
`-p no:bqemulator`), and its engine downloads DuckDB's `spatial` extension on start,
which fails offline; nothing here uses GEOGRAPHY, so that step is switched off.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading


class LocalBigQuery:
    """Start with `.start()`, stop with `.stop()`; `rest_url` and `grpc_endpoint` after."""

    def __init__(self) -> None:
        from bqemulator.config import PersistenceMode, Settings
        from bqemulator.server import EmulatorServer
        from bqemulator.storage.engine import DuckDBEngine

        DuckDBEngine._load_spatial = lambda self: None  # offline: no GEOGRAPHY needed
        self.server = EmulatorServer(
            Settings(
                persistence_mode=PersistenceMode.EPHEMERAL,
                rest_host="127.0.0.1",
                rest_port=0,
                grpc_host="127.0.0.1",
                grpc_port=0,
                log_level="warning",
                # The gRPC send cap derives from this (+1 MiB). The emulator sends up to
                # 65,536 rows per ReadRows message (~12 MiB for the ledger), where real
                # BigQuery splits pages smaller; lift the cap so Storage Read is what runs.
                write_api_max_request_bytes=64 * 1024 * 1024,
            )
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def rest_url(self) -> str:
        return self.server.rest_url

    @property
    def grpc_endpoint(self) -> str:
        return self.server.grpc_endpoint

    def start(self, timeout: float = 60) -> LocalBigQuery:
        self._thread = threading.Thread(target=self._run, name="local-bigquery", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError(f"BigQuery emulator did not start within {timeout}s")
        if self._error is not None:
            raise RuntimeError(f"BigQuery emulator failed to start: {self._error}")
        return self

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        try:
            loop.run_until_complete(self.server.start())
        except BaseException as e:  # surfaced by start()
            self._error = e
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.close()

    def stop(self) -> None:
        if self._loop is not None and not self._loop.is_closed() and self._error is None:
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(self.server.stop(), self._loop).result(10)
            with contextlib.suppress(Exception):
                self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=10)
