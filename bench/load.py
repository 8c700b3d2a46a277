"""Load run of ``sanctions serve``: concurrent clients against a ledger's subject and list
endpoints, on 127.0.0.1 only, bounded in requests and in time.

It starts ``sanctions --db URL serve --port 0`` (the installed command, a child process),
samples subject ids and authorities from the ledger through the API, then runs each scenario
with ``--clients`` threads, each with its own keep-alive connection, until ``--seconds`` pass
or ``--requests`` are made. It reports requests per second, p50, p95 and p99 latency and the
errors (any status but 200, or a failed connection), and writes them as JSON (``--out``).

    .venv/bin/python bench/load.py --db sqlite:///big.db --clients 16 --seconds 30

The clients run in one Python process next to the server on the same machine: the figures
include the client's own overhead and share the CPU with it.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

SANCTIONS = str(Path(sys.executable).with_name("sanctions"))
TARGET_SUBJECT_P95_MS = 100.0


@contextmanager
def server(db: str, workers: int = 1) -> Iterator[tuple[str, int]]:
    """``sanctions serve`` on a free port of 127.0.0.1; yields (host, port)."""
    proc = subprocess.Popen(
        [
            SANCTIONS,
            "--db",
            db,
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--workers",
            str(workers),
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        found = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        if not found:
            raise SystemExit(f"the server did not start: {line}{proc.stderr.read()}")
        port = int(found.group(1))
        deadline = time.monotonic() + 300  # a large ledger may need a catch-up first
        while True:
            try:
                status, _ = get("127.0.0.1", port, "/api/head")
                if status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit("the server never answered")
            time.sleep(0.2)
        yield "127.0.0.1", port
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


def get(host: str, port: int, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(host, port, timeout=60)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def sample(host: str, port: int, count: int, seed: int) -> tuple[list[str], list[str]]:
    """Subject ids (designated ones, from lists on a few dates) and authorities to ask about."""
    rng = random.Random(seed)
    subjects: set[str] = set()
    authorities: set[str] = set()
    for year in (2005, 2012, 2018, 2021, 2024):
        path = "/api/designations?" + urlencode({"at": f"{year}-06-30", "limit": 1000})
        status, body = get(host, port, path)
        if status != 200:
            raise SystemExit(f"{path}: {status} {body[:200]!r}")
        for row in json.loads(body)["items"]:
            subjects.add(row["subject_id"])
            authorities.add(row["authority"])
    if not subjects:
        raise SystemExit("the ledger lists no designation to ask about")
    ids = sorted(subjects)
    return [rng.choice(ids) for _ in range(count)], sorted(authorities)


def run_scenario(
    host: str,
    port: int,
    paths: Callable[[random.Random], str],
    clients: int,
    seconds: float,
    requests: int,
    seed: int,
) -> dict[str, Any]:
    """``clients`` threads asking ``paths`` until the time or the request budget runs out."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    budget = [requests]
    deadline = time.monotonic() + seconds
    start = threading.Barrier(clients + 1)

    def client(number: int) -> None:
        rng = random.Random(seed * 1000 + number)
        conn = http.client.HTTPConnection(host, port, timeout=60)
        start.wait()
        while time.monotonic() < deadline:
            with lock:
                if budget[0] <= 0:
                    break
                budget[0] -= 1
            path = paths(rng)
            began = time.perf_counter()
            try:
                conn.request("GET", path)
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException) as e:
                status = 0
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=60)
                error = f"{type(e).__name__}: {e}"
            else:
                error = f"{status} {path}"
            took = time.perf_counter() - began
            with lock:
                latencies.append(took)
                if status != 200:
                    errors.append(error)
        conn.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    start.wait()
    began = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - began
    ms = sorted(x * 1000 for x in latencies)

    def pct(p: float) -> float:
        return ms[min(len(ms) - 1, int(p * len(ms)))] if ms else float("nan")

    return {
        "requests": len(ms),
        "seconds": round(wall, 2),
        "requests_per_s": round(len(ms) / wall, 1) if wall else 0.0,
        "p50_ms": round(pct(0.50), 1),
        "p95_ms": round(pct(0.95), 1),
        "p99_ms": round(pct(0.99), 1),
        "mean_ms": round(statistics.fmean(ms), 1) if ms else float("nan"),
        "errors": len(errors),
        "first_errors": errors[:5],
    }


def run_load(
    db: str,
    *,
    clients: int = 16,
    seconds: float = 30.0,
    requests: int = 20_000,
    seed: int = 7,
    workers: int = 1,
) -> dict[str, Any]:
    rng = random.Random(seed)
    results: dict[str, Any] = {
        "config": {"db": db, "clients": clients, "seconds": seconds, "requests": requests,
                   "seed": seed, "workers": workers},
        "environment": {
            "python": platform.python_version(),
            "machine": platform.machine(),
            "cpus": os.cpu_count(),
            "load_average_at_start": os.getloadavg(),
            "started": datetime.now(UTC).isoformat(timespec="seconds"),
        },
    }  # fmt: skip
    with server(db, workers) as (host, port):
        _, body = get(host, port, "/api/head")
        results["head"] = json.loads(body)
        subjects, authorities = sample(host, port, 5000, seed)
        results["sample"] = {"subjects": len(set(subjects)), "authorities": authorities}
        first = date(2000, 1, 1)

        def a_day(r: random.Random) -> str:
            return (first + timedelta(days=r.randrange(9000))).isoformat()

        scenarios: dict[str, Callable[[random.Random], str]] = {
            "subject (GET /api/subjects/{id})": lambda r: (
                "/api/subjects/" + quote(r.choice(subjects), safe="") + "?at=" + a_day(r)
            ),
            "list, first page of 100 (GET /api/designations)": lambda r: (
                "/api/designations?"
                + urlencode({"authority": r.choice(authorities), "at": a_day(r), "limit": 100})
            ),
            "subject page, HTML (GET /subjects/{id})": lambda r: (
                "/subjects/" + quote(r.choice(subjects), safe="") + "?at=" + a_day(r)
            ),
        }
        results["scenarios"] = {}
        for name, paths in scenarios.items():
            print(f"load: {name}, {clients} clients, {seconds:g} s", file=sys.stderr)
            results["scenarios"][name] = run_scenario(
                host, port, paths, clients, seconds, requests, rng.randrange(1 << 30)
            )
    subject = results["scenarios"]["subject (GET /api/subjects/{id})"]
    results["targets"] = [
        {"target": "subject p95 <= 100 ms", "value": subject["p95_ms"],
         "met": subject["p95_ms"] <= TARGET_SUBJECT_P95_MS},
        {"target": "no errors", "value": sum(s["errors"] for s in results["scenarios"].values()),
         "met": all(s["errors"] == 0 for s in results["scenarios"].values())},
    ]  # fmt: skip
    results["environment"]["load_average_at_end"] = os.getloadavg()
    return results


def render(results: dict[str, Any]) -> str:
    c = results["config"]
    lines = [
        f"sanctions serve --workers {c['workers']} under load: {c['clients']} clients on "
        f"127.0.0.1, up to "
        f"{c['seconds']:g} s or {c['requests']:,} requests per scenario; ledger head "
        f"{results['head']['position']:,}",
        "",
        f"{'scenario':52} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
        f"{'requests':>9} {'errors':>7}",
    ]
    for name, s in results["scenarios"].items():
        lines.append(
            f"{name:52} {s['requests_per_s']:8.1f} {s['p50_ms']:8.1f} {s['p95_ms']:8.1f} "
            f"{s['p99_ms']:8.1f} {s['requests']:9,} {s['errors']:7}"
        )
    lines.append("")
    for t in results["targets"]:
        lines.append(f"{t['target']}: {t['value']} ({'met' if t['met'] else 'NOT met'})")
    load = results["environment"]
    lines.append(
        f"load average at start {load['load_average_at_start'][0]:.1f}, at end "
        f"{load['load_average_at_end'][0]:.1f} ({load['cpus']} CPUs)"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Load run of sanctions serve (issue 16).")
    parser.add_argument("--db", required=True, help="the ledger to serve (it must exist)")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=30.0, help="per scenario, at most")
    parser.add_argument("--requests", type=int, default=20_000, help="per scenario, at most")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=1, help="sanctions serve --workers")
    parser.add_argument("--out", default="bench/results/serve-load.json")
    args = parser.parse_args(argv)
    results = run_load(
        args.db, clients=args.clients, seconds=args.seconds, requests=args.requests,
        seed=args.seed, workers=args.workers,
    )  # fmt: skip
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    text = render(results)
    out.with_suffix(".txt").write_text(text + "\n")
    print(text)
    print(f"results written to {out}")


if __name__ == "__main__":
    main()
