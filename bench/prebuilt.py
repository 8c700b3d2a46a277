"""CPU time of a subject and a list request in-process (``Views.show``, ``Views.listings``):
what prebuilt statements save, without the server or HTTP, so that a loaded machine blurs
it less than a load run (CPU time, not wall time, is the figure).

    .venv/bin/python bench/prebuilt.py --db 'sqlite:////path/ledger.db?mode=ro' [--calls 300]

Run it with another checkout's python (its code) for a baseline in the same session.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time
from datetime import date, timedelta
from typing import Any

from ledger import Ledger
from projections import Views


def measure(url: str, calls: int, seed: int) -> dict[str, Any]:
    ledger = Ledger(url)
    views = Views(ledger)
    try:
        rng = random.Random(seed)
        subjects = sorted(ledger.subject_ids())
        picks = [rng.choice(subjects) for _ in range(calls)]
        days = [date(2000, 1, 1) + timedelta(days=rng.randrange(9000)) for _ in range(calls)]
        authorities = ["EU", "US-OFAC", "UK", "UN"]
        figures: dict[str, Any] = {}
        for name, call in (
            ("show", lambda i: views.show(picks[i], at=days[i])),
            (
                "list 100",
                lambda i: views.listings(authority=authorities[i % 4], at=days[i], limit=100),
            ),
        ):
            call(0)  # warm: caches, the statement cache
            cpu, wall = time.process_time(), time.perf_counter()
            for i in range(calls):
                call(i)
            figures[name] = {
                "cpu_ms_per_call": round(1000 * (time.process_time() - cpu) / calls, 3),
                "wall_ms_per_call": round(1000 * (time.perf_counter() - wall) / calls, 3),
            }
        return {"calls": calls, "load_average": os.getloadavg(), "figures": figures}
    finally:
        views.close()
        ledger.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", required=True)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    print(json.dumps(measure(args.db, args.calls, args.seed)))


if __name__ == "__main__":
    main()
