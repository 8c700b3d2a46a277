"""Records ``search`` answers on a ledger, or compares them with a recording: a check that a
change to the search's speed left its answers alone (same hits, scores, order, sanctions).

    python bench/search_answers.py --db sqlite:///l100k.db --write before.json [--queries 400]
    python bench/search_answers.py --db sqlite:///l100k.db --compare before.json

The queries are ``bench/search.py``'s (same seed), each asked as of today and the head, and a
part of them also on other dates, as known at an earlier position, with another limit, a
kind or a lower threshold.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.search import queries_for  # noqa: E402
from ledger import Ledger  # noqa: E402
from projections import Views  # noqa: E402
from projections.search import search  # noqa: E402

DAYS = [date(2015, 6, 1), date(2021, 3, 15)]


def answers(url: str, count: int, seed: int) -> list[dict[str, Any]]:
    ledger = Ledger(url)
    views = Views(ledger)
    try:
        views.catch_up()
        head = views.position()
        out = []
        for i, q in enumerate(queries_for(views, count, seed)):
            asks: list[dict[str, Any]] = [{}]
            if i % 5 == 0:
                asks.append({"at": DAYS[i % 2]})
            if i % 7 == 0:
                asks.append({"known_at": str(head // 2)})
            if i % 11 == 0:
                asks.append({"limit": 30, "threshold": 0.7})
            if i % 13 == 0:
                asks.append({"kind": "entity" if i % 2 else "person"})
            for ask in asks:
                found = search(views, q, **ask)
                out.append(
                    {
                        "query": q,
                        "ask": {k: str(v) for k, v in ask.items()},
                        "hits": [asdict(h) for h in found],
                    }
                )
        return out
    finally:
        views.close()
        ledger.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--seed", type=int, default=17)
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--write", type=Path)
    group.add_argument("--compare", type=Path)
    args = parser.parse_args()
    found = answers(args.db, args.queries, args.seed)
    if args.write:
        args.write.write_text(json.dumps(found, indent=1) + "\n")
        print(f"{len(found)} answers written, {sum(len(a['hits']) for a in found)} hits")
        return
    recorded = json.loads(args.compare.read_text())
    differ = [(a, b) for a, b in zip(recorded, found, strict=True) if a != b]
    for a, b in differ[:5]:
        print(json.dumps({"query": a["query"], "ask": a["ask"], "was": a["hits"]}, indent=1))
        print(json.dumps({"now": b["hits"]}, indent=1))
    print(f"{len(found)} answers, {len(differ)} differ")
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()
