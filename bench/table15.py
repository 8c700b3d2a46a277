"""The rows of issue 15's table that the issue-5 measurements do not give: search latency,
rows read by ``list``, the cost of ``diff`` per returned row, ``retract`` of a registration,
and the command line's start-up time.

Everything goes through public functions (``Views``, ``projections.search.search``,
``Ledger.retract``), so each figure follows the code it measures: a search index or a
narrower list query shows up here as soon as it lands.

Rows read by ``list``: the ``view_periods`` rows the query steps through, as
``projections.costs.listings_cost`` counts them (the spatial index's stab on SQLite,
``EXPLAIN ANALYZE`` on PostgreSQL).
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from bench.generator import AUTHORITY_WEIGHTS
from bench.startup import measure_startup
from ledger import Ledger
from projections import Views

# --------------------------------------------------------------------------- queries


def _days(rng: random.Random, start: date, end: date) -> date:
    return date.fromordinal(rng.randint(start.toordinal(), end.toordinal()))


def timed(call: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    answer = call()
    return answer, (time.perf_counter() - started) * 1000


def _summary(times: list[float], rows: int, count: int) -> dict[str, Any]:
    ordered = sorted(times)
    return {
        "queries": count,
        "p50_ms": statistics.median(ordered),
        "p95_ms": ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))],
        "mean_rows": rows / count,
        "us_per_row": 1000 * sum(times) / rows if rows else None,
    }


def measure_table_queries(
    url: str, subjects: list[str], count: int, search_count: int, seed: int
) -> dict[str, Any]:
    """list (rows read and returned), diff without --authority, and search, in-process."""
    from bench.generator import END, START
    from projections.costs import listings_cost
    from projections.search import search

    rng = random.Random(seed + 15)
    ledger = Ledger(url)
    views = Views(ledger)
    result: dict[str, Any] = {}
    try:
        # list --authority A --at D: rows read against rows returned.
        read_total, returned, times = 0, 0, []
        for _ in range(count):
            authority, day = rng.choice(list(AUTHORITY_WEIGHTS)), _days(rng, START, END)
            answer, ms = timed(lambda a=authority, d=day: views.listings(authority=a, at=d))
            times.append(ms)
            # Rows read as the read side counts them (its spatial index's stab, or EXPLAIN
            # ANALYZE on PostgreSQL): ``projections.costs.listings_cost``.
            with views.engine.connect() as conn:
                read, _ = listings_cost(conn, at=day, k=views.position(), authority=authority)
            returned += len(answer)
            read_total += read
        result["list"] = {
            **_summary(times, returned, count),
            "rows_read": read_total / count,
            "rows_returned": returned / count,
            "read_per_returned": read_total / returned if returned else None,
        }
        # diff FROM TO without --authority: 30-day windows; cost per returned row.
        times, rows = [], 0
        for _ in range(count):
            start = _days(rng, START, END - timedelta(days=30))
            answer, ms = timed(lambda s=start: views.diff(s, s + timedelta(days=30)))
            times.append(ms)
            rows += len(answer)
        result["diff"] = _summary(times, rows, count)
        # search NAME: the name of a subject registered late in the history.
        names = []
        for sid in subjects[:search_count]:
            names.append(views.show(sid, at=END).subject.name)
        search(views, names[0])  # warm up: connections, caches
        times = [timed(lambda n=name: search(views, n))[1] for name in names]
        found = sum(1 for name in names if search(views, name, limit=1))
        result["search"] = {**_summary(times, len(names), len(names)), "found": found}
    finally:
        views.close()
        ledger.close()
    return result


def measure_retracts(url: str, repeats: int) -> dict[str, Any]:
    """``retract`` of a subject's and of an authority's registration, in-process: register
    one, then time the retraction (the check for standing references is what scales).
    The projections are open beside the ledger, as ``sanctions retract`` opens them: they
    offer the index of references (without them, the check reads the whole log)."""
    ledger = Ledger(url, user="bench")
    Views(ledger)  # registers itself as the ledger's reference index
    times: dict[str, list[float]] = {"subject": [], "authority": []}
    try:
        for i in range(repeats):
            tag = f"{time.time_ns() % 10**9}-{i}"
            sub = ledger.register_subject(f"Bench Retract {tag}", kind="person")
            _, ms = timed(lambda p=sub.position: ledger.retract(p, reason="bench"))
            times["subject"].append(ms)
            code = f"BENCH{i}X{time.time_ns() % 10**6}"
            auth = ledger.register_authority(code, f"Bench authority {tag}")
            _, ms = timed(lambda p=auth.position: ledger.retract(p, reason="bench"))
            times["authority"].append(ms)
    finally:
        ledger.close()
    return {f"{k}_median_ms": statistics.median(v) for k, v in times.items()} | {
        f"{k}_ms": [round(x, 2) for x in v] for k, v in times.items()
    }


def compare(small: dict[str, Any], full: dict[str, Any], key: str) -> float | None:
    a, b = small.get(key), full.get(key)
    return b / a if a and b is not None else None


def measure_table(
    small_url: str,
    full_url: str,
    small_subjects: list[str],
    full_subjects: list[str],
    *,
    queries: int,
    search_queries: int,
    repeats: int,
    seed: int,
) -> dict[str, Any]:
    """Every figure above, at both sizes, with the full/small ratios the targets use."""
    q_small = measure_table_queries(small_url, small_subjects, queries, search_queries, seed)
    q_full = measure_table_queries(full_url, full_subjects, queries, search_queries, seed)
    r_small = measure_retracts(small_url, repeats)
    r_full = measure_retracts(full_url, repeats)
    out: dict[str, Any] = {}
    for name in ("list", "diff", "search"):
        out[name] = {
            "small": q_small[name],
            "full": q_full[name],
            "ratio_p50": compare(q_small[name], q_full[name], "p50_ms"),
            "ratio_us_per_row": compare(q_small[name], q_full[name], "us_per_row"),
        }
    out["retract"] = {
        "small": r_small,
        "full": r_full,
        "ratio_subject": compare(r_small, r_full, "subject_median_ms"),
        "ratio_authority": compare(r_small, r_full, "authority_median_ms"),
    }
    out["startup"] = measure_startup(full_url, full_subjects[0], repeats=max(repeats, 5))
    return out
