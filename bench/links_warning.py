"""The registration warning's cost on a large ledger: ``similar`` as it was (the matcher's
index over every subject with a birth date) against as it is (over the subjects of the new
one's kind born on one of its days), in one run, on the same ledger; and the whole
``sanctions subject add`` (with the warning) on a copy of it.

    python bench/import_100k.py --events 100000 --db sqlite:////tmp/x-100k.db
    python bench/links_warning.py --db /tmp/x-100k.db   # bench/results/links-warning-100k.json
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ledger import Ledger  # noqa: E402
from projections import Views  # noqa: E402
from projections.matching import DEFAULT_THRESHOLD, build_index  # noqa: E402
from projections.parties import groups  # noqa: E402
from projections.queries import SubjectRow  # noqa: E402
from projections.suggest import best_names, births, similar  # noqa: E402


def similar_before(views: Views, subject_id: str) -> list[SubjectRow]:
    """``similar`` as at commit e348812: the index over every subject with a birth date."""
    k = views.resolve_known_at(None)
    everyone = views.subjects()
    me = next((s for s in everyone if s.subject_id == subject_id), None)
    if me is None or not births(me):
        return []
    with views.engine.connect() as conn:
        party = groups(conn, k=k)
    index = build_index(s for s in everyone if s.subject_id != subject_id and births(s))
    found = best_names(index, me, DEFAULT_THRESHOLD, 10)
    mine = party.get(subject_id, subject_id)
    return [
        s
        for s in index.subjects
        if s.subject_id in found
        and births(s) & births(me)
        and s.kind == me.kind
        and party.get(s.subject_id, s.subject_id) != mine
    ]


def timed(fn: Any, *args: Any) -> tuple[Any, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn(*args)
    return out, time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="an SQLite ledger file (not written)")
    parser.add_argument("--subjects", type=int, default=5)
    parser.add_argument("--out", default=str(ROOT / "bench/results/links-warning-100k.json"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="links-warning-") as tmp:
        copy = Path(tmp) / "ledger.db"
        shutil.copy(args.db, copy)
        for suffix in ("-wal",):
            if Path(args.db + suffix).exists():
                shutil.copy(args.db + suffix, str(copy) + suffix)
        url = f"sqlite:///{copy}"
        ledger = Ledger(url)
        views = Views(ledger)
        views.catch_up()
        subjects = [s for s in views.subjects() if s.birth_date][: args.subjects]
        rows = []
        for s in subjects:
            old, old_wall, old_cpu = timed(similar_before, views, s.subject_id)
            new, new_wall, new_cpu = timed(similar, views, s.subject_id)
            rows.append(
                {
                    "subject": s.subject_id,
                    "same_warning": [x.subject_id for x in old] == [x.subject_id for x in new],
                    "before_wall": round(old_wall, 3),
                    "before_cpu": round(old_cpu, 3),
                    "after_wall": round(new_wall, 3),
                    "after_cpu": round(new_cpu, 3),
                }
            )
        n_subjects = len(views.subjects())
        views.close()
        ledger.close()
        born = subjects[0].birth_date.isoformat()  # type: ignore[union-attr]
        command = [str(Path(sys.executable).parent / "sanctions"), "--db", url, "subject", "add",
                   subjects[0].name, "--id", "bench-namesake", "--birth-date", born]  # fmt: skip
        before = os.times()
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        wall = time.perf_counter() - start
        after = os.times()
    result = {
        "ledger": args.db,
        "subjects": n_subjects,
        "similar": rows,
        "cpu_ratio_before_over_after": round(
            sum(r["before_cpu"] for r in rows) / max(1e-9, sum(r["after_cpu"] for r in rows)), 1
        ),
        "subject_add_after": {
            "wall": round(wall, 2),
            "cpu": round(
                (after.children_user - before.children_user)
                + (after.children_system - before.children_system),
                2,
            ),
            "warned": done.stderr.count("Warning:"),
        },
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
