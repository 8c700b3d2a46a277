"""The scale benchmark of issue 5: a synthetic sanctions history, measured against the
physical limit of the store, on SQLite or PostgreSQL.

    .venv/bin/python bench/run.py [--events 1000000] [--seed 7] [--db sqlite|postgresql://...]
                                  [--out bench/results.json] [--small 10000]

One run:

1. generates a realistic history as JSON Lines (default 1,000,000 events, about one subject
   per ten events, 13 authorities with several regimes each: designations, amendments,
   delistings, expiries, re-designations, late events with past effective dates, court
   rulings, some annulling, coordination announcements, subject amendments, retractions),
   every line valid for the ledger's rules in order; the same seed gives the same file.
   A second, small history (``--small``, default 10,000 events) comes from the same
   generator and seed, for the latency comparisons;
2. imports both with ``sanctions import`` into a ledger made by ``sanctions init`` (a child
   process: wall time including the projections' catch-up, and that child's peak RSS);
3. copies the stored rows of the large ledger into a bare table with the same columns and
   keys, in one transaction: raw ``sqlite3`` ``executemany`` into a fresh SQLite file, or,
   for PostgreSQL, psycopg ``executemany`` and ``COPY`` into a scratch schema (the faster is
   the baseline): the physical limit the import is compared with;
4. reads and decodes the whole log in-process (``Ledger(url).read_log()``) and times
   ``sanctions rebuild`` (a child process);
5. times queries in-process through ``projections.Views`` (``show``, ``listings`` by
   authority and date, both with and without ``known_at``) on the small and the large
   ledger, and one ``sanctions designate`` (a child process, median of ``--repeats``) on each;
6. prints a table and writes every figure as JSON (``--out``), with the issue's targets.

``--db sqlite`` (the default) puts the ledgers in SQLite files in a temporary directory
(``--workdir`` to keep them elsewhere); ``--db postgresql://USER@HOST:PORT/DB`` makes fresh
schemas ``bench_<random>_*`` in that database and drops them at the end. Answers to a few
fixed probe queries are recorded as digests, so that two runs (SQLite and PostgreSQL) can
be checked to give the same answers.
"""

import argparse
import json
import sys
from pathlib import Path

# Run as a script (python bench/run.py), only bench/ is on the path: its modules are
# imported as the package ``bench`` from the repository root.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.generator import GenerationInfo, generate
from bench.report import render, targets
from bench.runner import run_benchmark, run_child

__all__ = ["GenerationInfo", "generate", "render", "run_benchmark", "run_child", "targets"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="Benchmark sanctions-ledger against the store's physical limit (issue 5)."
    )
    parser.add_argument("--events", type=int, default=1_000_000, help="size of the history")
    parser.add_argument("--seed", type=int, default=7, help="the generator's seed")
    parser.add_argument(
        "--db",
        default="sqlite",
        help="'sqlite' (files in --workdir) or postgresql://USER@HOST:PORT/DB "
        "(fresh schemas, dropped afterwards)",
    )
    parser.add_argument("--out", default="bench/results.json", help="JSON results file")
    parser.add_argument(
        "--small", type=int, default=10_000, help="size of the small history for latency ratios"
    )
    parser.add_argument("--queries", type=int, default=200, help="queries per kind and size")
    parser.add_argument(
        "--repeats", type=int, default=5, help="CLI appends, retracts, start-ups per ledger"
    )
    parser.add_argument(
        "--search-queries", type=int, default=20, help="searches per size (slow before an index)"
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="where the JSON Lines and SQLite files go (default: a temporary "
        "directory, removed afterwards)",
    )
    parser.add_argument(
        "--generate-only", metavar="FILE", type=Path, help="only write the history to FILE and exit"
    )
    args = parser.parse_args(argv)
    if args.generate_only:
        info = generate(args.generate_only, args.events, args.seed)
        print(json.dumps(info.as_dict(), indent=2))
        return
    results = run_benchmark(
        events=args.events,
        seed=args.seed,
        db=args.db,
        small=args.small,
        queries=args.queries,
        repeats=args.repeats,
        workdir=args.workdir,
        search_queries=args.search_queries,
    )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, default=str) + "\n")
    render(results)
    print(f"results written to {out}")


if __name__ == "__main__":
    main()
