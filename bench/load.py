"""Load run of ``sanctions serve``: concurrent clients against a ledger's subject and list
endpoints, on 127.0.0.1 only, bounded in requests and in time.

It starts ``sanctions --db URL serve --port 0 --workers N`` (the installed command, a child
process), samples subject ids and authorities from the ledger through the API, then runs each
scenario with ``--clients`` concurrent keep-alive connections until ``--seconds`` pass or
``--requests`` are made. It reports requests per second, p50, p95 and p99 latency, the errors
(any status but 200, or a failed connection), and the CPU time the server and the clients
spent per request, and writes them as JSON (``--out``) and text.

    .venv/bin/python bench/load.py --db sqlite:///big.db --clients 16 --seconds 30

The clients share the machine with the server. ``--client wrk`` (the default when ``wrk`` is
installed: Debian's package) generates the load from C at a fraction of a millisecond of CPU a
request; ``--client python`` runs one thread a client in this process, which on a small machine
takes CPU from the server (its cost is reported). The first scenario, ``GET /api/head``, is the
floor: what the machine gives a request that does almost nothing, in the same run.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
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
def server(db: str, workers: int = 1) -> Iterator[tuple[str, int, int]]:
    """``sanctions serve`` on a free port of 127.0.0.1; yields (host, port, its process id)."""
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
        yield "127.0.0.1", port, proc.pid
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


def cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) of a process and its descendants (the server's workers), from
    /proc; None where there is no /proc."""
    stats: dict[int, tuple[int, float]] = {}  # pid -> (parent, seconds)
    tick = os.sysconf("SC_CLK_TCK")
    try:
        entries = os.listdir("/proc")
    except OSError:
        return None
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        stats[int(entry)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick)
    if pid not in stats:
        return None
    family, total, grew = {pid}, 0.0, True
    while grew:
        grew = False
        for child, (parent, _) in stats.items():
            if parent in family and child not in family:
                family.add(child)
                grew = True
    for member in family:
        total += stats[member][1]
    return total


def figures(latencies_ms: list[float], wall: float, errors: list[str]) -> dict[str, Any]:
    ms = sorted(latencies_ms)

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


def run_scenario(
    host: str,
    port: int,
    paths: Callable[[random.Random], str],
    clients: int,
    seconds: float,
    requests: int,
    seed: int,
) -> dict[str, Any]:
    """``clients`` threads of this process asking ``paths`` until the time or the request
    budget runs out."""
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
                latencies.append(took * 1000)
                if status != 200:
                    errors.append(error)
        conn.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    cpu = time.process_time()
    start.wait()
    began = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - began
    result = figures(latencies, wall, errors)
    result["client_cpu_s"] = round(time.process_time() - cpu, 2)
    return result


WRK_SCRIPT = """
-- Each request takes a path at random from the file; statuses other than 200 are counted,
-- and each thread stops after its share of the request budget.
local threads, paths = {}, {}
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end
function init(args)
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
  math.randomseed(tonumber(args[2]) + id)
  budget, count, bad, first_bad = tonumber(args[3]), 0, 0, ""
end
function request()
  return wrk.format("GET", paths[math.random(#paths)])
end
function response(status, headers, body)
  count = count + 1
  if status ~= 200 then
    bad = bad + 1
    if first_bad == "" then first_bad = tostring(status) end
  end
  if count >= budget then wrk.thread:stop() end
end
function done(summary, latency, requests)
  local bad_total, first = 0, ""
  for _, t in ipairs(threads) do
    bad_total = bad_total + t:get("bad")
    if first == "" then first = t:get("first_bad") end
  end
  local e = summary.errors
  io.write(string.format(
    'WRK {"requests": %d, "us": %d, "p50": %d, "p95": %d, "p99": %d, "mean": %f, '
    .. '"bad_status": %d, "first_bad": "%s", "connect": %d, "read": %d, "write": %d, '
    .. '"timeout": %d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.mean, bad_total, first, e.connect, e.read, e.write,
    e.timeout))
end
"""


def run_wrk(
    host: str,
    port: int,
    paths: Callable[[random.Random], str],
    clients: int,
    seconds: float,
    requests: int,
    seed: int,
) -> dict[str, Any]:
    """The same scenario driven by ``wrk`` (C, epoll): 2 threads, ``clients`` connections,
    paths drawn at random from ones made here in advance."""
    rng = random.Random(seed)
    threads = min(2, clients)
    with tempfile.TemporaryDirectory(prefix="sanctions-load-") as folder:
        script, listing = Path(folder, "paths.lua"), Path(folder, "paths.txt")
        script.write_text(WRK_SCRIPT)
        listing.write_text("".join(paths(rng) + "\n" for _ in range(min(requests, 50_000))))
        command = [
            "wrk", f"-t{threads}", f"-c{clients}", f"-d{max(1, round(seconds))}s",
            "--timeout", "60s", "-s", str(script), f"http://{host}:{port}",
            "--", str(listing), str(seed), str(-(-requests // threads)),
        ]  # fmt: skip
        # wrk's own CPU time: what this process's finished children spent meanwhile.
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        proc = subprocess.run(command, capture_output=True, text=True, check=False)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    out, err = proc.stdout, proc.stderr
    found = re.search(r"^WRK (\{.*\})$", out, re.MULTILINE)
    if proc.returncode != 0 or not found:
        raise SystemExit(f"wrk failed ({proc.returncode}): {err or out}")
    w = json.loads(found.group(1))
    failed = w["connect"] + w["read"] + w["write"] + w["timeout"]
    errors = [f"status {w['first_bad']}"] * w["bad_status"] + ["connection error"] * failed
    wall = w["us"] / 1e6
    result = figures([], wall, errors)
    result.update(
        requests=w["requests"],
        requests_per_s=round(w["requests"] / wall, 1) if wall else 0.0,
        p50_ms=round(w["p50"] / 1000, 1),
        p95_ms=round(w["p95"] / 1000, 1),
        p99_ms=round(w["p99"] / 1000, 1),
        mean_ms=round(w["mean"] / 1000, 1),
        client_cpu_s=round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 2),
    )
    return result


CLIENTS = {"python": run_scenario, "wrk": run_wrk}


def default_client() -> str:
    return "wrk" if shutil.which("wrk") else "python"


SUBJECT = "subject (GET /api/subjects/{id})"
FLOOR = "floor (GET /api/head)"


def run_load(
    db: str,
    *,
    clients: int = 16,
    seconds: float = 30.0,
    requests: int = 20_000,
    seed: int = 7,
    workers: int = 1,
    client: str | None = None,
    only: list[str] | None = None,
) -> dict[str, Any]:
    """Every scenario (or those whose names start with one of ``only``) against
    ``sanctions serve`` on ``db``."""
    client = client or default_client()
    run = CLIENTS[client]
    rng = random.Random(seed)
    results: dict[str, Any] = {
        "config": {"db": db, "clients": clients, "seconds": seconds, "requests": requests,
                   "seed": seed, "workers": workers, "client": client},
        "environment": {
            "python": platform.python_version(),
            "machine": platform.machine(),
            "cpus": os.cpu_count(),
            "load_average_at_start": os.getloadavg(),
            "started": datetime.now(UTC).isoformat(timespec="seconds"),
        },
    }  # fmt: skip
    with server(db, workers) as (host, port, pid):
        _, body = get(host, port, "/api/head")
        results["head"] = json.loads(body)
        subjects, authorities = sample(host, port, 5000, seed)
        results["sample"] = {"subjects": len(set(subjects)), "authorities": authorities}
        first = date(2000, 1, 1)

        def a_day(r: random.Random) -> str:
            return (first + timedelta(days=r.randrange(9000))).isoformat()

        scenarios: dict[str, Callable[[random.Random], str]] = {
            FLOOR: lambda r: "/api/head",
            SUBJECT: lambda r: (
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
            if only and not any(name.startswith(prefix) for prefix in only):
                continue
            print(f"load: {name}, {clients} clients ({client}), {seconds:g} s", file=sys.stderr)
            load = os.getloadavg()[0]
            server_cpu = cpu_seconds(pid)
            figures_ = run(host, port, paths, clients, seconds, requests, rng.randrange(1 << 30))
            spent = cpu_seconds(pid)
            n = figures_["requests"] or 1
            figures_["server_cpu_ms_per_request"] = (
                round(1000 * (spent - server_cpu) / n, 2)
                if spent is not None and server_cpu is not None
                else None
            )
            client_cpu = figures_.get("client_cpu_s")
            figures_["client_cpu_ms_per_request"] = (
                round(1000 * client_cpu / n, 2) if client_cpu is not None else None
            )
            figures_["load_average_before"] = round(load, 1)
            results["scenarios"][name] = figures_
    scenarios_run = results["scenarios"]
    results["targets"] = []
    if SUBJECT in scenarios_run:
        p95 = scenarios_run[SUBJECT]["p95_ms"]
        results["targets"].append(
            {"target": "subject p95 <= 100 ms", "value": p95, "met": p95 <= TARGET_SUBJECT_P95_MS}
        )
    results["targets"].append(
        {"target": "no errors", "value": sum(s["errors"] for s in scenarios_run.values()),
         "met": all(s["errors"] == 0 for s in scenarios_run.values())},
    )  # fmt: skip
    results["environment"]["load_average_at_end"] = os.getloadavg()
    return results


def render(results: dict[str, Any]) -> str:
    c = results["config"]
    lines = [
        f"sanctions serve --workers {c['workers']} under load: {c['clients']} clients "
        f"({c['client']}) on 127.0.0.1, up to {c['seconds']:g} s or {c['requests']:,} requests "
        f"per scenario; ledger head {results['head']['position']:,}",
        "",
        f"{'scenario':50} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} "
        f"{'requests':>8} {'errors':>6} {'server':>7} {'client':>7} {'load':>5}",
    ]

    def ms(value: float | None) -> str:
        return f"{value:7.2f}" if value is not None else f"{'-':>7}"

    for name, s in results["scenarios"].items():
        lines.append(
            f"{name:50} {s['requests_per_s']:7.1f} {s['p50_ms']:7.1f} {s['p95_ms']:7.1f} "
            f"{s['p99_ms']:7.1f} {s['requests']:8,} {s['errors']:6} "
            f"{ms(s['server_cpu_ms_per_request'])} {ms(s['client_cpu_ms_per_request'])} "
            f"{s['load_average_before']:5.1f}"
        )
    lines.append(
        "(server, client: CPU ms a request, the server's processes and the load generator's; "
        "load: the 1-minute load average as the scenario began)"
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
    parser.add_argument(
        "--client", choices=sorted(CLIENTS), default=None,
        help="the load generator (default: wrk when installed, else python)",
    )  # fmt: skip
    parser.add_argument(
        "--only", action="append", default=None,
        help="run only the scenarios whose names start with this (repeatable: floor, subject)",
    )  # fmt: skip
    parser.add_argument("--out", default="bench/results/serve-load.json")
    args = parser.parse_args(argv)
    results = run_load(
        args.db, clients=args.clients, seconds=args.seconds, requests=args.requests,
        seed=args.seed, workers=args.workers, client=args.client, only=args.only,
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
