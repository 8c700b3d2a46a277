"""Start-up time of the command line: wall time of whole ``sanctions`` processes.

    .venv/bin/python bench/startup.py --db sqlite:////path/ledger.db --subject ID
        [--repeats 21] [--compare /other/checkout/.venv/bin/sanctions]

Each figure is the median of ``--repeats`` child processes, started one after another
and interleaved (the floor ``python -c pass``, ``sanctions --help``, ``sanctions show ID``,
then again), so that a load that comes and goes shares itself between them. With
``--compare`` the same commands of another installation (e.g. main's) are interleaved
too, and the ratios between the two are printed: absolute times on a shared machine are
noisy, ratios measured in one run much less.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HELP_TARGET_S = 0.12
SHOW_TARGET_S = 0.20


def sanctions_next_to(python: str) -> str:
    found = shutil.which("sanctions", path=str(Path(python).parent))
    return found or "sanctions"


def wall(args: list[str]) -> tuple[float, float]:
    """One run's wall and CPU time in seconds; a failing command is an error, not a figure."""
    started = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed: {err.decode()[-500:]}")
    return seconds, usage.ru_utime + usage.ru_stime


def commands(sanctions: str, url: str, subject: str) -> dict[str, list[str]]:
    return {
        "help": [sanctions, "--help"],
        "show": [sanctions, "--db", url, "show", subject],
    }


def measure_startup(
    url: str, subject: str, repeats: int = 21, compare: str | None = None
) -> dict[str, Any]:
    """Median wall times (ms) of ``--help`` and ``show SUBJECT`` (and of another install's)."""
    python = sys.executable
    runs: dict[str, list[str]] = {"python": [python, "-c", "pass"]}
    runs.update(commands(sanctions_next_to(python), url, subject))
    if compare:
        runs.update({f"{k}_compared": v for k, v in commands(compare, url, subject).items()})
    for args in runs.values():  # once untimed: the OS's file cache, .pyc files
        wall(args)
    times: dict[str, list[float]] = {name: [] for name in runs}
    cpu: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, args in runs.items():
            seconds, cpu_seconds = wall(args)
            times[name].append(seconds)
            cpu[name].append(cpu_seconds)
    result: dict[str, Any] = {
        "repeats": repeats,
        "load_average": os.getloadavg(),
        "subject": subject,
        "compared_with": compare,
    }
    for name, values in times.items():
        result[f"{name}_median_ms"] = 1000 * statistics.median(values)
        result[f"{name}_min_ms"] = 1000 * min(values)
        result[f"{name}_cpu_median_ms"] = 1000 * statistics.median(cpu[name])
    result["help_target_ms"] = 1000 * HELP_TARGET_S
    result["show_target_ms"] = 1000 * SHOW_TARGET_S
    if compare:
        for name in ("help", "show"):
            result[f"{name}_ratio_to_compared"] = (
                result[f"{name}_median_ms"] / result[f"{name}_compared_median_ms"]
            )
            result[f"{name}_cpu_ratio_to_compared"] = (
                result[f"{name}_cpu_median_ms"] / result[f"{name}_compared_cpu_median_ms"]
            )
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Start-up time of the sanctions command.")
    parser.add_argument("--db", required=True, help="the ledger (not written to)")
    parser.add_argument("--subject", required=True, help="a subject id for `show`")
    parser.add_argument("--repeats", type=int, default=21)
    parser.add_argument("--compare", help="another installation's sanctions executable")
    parser.add_argument("--out", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args(argv)
    r = measure_startup(args.db, args.subject, args.repeats, args.compare)
    if args.out:
        args.out.write_text(json.dumps(r, indent=2) + "\n")
    print(f"median of {r['repeats']} runs, load average {r['load_average']}")
    print(
        f"  python -c pass  {r['python_median_ms']:7.1f} ms (CPU {r['python_cpu_median_ms']:.1f})"
    )
    for name, target in (("help", "help_target_ms"), ("show", "show_target_ms")):
        line = (
            f"  sanctions {name:<5} {r[f'{name}_median_ms']:7.1f} ms "
            f"(CPU {r[f'{name}_cpu_median_ms']:.1f}; wanted <= {r[target]:.0f})"
        )
        if args.compare:
            line += (
                f"; compared: {r[f'{name}_compared_median_ms']:.1f} ms "
                f"(CPU {r[f'{name}_compared_cpu_median_ms']:.1f}), "
                f"ratio {r[f'{name}_ratio_to_compared']:.2f} "
                f"(CPU {r[f'{name}_cpu_ratio_to_compared']:.2f})"
            )
        print(line)


if __name__ == "__main__":
    main()
