"""Ctrl-C and SIGTERM sent to a real ``sanctions`` process at known moments of a real import.

Each time the exit status is 130 (SIGINT) or 143 (SIGTERM), the last line is one of the
truthful lines, there is no traceback and no "Aborted!", and the ledger agrees with the line:
its head is unchanged, or exactly the positions named were added, and ``verify`` passes.

The moments come from a test hook: with ``SANCTIONS_TEST_PAUSE=PHASE[:COUNT]`` the command
prints ``paused at PHASE N`` on standard error when it gets there and waits for the signal.
A few signals are also sent at random moments.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import inspect
from support import Sanctions, another_ledger_like, dump_views, load_bench

from cli.interrupts import PAUSE_ENV
from ledger import Ledger
from ledger.integrity import stored_rows, verify_chain
from projections import Views
from projections.tables import FRESH

OFAC = Path(__file__).resolve().parents[2] / "shared" / "data" / "ofac-sdn-2021"
SANCTIONS = shutil.which("sanctions", path=str(Path(sys.executable).parent)) or "sanctions"
NOTHING = "Error: interrupted; nothing was written"
NOT_REBUILT = (
    "Error: interrupted; no event was written; the projections were not rebuilt and catch up "
    "on the next command"
)

SEED_LINES = 300
"""The generated history's first lines, imported before the interrupted import of the rest."""
HISTORY_LINES = 5600
"""The rest (5,300 lines) is more than one chunk of an import's writes (5,000 events)."""
SHORT_LINES = 2500
"""A shorter rest, for imports that run to their commit: more than one page of a catch-up."""


def committed(first: int, last: int) -> str:
    return (
        f"Error: interrupted after positions {first}..{last} were committed; the projections "
        "catch up on the next command"
    )


def new_ledger(url: str) -> Sanctions:
    """An empty ledger at ``url``: the one place that creates the ledgers of these tests."""
    return Sanctions(url)  # runs 'sanctions init'


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A generated history as JSON Lines: a seed, the rest, and the rest's beginning."""
    folder = tmp_path_factory.mktemp("history")
    whole = folder / "whole.jsonl"
    load_bench().generate(whole, HISTORY_LINES, 13)
    lines = whole.read_text(encoding="utf-8").splitlines(keepends=True)
    seed, rest, short = folder / "seed.jsonl", folder / "rest.jsonl", folder / "short.jsonl"
    seed.write_text("".join(lines[:SEED_LINES]), encoding="utf-8")
    rest.write_text("".join(lines[SEED_LINES:]), encoding="utf-8")
    short.write_text("".join(lines[SEED_LINES : SEED_LINES + SHORT_LINES]), encoding="utf-8")
    return seed, rest, short


def seeded(url: str, seed: Path) -> Sanctions:
    sanctions = new_ledger(url)
    sanctions.ok("import", str(seed))
    return sanctions


def start(url: str, args: Sequence[str], pause: str | None = None) -> subprocess.Popen[str]:
    env = {**os.environ, "SANCTIONS_USER": "tester"}
    env.pop(PAUSE_ENV, None)
    if pause is not None:
        env[PAUSE_ENV] = pause
    return subprocess.Popen(
        [SANCTIONS, "--db", url, *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def wait_for_pause(proc: subprocess.Popen[str]) -> str:
    """Standard error up to the hook's line (the command then waits for the signal)."""
    assert proc.stderr is not None
    seen = ""
    while line := proc.stderr.readline():
        seen += line
        if line.startswith("paused at "):
            return seen
    proc.wait(timeout=30)
    raise AssertionError(f"never paused (exit {proc.returncode}): {seen}")


def finish(proc: subprocess.Popen[str], earlier: str = "") -> tuple[int, str]:
    """The exit status and the whole standard error; no traceback, no "Aborted!"."""
    _, err = proc.communicate(timeout=60)
    err = earlier + err
    assert "Traceback" not in err and "Aborted" not in err, err
    return proc.returncode, err


def interrupt_at(
    url: str, args: Sequence[str], pause: str, signum: int, *, again: float | None = None
) -> tuple[int, str]:
    """Run the command, send the signal where it pauses (and a Ctrl-C ``again`` seconds
    later: at once, or while it rolls back); the exit status and the last line."""
    proc = start(url, args, pause)
    earlier = wait_for_pause(proc)
    proc.send_signal(signum)
    if again is not None:
        time.sleep(again)
        proc.send_signal(signal.SIGINT)
    code, err = finish(proc, earlier)
    return code, err.strip().splitlines()[-1]


def lines_in(path: Path) -> int:
    return sum(1 for _ in path.open("rb"))


# --------------------------------------------------------------------------- import


@pytest.mark.parametrize(
    ("pause", "signum", "again", "writes"),
    [
        ("checked:1", signal.SIGINT, None, False),  # checking: the write transaction began
        ("checked:5100", signal.SIGTERM, 0.05, False),  # mid-write: 5,000 events uncommitted
        ("committed", signal.SIGINT, None, True),  # committed, with the projections' rows
    ],
)
def test_an_interrupted_import_says_what_was_committed(
    db_url: str,
    history: tuple[Path, Path, Path],
    pause: str,
    signum: int,
    again: float | None,
    writes: bool,
) -> None:
    seed, rest, short = history
    rest = short if writes else rest
    sanctions = seeded(db_url, seed)
    before = sanctions.head()
    code, last = interrupt_at(db_url, ["import", str(rest)], pause, signum, again=again)
    # Both pending at once (a loaded machine), the lower-numbered SIGINT is handled first.
    assert code == 128 + signum or (again is not None and code == 130)
    if writes:
        first, count = before[0] + 1, lines_in(rest)
        assert last == committed(first, first + count - 1)
        assert sanctions.head()[0] == first + count - 1
        assert [e.recorded_by for e in sanctions.events()[first - 1 :]] == ["tester"] * count
    else:
        assert last == NOTHING
        assert sanctions.head() == before
    # The projections catch up on the next command and equal a fresh rebuild.
    assert sanctions.ok("verify").stdout.startswith("OK: ")


def test_an_import_waiting_for_standard_input_is_interrupted_cleanly(db_url: str) -> None:
    """Hostile input: a pipe that never ends. Ctrl-C ends the wait; nothing is written."""
    sanctions = new_ledger(db_url)
    sanctions.ok("import", "-", input='{"type": "subject_registered", "data": {"name": "A B"}}\n')
    before = sanctions.head()
    env = {**os.environ, "SANCTIONS_USER": "tester"}
    proc = subprocess.Popen(
        [SANCTIONS, "--db", db_url, "import", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdin is not None
    proc.stdin.write('{"type": "subject_registered", "data": {"name": "C D"}}\n')
    proc.stdin.flush()
    time.sleep(2)  # the line is read and checked; the command waits for more
    proc.send_signal(signal.SIGINT)
    code, err = finish(proc)
    assert (code, err.strip().splitlines()[-1]) == (130, NOTHING)
    assert sanctions.head() == before


def test_an_import_waiting_for_the_write_lock_is_interrupted_cleanly(
    postgres_url: str, history: tuple[Path, Path, Path]
) -> None:
    """Another writer holds the ledger (PostgreSQL: the wait is cancelled at once)."""
    seed, _, short = history
    sanctions = seeded(postgres_url, seed)
    before = sanctions.head()
    base, schema = postgres_url.split("?schema=")
    with psycopg.connect(base) as holder:
        holder.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"{schema}.ledger_events",))
        proc = start(postgres_url, ["import", str(short)])
        deadline = time.monotonic() + 30
        # This ledger's lock only: other test runs may share the server (the key's low 32 bits).
        while not holder.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
            "AND objid::bigint = (hashtext(%s)::bigint & 4294967295)",
            (f"{schema}.ledger_events",),
        ).fetchone()[0]:  # type: ignore[index]
            assert time.monotonic() < deadline, "the import never waited for the lock"
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        code, err = finish(proc)
    assert (code, err.strip().splitlines()[-1]) == (143, NOTHING)
    assert sanctions.head() == before


def test_an_interrupted_query_exits_130_without_a_traceback(
    db_url: str, history: tuple[Path, Path, Path]
) -> None:
    """``log`` blocked on a full pipe nobody reads, then Ctrl-C."""
    seed, _, _ = history
    seeded(db_url, seed)
    proc = start(db_url, ["log", "--format", "jsonl"])
    time.sleep(2)  # the pipe (64 kB) is full long before the log's 200 kB are written
    proc.send_signal(signal.SIGINT)
    code, err = finish(proc)
    assert (code, err.strip().splitlines()[-1]) == (130, NOTHING)


# --------------------------------------------------------------------------- import-list


@pytest.mark.skipif(not OFAC.is_dir(), reason=f"the real OFAC SDN list is not at {OFAC}")
@pytest.mark.parametrize(
    ("pause", "signum", "writes"),
    [
        ("reading:1", signal.SIGTERM, False),
        ("comparing:1", signal.SIGINT, False),
        ("committed", signal.SIGTERM, True),
    ],
)
def test_an_interrupted_list_import_says_what_was_committed(
    db_url: str, history: tuple[Path, Path, Path], pause: str, signum: int, writes: bool
) -> None:
    seed, _, _ = history
    sanctions = seeded(db_url, seed)
    before = sanctions.head()
    args = ["import-list", "ofac-sdn", str(OFAC), "--published", "2021-07-07"]
    code, last = interrupt_at(db_url, args, pause, signum)
    assert code == 128 + signum
    if not writes:
        assert last == NOTHING
        assert sanctions.head() == before
        return
    head = sanctions.head()[0]
    assert last == committed(before[0] + 1, head)
    events = sanctions.events()
    assert events[before[0]].type != "list_imported" and events[-1].type == "list_imported"
    # Not verify, which rebuilds 20,000 events afresh (the import tests run it): the chain.
    ledger = Ledger(db_url)
    try:
        assert verify_chain(stored_rows(ledger.recorder), None).problem is None
    finally:
        ledger.close()


# --------------------------------------------------------------------------- rebuild


def test_an_interrupted_rebuild_leaves_the_projections_as_they_were(
    db_url: str, history: tuple[Path, Path, Path]
) -> None:
    seed, _, short = history
    sanctions = seeded(db_url, seed)
    sanctions.ok("import", str(short))
    question = ("list", "--at", "2021-06-01", "--format", "json")
    answer = sanctions.ok(*question).stdout
    ledger = Ledger(db_url)
    views = Views(ledger)
    try:
        rows = dump_views(views)
        # While applying the log: the drop is rolled back with the rest.
        code, last = interrupt_at(db_url, ["rebuild"], "rebuilding:1", signal.SIGINT)
        assert (code, last) == (130, NOT_REBUILT)
        assert dump_views(views) == rows  # read directly: nothing left to catch up
        # After its commit: rebuilt, and the same rows.
        code, last = interrupt_at(db_url, ["rebuild"], "rebuilt", signal.SIGTERM)
        head = sanctions.head()[0]
        assert (code, last) == (
            143,
            "Error: interrupted; no event was written; the projections were rebuilt up to "
            f"position {head} and catch up on the next command",
        )
        assert dump_views(views) == rows
    finally:
        views.close()
        ledger.close()
    assert sanctions.ok(*question).stdout == answer
    assert sanctions.ok("verify").stdout.startswith("OK: ")


def fresh_tables_left(url: str) -> list[str]:
    """The names of a rebuild's fresh tables still in the ledger's database."""
    ledger = Ledger(url)
    views = Views(ledger)
    try:
        with views.engine.connect() as conn:
            names = inspect(conn).get_table_names()
    finally:
        views.close()
        ledger.close()
    return sorted(n for n in names if n.endswith(FRESH))


def test_queries_answer_from_the_old_projections_while_a_rebuild_runs(
    db_url: str, history: tuple[Path, Path, Path]
) -> None:
    seed, _, short = history
    sanctions = seeded(db_url, seed)
    sanctions.ok("import", str(short))
    question = ("list", "--at", "2021-06-01", "--format", "json")
    answer = sanctions.ok(*question).stdout
    proc = start(db_url, ["rebuild"], "rebuilding:1")
    earlier = wait_for_pause(proc)
    try:
        # The rebuild holds its write transaction on the fresh tables: not on these.
        began = time.monotonic()
        assert sanctions.ok(*question).stdout == answer
        assert sanctions.ok("show", sanctions_subject(answer)).exit_code == 0
        assert time.monotonic() - began < 20  # answered, not waiting out the rebuild
    finally:
        proc.send_signal(signal.SIGINT)
    assert finish(proc, earlier)[0] == 130


def sanctions_subject(list_json: str) -> str:
    rows = json.loads(list_json)
    assert rows, "the question must have answers"
    return str(rows[0]["subject_id"])


def test_a_rebuild_killed_or_interrupted_before_its_swap_commits_leaves_the_old_projections(
    db_url: str, history: tuple[Path, Path, Path]
) -> None:
    seed, _, short = history
    sanctions = seeded(db_url, seed)
    sanctions.ok("import", str(short))
    question = ("list", "--at", "2021-06-01", "--format", "json")
    answer = sanctions.ok(*question).stdout
    ledger = Ledger(db_url)
    views = Views(ledger)
    try:
        rows = dump_views(views)
        # kill -9 while the fresh tables fill, and inside the swap (the old tables dropped,
        # the fresh ones renamed, not committed): the old projections, as they were.
        for pause in ("rebuilding:1", "swapping"):
            proc = start(db_url, ["rebuild"], pause)
            wait_for_pause(proc)
            proc.kill()
            proc.wait(timeout=30)
            assert proc.returncode == -signal.SIGKILL
            assert dump_views(views) == rows
            assert sanctions.ok(*question).stdout == answer
        assert fresh_tables_left(db_url)  # a killed rebuild's leftovers, for the next one
        # Ctrl-C inside the swap: rolled back, and said so.
        code, last = interrupt_at(db_url, ["rebuild"], "swapping", signal.SIGINT)
        assert (code, last) == (130, NOT_REBUILT)
        assert dump_views(views) == rows
        # A rebuild run to its end drops the leftovers and gives the same rows.
        sanctions.ok("rebuild")
        assert fresh_tables_left(db_url) == []
        assert dump_views(views) == rows
    finally:
        views.close()
        ledger.close()
    assert sanctions.ok(*question).stdout == answer
    assert sanctions.ok("verify").stdout.startswith("OK: ")


# --------------------------------------------------------------------------- at random


def test_signals_at_random_moments_of_an_import_tell_the_truth(
    db_url: str, history: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    seed, _, rest = history
    rng = random.Random()
    for attempt in range(2):
        signum = rng.choice([signal.SIGINT, signal.SIGTERM])
        delay = rng.uniform(0.05, 3.0)
        why = f"{signal.Signals(signum).name} after {delay:.2f}s"
        with another_ledger_like(db_url, tmp_path / str(attempt)) as url:
            sanctions = seeded(url, seed)
            before = sanctions.head()
            proc = start(url, ["import", str(rest)])
            time.sleep(delay)
            proc.send_signal(signum)
            code, err = finish(proc)
            head = sanctions.head()
            if code == 0:  # it had finished
                assert head[0] == before[0] + lines_in(rest), why
            elif code == -signum:  # before the program installed its handlers: no write yet
                assert head == before, why
            else:
                assert code == 128 + signum, why
                last = err.strip().splitlines()[-1]
                if last == NOTHING:
                    assert head == before, why
                else:
                    assert head[0] == before[0] + lines_in(rest), why
                    assert last == committed(before[0] + 1, head[0]), why
            assert sanctions.ok("verify").stdout.startswith("OK: "), why


def test_a_signal_landing_while_a_class_is_created_at_start_up_says_nothing_was_written(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Python 3.11 wraps an exception raised in __set_name__ in a RuntimeError: a signal that
    # lands while cli.main creates a class with a cached_property (found by the random test).
    import types

    from cli import entry, interrupts

    class Landing:
        def __set_name__(self, owner: type, name: str) -> None:
            raise interrupts.Interrupt(signal.SIGTERM)

    def loading(name: str) -> object:
        class Session:
            ledger = Landing()

        return Session

    stand_in = types.ModuleType("cli.main")
    stand_in.__getattr__ = loading  # type: ignore[method-assign]
    monkeypatch.setitem(sys.modules, "cli.main", stand_in)
    monkeypatch.setattr(interrupts, "install", lambda: None)
    with pytest.raises(SystemExit) as exit_:
        entry.main()
    assert exit_.value.code == 128 + signal.SIGTERM
    assert capsys.readouterr().err == "Error: interrupted; nothing was written\n"


def test_a_ctrl_c_before_the_signal_handlers_are_installed_says_nothing_was_written(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The handlers' module loads click first: a Ctrl-C there met Python's default handler, a
    # traceback (found by the random test under load).
    import cli
    from cli import entry

    class Landing:
        def find_spec(self, name: str, *_: object) -> None:
            if name == "cli.interrupts":
                raise KeyboardInterrupt

    monkeypatch.delitem(sys.modules, "cli.interrupts")
    monkeypatch.delattr(cli, "interrupts")
    monkeypatch.setattr(sys, "meta_path", [Landing(), *sys.meta_path])
    with pytest.raises(SystemExit) as exit_:
        try:
            entry.main()
        except KeyboardInterrupt:
            pytest.fail("the Ctrl-C escaped as a traceback")
    assert exit_.value.code == 128 + signal.SIGINT
    assert capsys.readouterr().err == NOTHING + "\n"
