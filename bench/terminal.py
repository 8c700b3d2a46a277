"""Time to first row and total time of ``sanctions list``, ``diff``, ``history`` (and
``announcements``, ``rulings``) in each output form (issue 19).

Runs the real command as a user would, once per form and repetition, reading its standard
output as it comes: ``table`` on a terminal (a pseudo-terminal, COLUMNS=200, no pager),
``table`` in a pipe (tab-separated lines), ``csv`` and ``json``. The first row is there when
the first row's subject id (or position) has arrived. Optionally the same forms with another
``sanctions`` (``--baseline``, e.g. main's checkout) in the same run, for ratios.

    .venv/bin/python bench/terminal.py --db sqlite:////work/bench-1m/ledger-1m.db \\
        --out bench/results/terminal-1m-sqlite.json
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import pty
import select
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(sys.executable).parent
FORMS = {
    "table (terminal)": ("table", True),
    "table (pipe)": ("table", False),
    "csv": ("csv", False),
    "json": ("json", False),
}


def first_value(sanctions: str, db: str, query: list[str], column: str) -> tuple[str, int]:
    """The answer's first row's value in ``column``, and how many rows it has (its CSV)."""
    out = subprocess.run(
        [sanctions, "--db", db, *query, "--format", "csv"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rows = list(csv.DictReader(io.StringIO(out)))
    if not rows:
        raise SystemExit(f"the query {' '.join(query)} has no rows: choose another")
    return rows[0][column], len(rows)


def run_once(
    sanctions: str, db: str, query: list[str], fmt: str, terminal: bool, marker: bytes
) -> dict[str, float]:
    """Seconds to the first row and to the end, reading the output as it arrives."""
    env = {**os.environ, "SANCTIONS_PAGER": "", "NO_COLOR": "1", "COLUMNS": "200", "LINES": "50"}
    env.pop("SANCTIONS_TERMINAL", None)
    args = [sanctions, "--db", db, *query, "--format", fmt]
    if terminal:
        leader, follower = pty.openpty()
        out_fd = leader
    else:
        read_end, write_end = os.pipe()
        out_fd, follower = read_end, write_end
    started = time.perf_counter()
    proc = subprocess.Popen(
        args, stdout=follower, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, env=env
    )
    os.close(follower)
    seen = b""
    first = None
    peak = 0
    while True:
        peak = max(peak, high_water(proc.pid))
        ready, _, _ = select.select([out_fd], [], [], 600)
        if not ready:
            proc.kill()
            raise SystemExit(f"no output for 600 s: {' '.join(args)}")
        try:
            chunk = os.read(out_fd, 1 << 16)
        except OSError:  # a pseudo-terminal whose other end closed
            chunk = b""
        if not chunk:
            break
        if first is None:
            seen = seen[-len(marker) :] + chunk
            if marker in seen:
                first = time.perf_counter() - started
    os.close(out_fd)
    code = proc.wait()
    total = time.perf_counter() - started
    if code != 0:
        raise SystemExit(f"exit {code}: {' '.join(args)}")
    if first is None:
        raise SystemExit(f"the first row never came: {' '.join(args)}")
    return {"first_row": first, "total": total, "peak_rss_mb": peak / 1024}


def high_water(pid: int) -> int:
    """The process's own peak resident memory so far, in kB (0 once it has gone)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def measure(
    sanctions: str, db: str, query: list[str], marker: bytes, repeat: int
) -> dict[str, dict[str, float]]:
    results: dict[str, dict[str, float]] = {}
    for form, (fmt, terminal) in FORMS.items():
        runs = [run_once(sanctions, db, query, fmt, terminal, marker) for _ in range(repeat)]
        results[form] = {
            "first_row_median": statistics.median(r["first_row"] for r in runs),
            "total_median": statistics.median(r["total"] for r in runs),
            "first_row_runs": [round(r["first_row"], 3) for r in runs],
            "total_runs": [round(r["total"], 3) for r in runs],
            "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
        }
    return results


def startup(sanctions: str, db: str, repeat: int) -> float:
    """The same program's ``head`` (start, open the ledger, one query): the floor."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run([sanctions, "--db", db, "head"], capture_output=True, check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def queries(options: argparse.Namespace) -> dict[str, tuple[list[str], str]]:
    """Each question measured: its arguments, and the column whose first value marks the
    first row (a subject id, or a position: no header holds digits)."""
    every = {
        "list": (["list", "--authority", options.authority, "--at", options.at], "subject_id"),
        "diff": (["diff", options.diff_from, options.diff_to], "subject_id"),
        "history": (["history", options.subject], "position"),
        "announcements": (["announcements"], "position"),
        "rulings": (["rulings"], "position"),
    }
    return {name: every[name] for name in options.queries.split(",")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--authority", default="US-OFAC")
    parser.add_argument("--at", default="2022-06-30")
    parser.add_argument("--diff-from", default="2022-01-01")
    parser.add_argument("--diff-to", default="2022-12-31")
    parser.add_argument("--subject", default="andrei-song-0", help="whose history")
    parser.add_argument(
        "--queries", default="list,diff,history", help="of list,diff,history,announcements,rulings"
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--baseline", help="another sanctions program to measure alike")
    parser.add_argument("--baseline-repeat", type=int, default=1)
    parser.add_argument("--out", help="write the results here as JSON")
    options = parser.parse_args()
    sanctions = shutil.which("sanctions", path=str(HERE)) or "sanctions"
    started = os.times()
    report: dict[str, Any] = {
        "db": options.db,
        "load_average_before": os.getloadavg(),
        "head_median": startup(sanctions, options.db, options.repeat),
        "queries": {},
    }
    if options.baseline:
        report["baseline"] = {
            "program": options.baseline,
            "head_median": startup(options.baseline, options.db, options.baseline_repeat),
        }
    for name, (query, column) in queries(options).items():
        value, rows = first_value(sanctions, options.db, query, column)
        marker = value.encode()
        done: dict[str, Any] = {"query": " ".join(query), "rows": rows, "first_value": value}
        done["forms"] = measure(sanctions, options.db, query, marker, options.repeat)
        if options.baseline:  # measured right after, under the same load
            done["baseline_forms"] = measure(
                options.baseline, options.db, query, marker, options.baseline_repeat
            )
        report["queries"][name] = done
    ended = os.times()
    report["children_cpu_s"] = round(
        ended.children_user
        + ended.children_system
        - started.children_user
        - started.children_system,
        1,
    )
    report["load_average_after"] = os.getloadavg()
    print(table(report))
    if options.out:
        Path(options.out).write_text(json.dumps(report, indent=2) + "\n")


def table(report: dict[str, Any]) -> str:
    base = "baseline" in report
    lines = [
        f"on {report['db']}",
        f"load average before {report['load_average_before'][0]:.1f}, "
        f"after {report['load_average_after'][0]:.1f} (2 cores); CPU of the runs "
        f"{report['children_cpu_s']} s",
        f"'sanctions head' (start-up floor): {report['head_median']:.2f} s"
        + (f", baseline {report['baseline']['head_median']:.2f} s" if base else ""),
    ]
    for q in report["queries"].values():
        lines += [
            "",
            f"{q['query']}: {q['rows']:,} rows",
            f"{'form':<18} {'first row s':>12} {'total s':>9} {'peak MB':>8}"
            + (f" {'baseline first':>15} {'baseline total':>15} {'peak MB':>8}" if base else ""),
        ]
        for form, r in q["forms"].items():
            line = (
                f"{form:<18} {r['first_row_median']:>12.2f} {r['total_median']:>9.2f}"
                f" {r['peak_rss_mb']:>8.0f}"
            )
            if base:
                b = q["baseline_forms"][form]
                line += (
                    f" {b['first_row_median']:>15.2f} {b['total_median']:>15.2f}"
                    f" {b['peak_rss_mb']:>8.0f}"
                )
            lines.append(line)
    return "\n".join(lines)


if __name__ == "__main__":
    main()
