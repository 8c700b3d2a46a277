"""Where an import's time goes: ``sanctions import`` of a JSON Lines file in this process,
with the bulk path's phases timed (wall seconds, summed over the import).

    .venv/bin/python bench/import_phases.py FILE [--db URL]

FILE is a history such as ``bench/run.py --generate-only FILE --events 100000`` writes; the
ledger is a fresh SQLite file in a temporary directory unless ``--db`` names an empty one.
Phases: the events' encoding, hash chain and INSERT; the projection rows made from each
command's aggregate; the summaries taken as aggregates are handed out; the projection rows'
SQL. The rest is reading and checking the lines (and re-reading aggregates the unit's cache
let go). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

PHASES = {
    ("ledger.store", "Appender", "write"): "events: encode, chain, insert",
    ("projections.following", "Following", "collected"): "projection rows: made",
    ("projections.following", "Following", "seen"): "projection rows: summaries",
    ("projections.following", "Following", "written"): "projection rows: SQL",
}


def timed(spent: dict[str, float], cls: type, name: str, phase: str) -> Callable[..., Any]:
    """Time ``cls.name`` into ``spent[phase]``; returns the method it replaced."""
    original: Callable[..., Any] = getattr(cls, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent[phase] += time.perf_counter() - start

    setattr(cls, name, wrapper)
    return original


def measure(path: Path, url: str) -> dict[str, Any]:
    from importlib import import_module

    from click.testing import CliRunner

    from cli.main import cli

    spent: dict[str, float] = defaultdict(float)
    classes = {key: getattr(import_module(key[0]), key[1]) for key in PHASES}
    originals = {key: timed(spent, classes[key], key[2], phase) for key, phase in PHASES.items()}
    try:
        runner = CliRunner()
        init = runner.invoke(cli, ["--db", url, "init"])
        if init.exit_code:
            raise SystemExit(init.output)
        wall, cpu = time.perf_counter(), time.process_time()
        result = runner.invoke(cli, ["--db", url, "import", str(path), "--quiet"])
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    finally:
        for key, original in originals.items():
            setattr(classes[key], key[2], original)
    if result.exit_code:
        raise SystemExit(result.output)
    phases = {phase: round(spent[phase], 3) for phase in PHASES.values()}
    return {
        "file": str(path),
        "events": sum(1 for _ in path.open("rb")),
        "wall_seconds": round(wall, 2),
        "cpu_seconds": round(cpu, 2),
        "phases_seconds": phases,
        "rest_seconds": round(wall - sum(phases.values()), 2),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--db", help="an empty ledger's URL (default: a temporary SQLite file)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        url = args.db or f"sqlite:///{Path(folder) / 'ledger.db'}"
        print(json.dumps(measure(args.file, url), indent=2))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    main()
