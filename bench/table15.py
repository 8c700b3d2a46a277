"""The rows of issue 15's table that the issue-5 measurements do not give: search latency,
rows read by ``list``, the cost of ``diff`` per returned row, ``retract`` of a registration,
and the command line's start-up time.

Everything goes through public functions (``Views``, ``projections.search.search``,
``Ledger.retract``), so each figure follows the code it measures: a search index or a
narrower list query shows up here as soon as it lands.

Rows read by a query: the rows of the table each statement selects FROM (``view_periods``
for ``list``: the issue's "28,933 rows read to return 2,293") that the database stepped
through; the lookups a join makes in other tables are not counted. On PostgreSQL exactly,
from ``EXPLAIN (ANALYZE)`` (rows each scan of that table produced plus those its filter
removed, over its loops). On SQLite, which keeps no such count, the size of the index range
the planner chose for that table (``EXPLAIN QUERY PLAN``, then a count of that range).
"""

from __future__ import annotations

import random
import re
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Engine, event

from bench.generator import AUTHORITY_WEIGHTS
from bench.startup import measure_startup
from ledger import Ledger
from projections import Views

# --------------------------------------------------------------------------- rows read


@contextmanager
def statements(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    """The SELECT statements run on ``engine`` meanwhile, with their parameters."""
    seen: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "view_tracking" not in statement:
            seen.append((statement, params))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


SCAN_NODES = {"Seq Scan", "Index Scan", "Index Only Scan", "Bitmap Heap Scan"}


def _from_table(statement: str) -> str:
    found = re.search(r"\bFROM (\w+)", statement)
    return found.group(1) if found else ""


def _pg_rows(plan: dict[str, Any], table: str) -> int:
    own = 0
    if plan.get("Node Type") in SCAN_NODES and plan.get("Relation Name") == table:
        per_loop = plan.get("Actual Rows", 0) + plan.get("Rows Removed by Filter", 0)
        per_loop += plan.get("Rows Removed by Index Recheck", 0)
        own = round(per_loop * plan.get("Actual Loops", 1))
    return own + sum(_pg_rows(p, table) for p in plan.get("Plans", ()))


def _postgres_rows_read(engine: Engine, seen: list[tuple[str, Any]]) -> int:
    total = 0
    with engine.connect() as conn:
        for statement, params in seen:
            found = conn.exec_driver_sql(
                "EXPLAIN (ANALYZE, FORMAT JSON) " + statement, params
            ).scalar()
            total += _pg_rows(found[0]["Plan"], _from_table(statement))
    return total


_PLAN = re.compile(r"^(?:SEARCH|SCAN) (\w+)(?: USING (?:COVERING )?INDEX (\w+))?(?: \((.*)\))?$")
_TERM = re.compile(r"(\w+)(?:=|>|<|>=|<=)\?")


def _sqlite_range(statement: str, params: Any, detail: str) -> tuple[str, list[Any]] | None:
    """A count of the index range in a plan line such as ``SEARCH view_periods USING INDEX
    view_periods_authority (authority=? AND valid_from<?)``; the values come from the
    statement's own ``table.column OP ?`` terms. None when that cannot be read so."""
    match = _PLAN.match(detail)
    if match is None:
        return None
    table, index, terms = match.groups()
    conditions, values = [], []
    for column in _TERM.findall(terms or ""):
        spots = list(re.finditer(rf"\b{table}\.{column} (=|>|<|>=|<=) \?", statement))
        if len(spots) != 1:  # an alias, or the column compared twice: not read here
            return None
        conditions.append(f"{column} {spots[0].group(1)} ?")
        values.append(params[statement[: spots[0].end()].count("?") - 1])
    # Names from SQLite's own plan (\w+ only), values bound.
    sql = f"SELECT count(*) FROM {table}" + (f" INDEXED BY {index}" if index else "")  # noqa: S608
    return sql + (f" WHERE {' AND '.join(conditions)}" if conditions else ""), values


def _sqlite_rows_read(engine: Engine, seen: list[tuple[str, Any]]) -> int | None:
    """The driving table's index range, counted; None when the plan cannot be read so."""
    total = 0
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        for statement, params in seen:
            plan = cur.execute("EXPLAIN QUERY PLAN " + statement, params).fetchall()
            table = _from_table(statement)
            line = next((r[3] for r in plan if re.match(rf"(SEARCH|SCAN) {table}\b", r[3])), "")
            counting = _sqlite_range(statement, params, line)
            if counting is None:
                return None
            total += cur.execute(*counting).fetchone()[0]
    except Exception:  # a statement this reading does not cover: no figure, not a wrong one
        return None
    finally:
        raw.close()
    return total


def rows_read(views: Views, call: Callable[[], Any]) -> tuple[Any, int | None]:
    """``call()``'s answer and the rows its statements read (see the module's note)."""
    with statements(views.engine) as seen:
        answer = call()
    if views.engine.dialect.name == "postgresql":
        return answer, _postgres_rows_read(views.engine, seen)
    return answer, _sqlite_rows_read(views.engine, seen)


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
    from projections.search import search

    rng = random.Random(seed + 15)
    ledger = Ledger(url)
    views = Views(ledger)
    result: dict[str, Any] = {}
    try:
        # list --authority A --at D: rows read against rows returned.
        read_total, returned, times, unknown = 0, 0, [], False
        for _ in range(count):
            authority, day = rng.choice(list(AUTHORITY_WEIGHTS)), _days(rng, START, END)
            (answer, read), ms = timed(
                lambda a=authority, d=day: rows_read(
                    views, lambda: views.listings(authority=a, at=d)
                )
            )
            times.append(ms)
            returned += len(answer)
            if read is None:
                unknown = True
            else:
                read_total += read
        result["list"] = {
            **_summary(times, returned, count),
            "rows_read": None if unknown else read_total / count,
            "rows_returned": returned / count,
            "read_per_returned": None if unknown or not returned else read_total / returned,
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
    one, then time the retraction (the check for standing references is what scales)."""
    ledger = Ledger(url, user="bench")
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
