"""Crashes and concurrent writers: whole batches or nothing, no event lost or duplicated.

Real processes on real stores: an import is killed (SIGKILL) at each of its phases, then at
random moments;
several writer processes append to one SQLite file or one PostgreSQL database at once.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.interrupts import PAUSE_ENV
from cli.main import cli
from ledger import Ledger
from ledger.application import IMPORT_CHUNK
from projections import Views
from projections.integrity import verify

ROOT = Path(__file__).resolve().parent.parent
RANDOM_KILLS = int(os.environ.get("SANCTIONS_CRASH_KILLS", "4"))
"""Kills at random moments, after the kills at each phase of an import."""
MID_BATCH = IMPORT_CHUNK + 100
PHASES = [
    ("loading", False),  # before anything is opened: the libraries load
    ("checked:1", False),  # the write transaction began, the first line checked
    (f"checked:{MID_BATCH}", False),  # mid-batch: a chunk and its rows written, uncommitted
    ("committed", True),  # committed with its projection rows (the bulk path)
]
"""Where the test hook (``SANCTIONS_TEST_PAUSE``) stops the import for its kill, and whether
the batch is in the ledger afterwards."""


def sanctions(url: str, *args: str, pause: str | None = None) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k != PAUSE_ENV}
    if pause is not None:
        env[PAUSE_ENV] = pause
    return subprocess.Popen(
        [sys.executable, "-c", "from cli.main import main; main()", "--db", url, *args],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )


def wait_for_pause(process: subprocess.Popen[bytes]) -> None:
    """Standard error up to the hook's line; the process then waits there for its kill."""
    assert process.stderr is not None
    seen = b""
    while line := process.stderr.readline():
        seen += line
        if line.startswith(b"paused at "):
            return
    raise AssertionError(f"never paused (exit {process.wait(timeout=30)}): {seen!r}")


def write_import(path: Path, prefix: str, subjects: int) -> int:
    """A JSON Lines file of new subjects, each designated: two events a subject."""
    with path.open("w") as f:
        for i in range(subjects):
            sid = f"{prefix}-{i}"
            f.write(
                json.dumps(
                    {
                        "type": "subject_registered",
                        "data": {"id": sid, "name": f"Person {prefix} {i}"},
                    }
                )
                + "\n"
            )
            f.write(
                json.dumps(
                    {
                        "type": "designated",
                        "data": {
                            "subject": sid,
                            "authority": "EU",
                            "regime": "Test regime",
                            "effective": "2021-03-02",
                            "measures": ["asset-freeze"],
                        },
                    }
                )
                + "\n"
            )
    return 2 * subjects


def head(url: str) -> int:
    ledger = Ledger(url)
    try:
        return ledger.head()[0]
    finally:
        ledger.close()


def check_consistent(url: str) -> None:
    ledger = Ledger(url)
    views = Views(ledger)
    try:
        verify(views)  # chain, positions, record times, projections == rebuild
    finally:
        views.close()
        ledger.close()


def test_killed_imports_leave_the_whole_batch_or_none_of_it(db_url: str, tmp_path: Path) -> None:
    rng = random.Random(20210302)
    size = 500
    # One unkilled run measures how long an import takes here.
    path = tmp_path / "first.jsonl"
    write_import(path, "first", size)
    started = time.monotonic()
    done = sanctions(db_url, "import", str(path))
    assert done.wait(timeout=300) == 0, done.stderr.read() if done.stderr else ""
    duration = time.monotonic() - started
    listed = size  # subjects designated by the batches in the ledger
    # kill -9 where the hook pauses each phase: the outcome is known.
    for n, (pause, kept) in enumerate(PHASES):
        # Mid-batch needs more lines than the pause's count: more than a chunk of writes.
        subjects = MID_BATCH // 2 + 50 if pause == f"checked:{MID_BATCH}" else size // 5
        path = tmp_path / f"phase{n}.jsonl"
        events = write_import(path, f"p{n}", subjects)
        before = head(db_url)
        process = sanctions(db_url, "import", str(path), pause=pause)
        wait_for_pause(process)
        process.kill()
        assert process.wait(timeout=30) == -signal.SIGKILL
        assert head(db_url) == (before + events if kept else before), pause
        listed += subjects if kept else 0
        check_consistent(db_url)
    # Then at random moments of an import, the whole batch or none of it.
    outcomes: Counter[str] = Counter()
    for kill in range(RANDOM_KILLS):
        path = tmp_path / f"kill{kill}.jsonl"
        events = write_import(path, f"k{kill}", size)
        before = head(db_url)
        process = sanctions(db_url, "import", str(path))
        time.sleep(rng.uniform(0.2, 1.1) * duration)
        process.kill()
        process.wait()
        after = head(db_url)
        assert after in (before, before + events), (before, after)
        outcomes["all" if after == before + events else "none"] += 1
        listed += size if after == before + events else 0
        check_consistent(db_url)
    print(f"{RANDOM_KILLS} random kills on {db_url.split(':')[0]}: {dict(outcomes)}")
    # The ledger still takes appends and answers questions afterwards.
    result = CliRunner().invoke(
        cli, ["--db", db_url, "list", "--authority", "EU", "--at", "2021-03-03", "--format", "json"]
    )
    assert result.exit_code == 0
    assert len(json.loads(result.output)) == listed


WRITER = textwrap.dedent("""
    import sys, time
    from datetime import date
    from ledger import Ledger
    from projections import Views
    url, name, count, start = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    ledger = Ledger(url, user=name)
    views = Views(ledger)
    time.sleep(max(0.0, start - time.time()))
    for i in range(count):
        sid = f"{name}-{i}"
        ledger.register_subject(f"Writer {name} subject {i}", subject_id=sid)
        views.catch_up()
        ledger.designate(sid, authority="UK", regime="Concurrency", effective=date(2021, 1, 1),
                         measures=["asset-freeze"])
        views.catch_up()
""")


def test_concurrent_writers_lose_and_duplicate_nothing(db_url: str) -> None:
    writers, each = 4, 25
    Views(Ledger(db_url)).close()  # create the tables once, as a first command would
    start = time.time() + 2.0
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, db_url, f"w{n}", str(each), str(start)],
            cwd=ROOT,
            stderr=subprocess.PIPE,
        )
        for n in range(writers)
    ]
    for p in processes:
        assert p.wait(timeout=300) == 0, p.stderr.read() if p.stderr else ""
    ledger = Ledger(db_url)
    log = list(ledger.read_log())
    assert [e.position for e in log] == list(range(1, writers * each * 2 + 1))
    by_writer = Counter(e.recorded_by for e in log)
    assert by_writer == {f"w{n}": each * 2 for n in range(writers)}
    # interleaved, not serialised per process: the writers really ran at the same time
    assert len({e.recorded_by for e in log[: each * 2]}) > 1
    check_consistent(db_url)
    views = Views(ledger)
    assert len(views.listings(authority="UK", at=date(2021, 6, 1))) == writers * each
    views.close()


def test_conflicting_writers_on_one_designation_are_refused_not_swallowed(db_url: str) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["--db", db_url, "subject", "add", "Igor Krasnov"]).exit_code == 0
    contenders = 4
    start = time.time() + 2.0
    script = textwrap.dedent("""
        import sys, time
        from cli.main import main
        start = float(sys.argv.pop(1))
        time.sleep(max(0.0, start - time.time()))
        main()
    """)
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                script,
                str(start),
                "--db",
                db_url,
                "designate",
                "igor-krasnov",
                "--authority",
                "EU",
                "--regime",
                "GHR",
                "--effective",
                "2021-03-02",
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(contenders)
    ]
    results = [
        (p.wait(timeout=120), p.stderr.read().decode() if p.stderr else "") for p in processes
    ]
    assert sorted(code for code, _ in results) == [0] + [1] * (contenders - 1)
    for code, err in results:
        if code == 1:
            assert err.strip() in (
                "Error: igor-krasnov by EU under 'GHR' is already designated on 2021-03-02 "
                "(since 2021-03-02)",
                "Error: another writer changed the same record at the same time; nothing was "
                "written, try again",
            ), err
    assert Ledger(db_url).head()[0] == 2
    check_consistent(db_url)


@pytest.mark.parametrize("command", ["subject", "import"])
def test_a_writer_that_cannot_get_the_lock_in_time_is_told_so_and_writes_nothing(
    db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, command: str
) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["--db", db_url, "subject", "add", "Igor Krasnov"]).exit_code == 0
    monkeypatch.setenv("SANCTIONS_LOCK_TIMEOUT", "1")
    lines = tmp_path / "jane.jsonl"  # an import takes the bulk path: events and rows at once
    lines.write_text('{"type": "subject_registered", "data": {"name": "Jane Doe"}}\n')
    args = ["subject", "add", "Jane Doe"] if command == "subject" else ["import", str(lines)]
    holder = Ledger(db_url)
    with holder.ledger_recorder.appending():  # a long import holds the write lock
        result = runner.invoke(cli, ["--db", db_url, *args])
    assert result.exit_code == 1
    assert result.output.startswith(
        "Error: the ledger is busy: another process has been writing for a while (an "
        "import?); nothing was written, try again"
    )
    assert Ledger(db_url).head()[0] == 1


def test_queries_answer_while_a_long_import_holds_the_write_lock(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["--db", db_url, "subject", "add", "Igor Krasnov"]).exit_code == 0
    assert runner.invoke(cli, ["--db", db_url, "subject", "list"]).exit_code == 0
    monkeypatch.setenv("SANCTIONS_LOCK_TIMEOUT", "1")
    holder = Ledger(db_url)
    with holder.ledger_recorder.appending():
        result = runner.invoke(cli, ["--db", db_url, "subject", "list", "--format", "json"])
        assert result.exit_code == 0, result.output
        assert [s["subject_id"] for s in json.loads(result.output)] == ["igor-krasnov"]
