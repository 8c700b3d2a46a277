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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", action="append", required=True, help="a ledger; smallest first")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--baseline", action="store_true", help="also time build_index per call")
    parser.add_argument("--out", type=Path, default=None, help="write the results (JSON) here")
    args = parser.parse_args()
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
