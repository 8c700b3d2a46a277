"""Time ``sanctions import`` of a generated 100,000-event JSON Lines file.

Each generated subject has four events: registered, designated (2020-01-01), amended
(2021-01-01, a measure added) and delisted (2022-01-01). The file is written to a temporary
directory and imported, by the installed ``sanctions`` command in a child process, into a
fresh ledger made by ``sanctions init`` (an SQLite file there unless ``--db`` names another,
which must be empty).
The time covers the whole command: reading and checking the file, the append in batches,
and the projections' catch-up.

    .venv/bin/python bench/import_100k.py [--events 100000] [--db URL]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def events(n: int) -> list[dict[str, object]]:
    lines: list[dict[str, object]] = []
    for i in range((n + 3) // 4):
        sid = f"subject-{i}"
        key = {"subject": sid, "authority": "UN", "regime": "UN Bench Regime"}
        lines += [
            {
                "type": "subject_registered",
                "data": {"id": sid, "name": f"Subject {i}", "aliases": [f"Alias {i}"]},
            },
            {
                "type": "designated",
                "data": {
                    **key,
                    "effective": "2020-01-01",
                    "measures": ["asset-freeze", "travel-ban"],
                    "sources": ["bench"],
                },
            },
            {
                "type": "amended",
                "data": {**key, "effective": "2021-01-01", "add_measures": ["funds-prohibition"]},
            },
            {"type": "delisted", "data": {**key, "effective": "2022-01-01"}},
        ]
    return lines[:n]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--db", help="an empty ledger (default: a new SQLite file)")
    args = parser.parse_args()
    sanctions = shutil.which("sanctions", path=str(Path(sys.executable).parent)) or "sanctions"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "events.jsonl"
        with path.open("w", encoding="utf-8") as f:
            for line in events(args.events):
                f.write(json.dumps(line) + "\n")
        db = args.db or f"sqlite:///{Path(tmp) / 'bench.db'}"
        made = subprocess.run([sanctions, "--db", db, "init"], capture_output=True, text=True)
        if made.returncode != 0:
            sys.exit(f"init failed: {made.stderr.strip()}")
        started = time.perf_counter()
        done = subprocess.run(
            [sanctions, "--db", db, "--by", "bench", "import", str(path)],
            capture_output=True,
            text=True,
        )
        elapsed = time.perf_counter() - started
        if done.returncode != 0:
            sys.exit(f"import failed: {done.stderr.strip()}")
        print(done.stdout.strip())
        print(f"{args.events} events in {elapsed:.1f} s: {args.events / elapsed:,.0f} events/s")


if __name__ == "__main__":
    main()
