"""The benchmark's measurements: stores, imports, the raw baseline, reads, queries, appends.

``run_benchmark(...)`` runs them all and returns every figure (what ``--out`` writes).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from bench.generator import AUTHORITY_WEIGHTS, END, START, GenerationInfo, generate
from bench.readside import measure_rows_read, read_model_size
from bench.report import targets
from bench.table15 import measure_table
from ledger import Ledger
from ledger.store import EVENTS_TABLE, Database
from projections import Views
from projections.time import KnownAt

# --------------------------------------------------------------------------- stores


@dataclass
class Store:
    """One ledger for the benchmark: its URL, and how to remove it."""

    url: str
    kind: str
    schema: str | None = None
    path: Path | None = None

    def drop(self) -> None:
        if self.kind == "postgresql" and self.schema:
            drop_schema(self.url, self.schema)


def pg_conninfo(url: str) -> str:
    db = Database.parse(url)
    auth = db.user + (f":{db.password}" if db.password else "")
    return f"postgresql://{auth}@{db.host}:{db.port}/{db.dbname}"


def drop_schema(url: str, schema: str) -> None:
    with psycopg.connect(pg_conninfo(url), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


@contextmanager
def stores(db: str, workdir: Path, names: list[str]) -> Iterator[dict[str, Store]]:
    """Fresh, empty ledgers, one per name; PostgreSQL schemas are dropped on exit."""
    made: dict[str, Store] = {}
    try:
        if db == "sqlite" or db.startswith("sqlite:"):
            for name in names:
                path = workdir / f"{name}.db"
                for p in workdir.glob(f"{name}.db*"):
                    p.unlink()
                made[name] = Store(f"sqlite:///{path}", "sqlite", path=path)
        elif db.startswith(("postgresql:", "postgres:")):
            base = db.split("?")[0]
            tag = uuid.uuid4().hex[:8]
            for name in names:
                schema = f"bench_{tag}_{name}"
                made[name] = Store(f"{base}?schema={schema}", "postgresql", schema=schema)
        else:
            raise SystemExit(f"--db must be 'sqlite' or a postgresql:// URL, not {db!r}")
        yield made
    finally:
        for store in made.values():
            store.drop()


# --------------------------------------------------------------------------- measurements


def sanctions_command() -> str:
    found = shutil.which("sanctions", path=str(Path(sys.executable).parent))
    return found or "sanctions"


@dataclass
class ChildRun:
    seconds: float
    cpu_seconds: float
    returncode: int
    peak_rss_mb: float
    stdout: str
    stderr: str


def _vm_hwm_kb(pid: int) -> int | None:
    """The process's own peak RSS (``VmHWM``), or None once it has exited."""
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            for line in f:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None  # a zombie has no memory lines


def run_child(args: list[str], workdir: Path) -> ChildRun:
    """Run a command; its wall time, CPU time and its own peak RSS.

    The peak is the child's ``VmHWM``, read every 20 ms while it runs. ``wait4``'s
    ``ru_maxrss`` is not used: Linux carries the parent's high-water mark into the child
    across fork and exec, so it reported this benchmark's own ~280 MB (the generator's
    peak) instead of the command's.
    """
    out, err = workdir / "child.out", workdir / "child.err"
    peak_kb = 0
    done = threading.Event()

    def watch(pid: int) -> None:
        nonlocal peak_kb
        while not done.is_set():
            kb = _vm_hwm_kb(pid)
            if kb is None:
                return
            peak_kb = max(peak_kb, kb)
            done.wait(0.02)

    with out.open("wb") as fo, err.open("wb") as fe:
        started = time.perf_counter()
        proc = subprocess.Popen(args, stdout=fo, stderr=fe, stdin=subprocess.DEVNULL)
        watcher = threading.Thread(target=watch, args=(proc.pid,), daemon=True)
        watcher.start()
        # Wait without reaping, so the watcher never reads a reused pid.
        os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)
        done.set()
        watcher.join()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    return ChildRun(
        seconds,
        usage.ru_utime + usage.ru_stime,
        proc.returncode,
        peak_kb / 1024,
        out.read_text(errors="replace"),
        err.read_text(errors="replace"),
    )


def sanctions(url: str, workdir: Path, *args: str) -> ChildRun:
    run = run_child([sanctions_command(), "--db", url, "--by", "bench", *args], workdir)
    if run.returncode != 0:
        raise RuntimeError(f"sanctions {' '.join(args)} failed: {run.stderr.strip()[-2000:]}")
    return run


def rate(events: int, seconds: float) -> float:
    return events / seconds if seconds > 0 else float("inf")


def measure_import(store: Store, path: Path, events: int, workdir: Path) -> dict[str, Any]:
    sanctions(store.url, workdir, "init")  # untimed: the import is into an empty ledger
    run = sanctions(store.url, workdir, "import", str(path))
    ledger = Ledger(store.url)
    views = Views(ledger)
    try:
        head = ledger.recorder.max_notification_id() or 0
        projected = views.position()
    finally:
        views.close()
        ledger.close()
    return {
        "seconds": run.seconds,
        "cpu_seconds": run.cpu_seconds,
        "events_per_s": rate(events, run.seconds),
        "peak_rss_mb": run.peak_rss_mb,
        "head": head,
        "projections_position": projected,
        "projections_current": projected == head == events,
        "output": run.stdout.strip(),
    }


RAW_COLUMNS = "position, originator_id, originator_version, topic, state, recorded_at, digest"
CHUNK = 20_000


def ledger_rows(store: Store) -> Iterator[list[tuple[Any, ...]]]:
    """The stored rows of the ledger, in chunks, in order of position."""
    if store.kind == "sqlite":
        assert store.path is not None
        conn = sqlite3.connect(store.path)
        try:
            cur = conn.execute(
                f"SELECT {RAW_COLUMNS} FROM {EVENTS_TABLE} ORDER BY position"  # noqa: S608
            )
            while rows := cur.fetchmany(CHUNK):
                yield rows
        finally:
            conn.close()
        return
    assert store.schema is not None
    with psycopg.connect(pg_conninfo(store.url)) as conn, conn.cursor(name="rows") as cur:
        cur.execute(
            sql.SQL("SELECT {cols} FROM {schema}.{table} ORDER BY position").format(
                cols=sql.SQL(RAW_COLUMNS),
                schema=sql.Identifier(store.schema),
                table=sql.Identifier(EVENTS_TABLE),
            )
        )
        while rows := cur.fetchmany(CHUNK):
            yield rows


def raw_sqlite(store: Store, workdir: Path) -> dict[str, Any]:
    """``executemany`` of the stored rows into a bare table in a fresh SQLite file."""
    path = workdir / "raw.db"
    for p in workdir.glob("raw.db*"):
        p.unlink()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute(
        "CREATE TABLE events (position INTEGER PRIMARY KEY, originator_id TEXT NOT NULL, "
        "originator_version INTEGER NOT NULL, topic TEXT NOT NULL, state BLOB NOT NULL, "
        "recorded_at TEXT NOT NULL, digest TEXT NOT NULL, "
        "UNIQUE (originator_id, originator_version))"
    )
    seconds, count = 0.0, 0
    conn.execute("BEGIN")
    for rows in ledger_rows(store):
        started = time.perf_counter()
        conn.executemany("INSERT INTO events VALUES (?,?,?,?,?,?,?)", rows)
        seconds += time.perf_counter() - started
        count += len(rows)
    started = time.perf_counter()
    conn.execute("COMMIT")
    seconds += time.perf_counter() - started
    conn.close()
    for p in workdir.glob("raw.db*"):
        p.unlink()
    return {"events": count, "seconds": seconds, "events_per_s": rate(count, seconds)}


def raw_postgres(store: Store) -> dict[str, Any]:
    """psycopg ``executemany`` and ``COPY`` of the stored rows into bare tables."""
    schema = f"{store.schema}_raw"
    results: dict[str, Any] = {}
    try:
        with psycopg.connect(pg_conninfo(store.url), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
            for method in ("executemany", "copy"):
                table = sql.Identifier(schema, f"events_{method}")
                conn.execute(
                    sql.SQL(
                        "CREATE TABLE {} (position bigint PRIMARY KEY, originator_id uuid NOT "
                        "NULL, originator_version bigint NOT NULL, topic text NOT NULL, "
                        "state bytea NOT NULL, recorded_at timestamptz NOT NULL, digest text "
                        "NOT NULL, UNIQUE (originator_id, originator_version))"
                    ).format(table)
                )
                insert = sql.SQL("INSERT INTO {} VALUES (%s,%s,%s,%s,%s,%s,%s)").format(table)
                copy = sql.SQL("COPY {} ({}) FROM STDIN").format(table, sql.SQL(RAW_COLUMNS))
                seconds, count = 0.0, 0
                with conn.transaction(), conn.cursor() as cur:
                    for rows in ledger_rows(store):
                        started = time.perf_counter()
                        if method == "executemany":
                            cur.executemany(insert, rows)
                        else:
                            with cur.copy(copy) as cp:
                                for row in rows:
                                    cp.write_row(row)
                        seconds += time.perf_counter() - started
                        count += len(rows)
                    started = time.perf_counter()
                seconds += time.perf_counter() - started  # the commit
                results[method] = {
                    "events": count,
                    "seconds": seconds,
                    "events_per_s": rate(count, seconds),
                }
    finally:
        drop_schema(store.url, schema)
    return results


def measure_raw(store: Store, workdir: Path) -> dict[str, Any]:
    if store.kind == "sqlite":
        result = {"sqlite_executemany": raw_sqlite(store, workdir)}
    else:
        pg = raw_postgres(store)
        result = {f"postgresql_{k}": v for k, v in pg.items()}
    best = max(result, key=lambda k: result[k]["events_per_s"])
    return {**result, "baseline": best, "events_per_s": result[best]["events_per_s"]}


def measure_read(store: Store) -> dict[str, Any]:
    ledger = Ledger(store.url)
    try:
        started, cpu = time.perf_counter(), time.process_time()
        count = sum(1 for _ in ledger.read_log())
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    finally:
        ledger.close()
    return {
        "events": count,
        "seconds": seconds,
        "cpu_seconds": cpu,
        "events_per_s": rate(count, seconds),
    }


def measure_rebuild(store: Store, events: int, workdir: Path) -> dict[str, Any]:
    run = sanctions(store.url, workdir, "rebuild")
    return {
        "seconds": run.seconds,
        "cpu_seconds": run.cpu_seconds,
        "events_per_s": rate(events, run.seconds),
        "peak_rss_mb": run.peak_rss_mb,
        "output": run.stdout.strip(),
    }


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def random_day(rng: random.Random) -> date:
    return date.fromordinal(rng.randint(START.toordinal(), END.toordinal()))


def measure_queries(store: Store, info: GenerationInfo, count: int, seed: int) -> dict[str, Any]:
    """Latency of ``show`` and ``listings``, with and without ``known_at``, in-process."""
    rng = random.Random(seed)
    ledger = Ledger(store.url)
    views = Views(ledger)
    head = views.position()
    subjects = info.sample_subjects
    authorities = list(AUTHORITY_WEIGHTS)
    kinds: dict[str, Callable[[], Any]] = {
        "show": lambda: views.show(rng.choice(subjects)[0], at=random_day(rng)),
        "show_known_at": lambda: _show_known(views, rng, subjects, head),
        "list": lambda: views.listings(authority=rng.choice(authorities), at=random_day(rng)),
        "list_known_at": lambda: views.listings(
            authority=rng.choice(authorities),
            at=random_day(rng),
            known_at=KnownAt(position=rng.randint(1, head)),
        ),
        "diff": lambda: _diff_month(views, rng),
    }
    results: dict[str, Any] = {}
    try:
        for name, call in kinds.items():
            call()  # warm up: connections, statement caches
            times, rows = [], 0
            for _ in range(count):
                started = time.perf_counter()
                answer = call()
                times.append((time.perf_counter() - started) * 1000)
                rows += len(answer.designations) if hasattr(answer, "designations") else len(answer)
            results[name] = {
                "p50_ms": percentile(times, 0.50),
                "p95_ms": percentile(times, 0.95),
                "mean_rows": rows / count,
                "us_per_row": 1000 * sum(times) / rows if rows else None,
            }
    finally:
        views.close()
        ledger.close()
    return results


def _diff_month(views: Views, rng: random.Random) -> Any:
    """``diff`` of every authority over 30 days (per returned row: flat in the ledger's size)."""
    start = random_day(rng)
    return views.diff(start, start + timedelta(days=30))


def _show_known(
    views: Views, rng: random.Random, subjects: list[tuple[str, int]], head: int
) -> Any:
    subject, registered = rng.choice(subjects)
    return views.show(
        subject, at=random_day(rng), known_at=KnownAt(position=rng.randint(registered, head))
    )


def measure_appends(
    small: Store,
    full: Store,
    info_small: GenerationInfo,
    info_full: GenerationInfo,
    repeats: int,
    workdir: Path,
) -> dict[str, Any]:
    """One ``sanctions designate`` as a child process, alternating between the ledgers.

    ``sanctions head`` (start-up, one indexed read) is timed alongside, as the floor of any
    CLI command on that ledger.
    """
    runs: dict[str, list[ChildRun]] = {"small": [], "full": [], "small_head": [], "full_head": []}
    today = datetime.now(UTC).date().isoformat()
    for i in range(repeats):
        for name, store, info in (("small", small, info_small), ("full", full, info_full)):
            runs[f"{name}_head"].append(sanctions(store.url, workdir, "head"))
            designate = ["designate", info.append_subject, "--authority", "UN"]
            designate += ["--regime", f"Bench append {i}", "--effective", today]
            runs[name].append(sanctions(store.url, workdir, *designate, "--measure", "other"))

    def median_ms(name: str, cpu: bool = False) -> float:
        return 1000 * statistics.median(r.cpu_seconds if cpu else r.seconds for r in runs[name])

    result: dict[str, Any] = {
        "small_ms": [round(r.seconds * 1000, 1) for r in runs["small"]],
        "full_ms": [round(r.seconds * 1000, 1) for r in runs["full"]],
    }
    for name in runs:
        result[f"{name}_median_ms"] = median_ms(name)
        result[f"{name}_median_cpu_ms"] = median_ms(name, cpu=True)
    result["ratio"] = result["full_median_ms"] / result["small_median_ms"]
    result["ratio_cpu"] = result["full_median_cpu_ms"] / result["small_median_cpu_ms"]
    return result


def digest_of(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def count_rows(store: Store) -> int:
    if store.kind == "sqlite":
        assert store.path is not None
        with sqlite3.connect(store.path) as conn:
            return int(conn.execute(f"SELECT count(*) FROM {EVENTS_TABLE}").fetchone()[0])  # noqa: S608
    with psycopg.connect(pg_conninfo(store.url)) as conn:
        row = conn.execute(
            sql.SQL("SELECT count(*) FROM {}").format(
                sql.Identifier(store.schema or "", EVENTS_TABLE)
            )
        ).fetchone()
        return int(row[0]) if row else 0


def probe_answers(store: Store, info: GenerationInfo, seed: int) -> dict[str, Any]:
    """Answers to fixed probes, as digests: equal answers on two stores give equal digests."""
    rng = random.Random(seed + 1)
    ledger = Ledger(store.url)
    views = Views(ledger)
    try:
        head = ledger.head()[0]
        count = count_rows(store)
        probes: list[dict[str, Any]] = []
        for authority in ("US-OFAC", "EU", "UK", "UN", "CA", "UA"):
            for known in (head // 3, 2 * head // 3, head):
                day = random_day(rng)
                answer = [
                    (
                        x.subject_id,
                        x.authority,
                        x.regime,
                        x.measures,
                        x.listed_from,
                        x.listed_until,
                        x.legal_act,
                    )
                    for x in views.listings(
                        authority=authority, at=day, known_at=KnownAt(position=known)
                    )
                ]
                probes.append(
                    {
                        "query": f"listings authority={authority} at={day} known_at={known}",
                        "rows": len(answer),
                        "digest": digest_of(answer),
                    }
                )
        for subject, registered in info.sample_subjects[:5]:
            day = random_day(rng)
            report = views.show(subject, at=day, known_at=KnownAt(position=head))
            answer = [
                (x.authority, x.regime, x.measures, x.listed_from, x.listed_until)
                for x in report.designations
            ]
            probes.append(
                {
                    "query": f"show {subject} at={day} (registered at {registered})",
                    "rows": len(answer),
                    "digest": digest_of(answer),
                }
            )
        return {"events": count, "head": head, "probes": probes}
    finally:
        views.close()
        ledger.close()


# --------------------------------------------------------------------------- the run


def log(message: str) -> None:
    stamp = datetime.now().strftime("%H:%M:%S")
    print(f"[{stamp}] {message}", file=sys.stderr, flush=True)


def environment(db: str) -> dict[str, Any]:
    info: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "sqlite": sqlite3.sqlite_version,
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_average_at_start": os.getloadavg(),
    }
    try:
        repo = str(Path(__file__).resolve().parent.parent)

        def git(*args: str) -> str:
            done = subprocess.run(["git", "-C", repo, *args], capture_output=True, text=True)
            done.check_returncode()
            return done.stdout.strip()

        commit = git("rev-parse", "--short", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
        info["commit"] = commit + ("+uncommitted changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        pass
    if db.startswith("postgres"):
        with psycopg.connect(pg_conninfo(db)) as conn:
            row = conn.execute("SHOW server_version").fetchone()
            info["postgresql"] = row[0] if row else None
    return info


def run_benchmark(
    *,
    events: int = 1_000_000,
    seed: int = 7,
    db: str = "sqlite",
    small: int = 10_000,
    queries: int = 200,
    repeats: int = 5,
    workdir: Path | None = None,
    search_queries: int = 20,
) -> dict[str, Any]:
    """The whole benchmark; returns every figure (what ``--out`` writes)."""
    own_dir = workdir is None
    work = Path(tempfile.mkdtemp(prefix="sanctions-bench-")) if workdir is None else workdir
    work.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {
        "config": {
            "events": events,
            "seed": seed,
            "small": small,
            "queries": queries,
            "repeats": repeats,
            "search_queries": search_queries,
            "store": "sqlite" if db.startswith("sqlite") else "postgresql",
        },
        "environment": environment(db),
    }
    try:
        log(f"generating {events:,} events (seed {seed}) and {small:,} small")
        full_info = generate(work / "full.jsonl", events, seed)
        small_info = generate(work / "small.jsonl", small, seed)
        results["generation"] = {"full": full_info.as_dict(), "small": small_info.as_dict()}
        log(f"generated in {full_info.seconds:.1f} s ({full_info.bytes / 1e6:.0f} MB)")
        with stores(db, work, ["full", "small"]) as made:
            full, little = made["full"], made["small"]
            log("importing the full history (sanctions import)")
            results["import"] = measure_import(full, work / "full.jsonl", events, work)
            log(f"imported: {results['import']['events_per_s']:,.0f} events/s")
            results["import_small"] = measure_import(little, work / "small.jsonl", small, work)
            log("raw insert of the same rows")
            raw = measure_raw(full, work)
            results["raw_insert"] = raw
            results["import"]["ratio_to_raw"] = (
                results["import"]["events_per_s"] / raw["events_per_s"]
            )
            log("reading the log")
            results["read_log"] = measure_read(full)
            log("rebuilding (sanctions rebuild)")
            results["rebuild"] = measure_rebuild(full, events, work)
            results["rebuild"]["ratio_to_read"] = (
                results["rebuild"]["events_per_s"] / results["read_log"]["events_per_s"]
            )
            log("probes and queries")
            results["consistency"] = probe_answers(full, full_info, seed)
            results["consistency_small"] = probe_answers(little, small_info, seed)
            q_small = measure_queries(little, small_info, queries, seed)
            q_full = measure_queries(full, full_info, queries, seed)
            results["queries"] = {
                name: {
                    "small": q_small[name],
                    "full": q_full[name],
                    "ratio_p50": q_full[name]["p50_ms"] / q_small[name]["p50_ms"],
                    "ratio_p95": q_full[name]["p95_ms"] / q_small[name]["p95_ms"],
                }
                for name in q_small
            }
            log("list rows read, diff, search, retract, start-up (issue 15)")
            results["table15"] = measure_table(
                little.url,
                full.url,
                [sid for sid, _ in small_info.sample_subjects],
                [sid for sid, _ in full_info.sample_subjects],
                queries=queries,
                search_queries=search_queries,
                repeats=repeats,
                seed=seed,
            )
            log("rows read by a list, and the read model's size")
            results["rows_read"] = {
                "small": measure_rows_read(little.url, queries, seed),
                "full": measure_rows_read(full.url, queries, seed),
            }
            results["read_model"] = {
                "small": read_model_size(little.url),
                "full": read_model_size(full.url),
            }
            log("CLI appends")
            results["append"] = measure_appends(little, full, small_info, full_info, repeats, work)
        results["targets"] = targets(results)
        results["environment"]["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
        results["environment"]["load_average_at_end"] = os.getloadavg()
        return results
    finally:
        if own_dir:
            shutil.rmtree(work, ignore_errors=True)
        else:
            for name in ("full.jsonl", "small.jsonl", "child.out", "child.err"):
                (work / name).unlink(missing_ok=True)
