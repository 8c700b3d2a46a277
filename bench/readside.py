"""The read side's own figures: rows a list reads per row it returns, and the read model's
size (rows and bytes per event). Rows read: SQLite counts the ids its R*Tree yields,
PostgreSQL reads them off ``EXPLAIN ANALYZE`` (``projections.costs.listings_cost``)."""

from __future__ import annotations

import random
from typing import Any

from sqlalchemy import text

from bench.generator import AUTHORITY_WEIGHTS, END, START
from ledger import Ledger
from projections import Views
from projections.costs import listings_cost
from projections.tables import VIEW_TABLES


def measure_rows_read(url: str, count: int, seed: int) -> dict[str, Any]:
    """``list --authority A --at D`` (and with ``--known-at K``) at random: rows read, rows
    returned, the worst ratio of one query (wanted: at most 2) and the most one query read."""
    rng = random.Random(seed)
    ledger = Ledger(url)
    views = Views(ledger)
    head = views.position()
    results: dict[str, Any] = {}
    try:
        with views.engine.connect() as conn:
            for name in ("list", "list_known_at"):
                read = returned = most = 0
                worst = 0.0
                for _ in range(count):
                    day = START.fromordinal(rng.randint(START.toordinal(), END.toordinal()))
                    k = head if name == "list" else rng.randint(1, head)
                    authority = rng.choice(list(AUTHORITY_WEIGHTS))
                    r, n = listings_cost(conn, at=day, k=k, authority=authority)
                    read, returned = read + r, returned + n
                    worst = max(worst, r / max(n, 1))
                    most = max(most, r)
                results[name] = {
                    "rows_read": read,
                    "rows_returned": returned,
                    "ratio": read / max(returned, 1),
                    "worst_ratio": worst,
                    "most_read_by_one": most,
                }
    finally:
        views.close()
        ledger.close()
    return results


def read_model_size(url: str) -> dict[str, Any]:
    """Rows and bytes (tables and their indexes) of the projections, per event."""
    ledger = Ledger(url)
    views = Views(ledger)
    try:
        events = ledger.recorder.max_notification_id() or 0
        names = [t.name for t in VIEW_TABLES]
        with views.engine.connect() as conn:
            rows = {
                name: int(conn.execute(text(f"SELECT count(*) FROM {name}")).scalar() or 0)  # noqa: S608
                for name in names
            }
            if conn.dialect.name == "sqlite":
                # Every B-tree of the projections: tables, indexes, R*Tree shadow tables.
                size = conn.execute(
                    text(
                        "SELECT sum(pgsize) FROM dbstat WHERE name IN "
                        "(SELECT name FROM sqlite_schema WHERE tbl_name LIKE 'view%')"
                    )
                ).scalar()
            else:
                size = conn.execute(
                    text(
                        "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c "
                        "JOIN pg_namespace n ON n.oid = c.relnamespace "
                        "WHERE n.nspname = current_schema() AND c.relkind = 'r' "
                        "AND c.relname LIKE 'view%'"
                    )
                ).scalar()
    finally:
        views.close()
        ledger.close()
    state = rows["view_subjects"] + rows["view_periods"]
    return {
        "events": events,
        "rows": rows,
        "rows_per_event": sum(rows.values()) / max(events, 1),
        "state_rows_per_event": state / max(events, 1),
        "bytes": int(size or 0),
        "bytes_per_event": int(size or 0) / max(events, 1),
    }


def main() -> None:
    """``python -m bench.readside URL [COUNT]``: the figures above for one existing ledger
    (open a copy: a ledger whose projections are older is rebuilt on first open)."""
    import json
    import sys
    import time

    url = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    started = time.perf_counter()
    figures = {
        "rows_read": measure_rows_read(url, count, 7),
        "read_model": read_model_size(url),
        "seconds": 0.0,
    }
    figures["seconds"] = time.perf_counter() - started
    print(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
