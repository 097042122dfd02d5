"""What the pages read, and from where: the API's own data path wherever the API answers
the question, the pages' few SQL files (queries/ui/) where it does not.

- Timeline, a contact's counts, needs-form, gone-quiet: the canned queries
  (app/canned/table.py) through their one handler (`answer_authorized` in
  app/canned/handler.py), exactly as a JSON request is answered (same checks, paging,
  cursors, errors, kept answers); the page reads the JSON it would have sent.
- The latest build, rows by source, rejects by reason, verification: GET /status's own
  function; starting a rebuild: POST /rebuild's own function (the same job).
- The lists' choices (measures, lifecycle stages): queries/ui/list_choices.sql, kept per
  build; the build's event types.
- The pages' own questions (a contact's row, events per week, finding a client, the
  rejects table): queries/ui/*.sql on the same pool of read-only connections, in the
  thread pool under the query time limit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson
from fastapi import Response
from starlette.concurrency import run_in_threadpool

from contact_events.builder.core.contract import EMAIL_FOLD, TRIM_CHARS

from ...canned.handler import Api, answer_authorized
from ...canned.table import Canned
from ...jobs.manager import JobManager
from ...pool.db import Build, QueryTimeout, Reader
from ..routers import rebuild as rebuild_route
from ..routers import status as status_route

T = TypeVar("T")
FIND_LIMIT = 50  # clients shown for one search
REJECTS_PAGE = 50
RECENT_JOBS = 10


def normalise_email(text: str) -> str:
    """An email as the mirror stores it (CONTRACT §2, README "Emails"): trimmed, then each
    character case-folded by the shipped table (`contract.EMAIL_FOLD`), nothing else."""
    return text.strip(TRIM_CHARS).translate(EMAIL_FOLD)


def name_words(text: str) -> list[str]:
    return [word.casefold() for word in text.split() if word]


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _names(db: Reader) -> list[tuple[str, str]]:
    """(contact_id, first and last name case-folded) of every contact."""
    _, rows = db.rows("contact_names", {}, 10_000_000, time_limited=True, folder="ui")
    return [(cid, f"{first or ''} {last or ''}".casefold()) for cid, first, last in rows]


@dataclass(frozen=True)
class Choices:
    event_types: tuple[str, ...]
    measures: tuple[str, ...] | None
    stages: tuple[str, ...] | None


def _choices(db: Reader) -> dict[str, tuple[str, ...]]:
    found: dict[str, list[str]] = {"measure": [], "lifecycle_stage": []}
    _, rows = db.rows("list_choices", {}, 1_000_000, time_limited=True, folder="ui")
    for kind, value in rows:
        found[kind].append(value)
    return {kind: tuple(values) for kind, values in found.items()}


@dataclass(frozen=True)
class Page:
    """A list answer as the API sends it, and the population it names (X-Contact-Scope)."""

    items: list[dict[str, Any]]
    next_cursor: str | None
    scope: str | None = None


class PageData:
    def __init__(self, api: Api, jobs: JobManager) -> None:
        self.api = api
        self.jobs = jobs

    # -- through the API's handler ------------------------------------------------------

    async def canned(
        self, canned: Canned, path: Mapping[str, str], query: Iterable[tuple[str, str]]
    ) -> Any:
        """The JSON the route answers (ApiError as the route raises it)."""
        reply = await answer_authorized(self.api, canned, path, list(query))
        return orjson.loads(reply.body)

    async def page(
        self, canned: Canned, path: Mapping[str, str], query: Iterable[tuple[str, str]]
    ) -> Page:
        reply = await answer_authorized(self.api, canned, path, list(query))
        found = orjson.loads(reply.body)
        scope = dict(reply.headers).get(b"x-contact-scope")
        return Page(found["items"], found["next_cursor"], scope.decode() if scope else None)

    async def status(self) -> dict[str, Any]:
        return await status_route.status(Response(), self.api.mirror)

    async def start_rebuild(self) -> dict[str, Any]:
        return await rebuild_route.start_rebuild(Response(), self.jobs)

    async def recent_jobs(self) -> list[dict[str, Any]]:
        return await run_in_threadpool(rebuild_route.job_store, self.jobs.recent, RECENT_JOBS)

    async def choices(self) -> Choices:
        """What the lists' forms offer: the build's event types, and the measures and
        stages the mirror has (kept per build); None for those two when they could not
        be read in time (the forms then take typed text, which the API checks)."""

        def work(db: Reader, build: Build) -> Choices:
            try:
                found = self.api.mirror.memo(build, "ui_list_choices", lambda: _choices(db))
            except QueryTimeout:
                return Choices(build.event_types, None, None)
            return Choices(build.event_types, found["measure"], found["lifecycle_stage"])

        return await self._read(work)

    # -- the pages' own SQL -------------------------------------------------------------

    async def _read(self, work: Callable[[Reader, Build], T]) -> T:
        def run() -> T:
            with self.api.mirror.reader() as db:
                build = db.begin()
                try:
                    return work(db, build)
                finally:
                    db.end()

        return await run_in_threadpool(run)

    async def contact(self, contact_id: str) -> dict[str, Any] | None:
        rows = await self._read(
            lambda db, _: db.dicts("contact", {"contact_id": contact_id}, 1, folder="ui")
        )
        return rows[0] if rows else None

    async def weeks(self, contact_id: str, since: str, as_of: str, shift: str) -> dict[str, int]:
        params = {"contact_id": contact_id, "since": since, "as_of": as_of, "shift": shift}
        rows = await self._read(lambda db, _: db.dicts("contact_weeks", params, 1000, folder="ui"))
        return {str(row["week"]): int(row["n"]) for row in rows}

    async def find(self, text: str) -> tuple[list[dict[str, Any]], bool]:
        """Contacts whose id, email or name holds `text` (at most FIND_LIMIT), best first:
        the exact id, then the exact email, then the rest by name; and whether there were
        more. Names: every word typed is part of the first or last name, compared with
        Unicode case folding over the names kept per build."""
        email = normalise_email(text)
        words = name_words(text)

        def work(db: Reader, build: Build) -> list[dict[str, Any]]:
            names = self.api.mirror.memo(build, "ui_contact_names", lambda: _names(db))
            by_name = [cid for cid, name in names if words and all(w in name for w in words)]
            params = {
                "text": text,
                "like": "%" + _like_escape(text) + "%",
                "email": email if len(email) >= 2 else "",
                "by_name": orjson.dumps(by_name[: FIND_LIMIT + 1]).decode(),
                "limit": FIND_LIMIT + 1,
            }
            return db.dicts("find_contacts", params, FIND_LIMIT + 1, folder="ui")

        rows = await self._read(work)
        return rows[:FIND_LIMIT], len(rows) > FIND_LIMIT

    async def rejects(
        self, reason: str | None, source: str | None, after: int
    ) -> tuple[list[dict[str, Any]], int | None]:
        """A page of the rejects table and the rowid the next page starts after."""
        params = {"reason": reason, "source": source, "after": after, "limit": REJECTS_PAGE + 1}
        rows = await self._read(
            lambda db, _: db.dicts("rejects", params, REJECTS_PAGE + 1, folder="ui")
        )
        more = len(rows) > REJECTS_PAGE
        rows = rows[:REJECTS_PAGE]
        return rows, (int(rows[-1]["rowid"]) if more else None)

    async def reject_sources(self) -> dict[str, int]:
        rows = await self._read(lambda db, _: db.dicts("reject_sources", {}, 10_000, folder="ui"))
        return {str(row["source_system"]): int(row["n"]) for row in rows}
