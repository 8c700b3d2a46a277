"""The bulk path against one command at a time, on a generated history: the same events,
byte for byte, and the same projections.

    .venv/bin/python bench/bulk_equivalence.py [--events 100000] [--seed 7] [--db sqlite|URL]

Ledger A imports the history as ``sanctions import`` does (the read side open: each command
checked, its events appended and its projection rows written in one transaction). Ledger B
runs each line as its own command (``Ledger.execute``, one transaction each) and catches the
projections up after each, as the command line does after every append. The clock is fixed,
so that record times (and with them digests) can be compared. Prints one JSON object: counts,
times, and whether the stored events and every projection table are equal. The tests run
this at 1,200 events on both stores (``tests/test_bulk_path.py``); it takes minutes at 100,000.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from unittest.mock import patch

if TYPE_CHECKING:
    from ledger import Ledger
    from projections import Views

CLOCK = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)


def stored_events(url: str) -> list[tuple[Any, ...]]:
    """Every stored event: position, aggregate, version, topic, state bytes, time, digest."""
    from ledger import Ledger
    from ledger.store import LedgerNotification

    ledger = Ledger(url)
    try:
        return [
            (
                n.id,
                n.originator_id,
                n.originator_version,
                n.topic,
                bytes(n.state),
                n.recorded_at,
                cast(LedgerNotification, n).digest,
            )
            for n in ledger.recorder.select_notifications(1, 10**9)
        ]
    finally:
        ledger.close()


@contextmanager
def opened(url: str) -> Iterator[tuple[Ledger, Views]]:
    """The ledger at ``url`` with its read side open, as the command line has them."""
    from ledger import Ledger
    from projections import Views

    ledger = Ledger(url, user="bench")
    views = Views(ledger)
    try:
        yield ledger, views
    finally:
        views.close()
        ledger.close()


def projection_rows(url: str) -> dict[str, list[tuple[str, ...]]]:
    """Every projection table's rows, caught up (order-free, surrogate ids left out)."""
    from projections.integrity import view_rows

    with opened(url) as (_, views):
        views.catch_up()
        return view_rows(views)


def bulk(url: str, path: Path) -> None:
    """``sanctions import``: the read side open, so the bulk path."""
    from ledger.records import read_jsonl

    with opened(url) as (ledger, views), path.open("rb") as f:
        ledger.import_events(read_jsonl(f))
        if views.catch_up():
            raise AssertionError("the bulk path left the projections behind")


def one_at_a_time(url: str, path: Path) -> None:
    """Each line its own command and transaction, the projections caught up after each."""
    from ledger.commands import COMMANDS
    from ledger.records import read_jsonl

    with opened(url) as (ledger, views), path.open("rb") as f:
        for record in read_jsonl(f):
            ledger.execute(COMMANDS[record.type].from_data(record.data))
            views.catch_up()


@contextmanager
def two_ledgers(db: str, folder: Path) -> Iterator[tuple[str, str]]:
    """Two empty ledgers: SQLite files, or fresh schemas (dropped afterwards)."""
    from ledger import Ledger

    if db == "sqlite":
        urls = (f"sqlite:///{folder / 'bulk.db'}", f"sqlite:///{folder / 'one.db'}")
    else:
        tag = uuid.uuid4().hex[:8]
        sep = "&" if "?" in db else "?"
        urls = (f"{db}{sep}schema=equiv_{tag}_bulk", f"{db}{sep}schema=equiv_{tag}_one")
    for url in urls:
        Ledger.init(url).close()
    try:
        yield urls
    finally:
        if db != "sqlite":
            import psycopg

            with psycopg.connect(db.split("?")[0], autocommit=True) as conn:
                for url in urls:
                    conn.execute(f"DROP SCHEMA IF EXISTS {url.rsplit('=', 1)[1]} CASCADE")


def compare(path: Path, db: str, folder: Path) -> dict[str, Any]:
    with patch("ledger.store.utc_now", lambda: CLOCK), two_ledgers(db, folder) as (a, b):
        started = time.perf_counter()
        bulk(a, path)
        bulk_seconds = time.perf_counter() - started
        started = time.perf_counter()
        one_at_a_time(b, path)
        one_seconds = time.perf_counter() - started
        events_a, events_b = stored_events(a), stored_events(b)
        rows_a, rows_b = projection_rows(a), projection_rows(b)
    differing = [name for name in rows_a if rows_a[name] != rows_b.get(name)]
    return {
        "events": len(events_a),
        "bulk_seconds": round(bulk_seconds, 1),
        "one_at_a_time_seconds": round(one_seconds, 1),
        "events_equal": events_a == events_b,
        "projection_rows": sum(map(len, rows_a.values())),
        "projection_tables_differing": differing,
        "equal": events_a == events_b and not differing,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--db", default="sqlite", help="sqlite, or a PostgreSQL URL")
    args = parser.parse_args(argv)
    from bench.generator import generate

    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        path = folder / "history.jsonl"
        generate(path, args.events, args.seed)
        result = {"seed": args.seed, "db": args.db.split("?")[0], **compare(path, args.db, folder)}
    print(json.dumps(result, indent=2))
    if not result["equal"]:
        raise SystemExit(1)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    main()
