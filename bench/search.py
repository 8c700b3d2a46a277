"""Search latency with the persistent name index, on ledgers of several sizes, in one run.

For each ledger (``--db``, smallest first): the same kinds of queries, drawn with a fixed
seed from the subjects it holds (a name as held, reordered, one letter changed) and made-up
names, run in-process through ``projections.search.search`` (what ``sanctions search`` and
the web API run, without the process start). p50 and p95 per ledger, and the ratio of each
to the first ledger's, measured in the same run. ``--baseline`` also times the old way
(an in-memory index built from every subject on each call) on every ledger.

    python bench/search.py --db sqlite:///small.db --db sqlite:///big.db [--queries 200]
        [--baseline] [--out bench/results/search.json]

Open ledgers whose projections are of an older schema only on a copy: they are rebuilt.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ledger import Ledger  # noqa: E402
from projections import Views  # noqa: E402
from projections.matching import build_index  # noqa: E402
from projections.search import hits, search  # noqa: E402

MADE_UP = [
    "Jane Smith",
    "Pedro Lopez Garcia",
    "Hans Mueller",
    "Olena Shevchenko",
    "Zhang Wei",
    "Fatima Zahra Benali",
    "Acme Widgets Ltd",
    "Nordic Timber AB",
]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def queries_for(views: Views, count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    names = [s.name for s in views.subjects()]
    out = []
    for i in range(count):
        name = rng.choice(names)
        kind = i % 4
        if kind == 1:
            parts = name.split()
            name = " ".join(parts[1:] + parts[:1])
        elif kind == 2 and len(name) > 4:
            k = rng.randrange(1, len(name) - 1)
            name = name[:k] + rng.choice("aeiou") + name[k + 1 :]
        elif kind == 3:
            name = rng.choice(MADE_UP)
        out.append(name)
    return out


def timed(fn: Any, queries: list[str]) -> list[float]:
    out = []
    for q in queries:
        start = time.perf_counter()
        fn(q)
        out.append((time.perf_counter() - start) * 1000)
    return out


def measure(url: str, count: int, seed: int, baseline: bool) -> dict[str, Any]:
    ledger = Ledger(url)
    views = Views(ledger)
    try:
        views.catch_up()
        queries = queries_for(views, count, seed)
        for q in queries[:5]:  # warm the caches
            search(views, q)
        ms = timed(lambda q: search(views, q), queries)
        result: dict[str, Any] = {
            "db": url,
            "events": views.position(),
            "subjects": len(views.subjects()),
            "queries": len(queries),
            "p50_ms": round(statistics.median(ms), 2),
            "p95_ms": round(percentile(ms, 0.95), 2),
        }
        if baseline:

            def old(q: str) -> None:
                hits(views, build_index(views.subjects()), q)

            old_ms = timed(old, queries[: max(5, count // 10)])
            result["baseline_p50_ms"] = round(statistics.median(old_ms), 2)
            result["baseline_p95_ms"] = round(percentile(old_ms, 0.95), 2)
        return result
    finally:
        views.close()
        ledger.close()


def add_index_from_views(path: str) -> int:
    """On a copy of a ledger whose projections predate the search index (schema 2): add the
    index from ``view_subjects`` (every state of every subject over record time), the same
    rows a rebuild writes (``tests/test_name_index.py`` checks it), without the full
    rebuild (hours for 1M events on a loaded machine); then mark the projections current.
    Returns the names indexed."""
    from types import SimpleNamespace

    from sqlalchemy import create_engine, select, text

    from projections.catchup import TRACKING_NAME
    from projections.name_index import IndexWriter
    from projections.tables import (
        SCHEMA_VERSION,
        search_keys,
        search_names,
        search_terms,
        search_words,
    )
    from projections.tables import subjects as subject_table

    engine = create_engine(f"sqlite:///{path}")
    writer = IndexWriter()
    with engine.begin() as conn:
        for table in (search_names, search_keys, search_terms, search_words):
            table.drop(conn, checkfirst=True)
            table.create(conn)
        rows = conn.execute(
            select(subject_table).order_by(subject_table.c.subject_id, subject_table.c.rec_from)
        )
        state: Any = None
        last_id, last_end, pending = None, None, 0

        def end_of(subject_state: Any, end: int | None) -> None:
            if subject_state is not None and end is not None:
                writer.subject_changed(end, subject_state, None)

        for r in rows:
            now = SimpleNamespace(subject_id=r.subject_id, name=r.name, aliases=tuple(r.aliases))
            if r.subject_id != last_id:
                end_of(state, last_end)
                state = None
                if pending > 20000:
                    writer.flush(conn)
                    pending = 0
            elif last_end != r.rec_from:  # a gap: the subject was retracted meanwhile
                end_of(state, last_end)
                state = None
            writer.subject_changed(r.rec_from, state, now)
            pending += 1
            state, last_id, last_end = now, r.subject_id, r.rec_to
        end_of(state, last_end)
        writer.flush(conn)
        conn.execute(
            text("UPDATE view_tracking SET schema_version = :v WHERE name = :n"),
            {"v": SCHEMA_VERSION, "n": TRACKING_NAME},
        )
        return int(conn.execute(text("SELECT count(*) FROM view_search_names")).scalar() or 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", action="append", default=[], help="a ledger; smallest first")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--baseline", action="store_true", help="also time build_index per call")
    parser.add_argument("--out", type=Path, default=None, help="write the results (JSON) here")
    parser.add_argument(
        "--add-index",
        metavar="FILE",
        help="only add the search index to this SQLite copy of an older ledger, and exit",
    )
    args = parser.parse_args()
    if args.add_index:
        print(f"{add_index_from_views(args.add_index)} names indexed")
        return
    runs = [measure(url, args.queries, args.seed, args.baseline) for url in args.db]
    first = runs[0]
    for r in runs[1:]:
        r["p50_ratio_to_first"] = round(r["p50_ms"] / first["p50_ms"], 2)
        r["p95_ratio_to_first"] = round(r["p95_ms"] / first["p95_ms"], 2)
    result = {
        "wanted": "p50 at the largest ledger <= 2x p50 at the smallest, and <= 50 ms",
        "load_average": [round(x, 1) for x in os.getloadavg()],
        "runs": runs,
    }
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
