"""The terminal (issue 19): tables that stream and fit the window, plain lines in a pipe, the
pager, --quiet, shell completion and progress, through the CLI on real ledgers."""

from __future__ import annotations

import fcntl
import io
import json
import os
import pty
import re
import select
import shutil
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support import EXAMPLE, Sanctions

from cli.main import cli
from cli.table import layout, row_lines
from cli.terminal import cells
from ledger import Ledger
from ledger.records import read_jsonl
from ledger.vocabulary import MEASURES
from projections import Views
from projections.queries import Listing

SANCTIONS = shutil.which("sanctions", path=str(Path(sys.executable).parent)) or "sanctions"
BOX = set("─│┃━┏┓┗┛┡┩┣┫╇╈┼┬┴├┤┌┐└┘╭╮╰╯═║")
ESCAPE = "\x1b["
LIST = ("list", "--at", "2021-03-03")
TERMINAL = {"SANCTIONS_TERMINAL": "1", "NO_COLOR": "1", "SANCTIONS_PAGER": ""}


@pytest.fixture
def example(sanctions: Sanctions) -> Sanctions:
    sanctions.ok("import", str(EXAMPLE))
    return sanctions


HEAD = re.compile(r"(?<![\w-])(?:asset|travel|funds|arms|export|import|investment|services)-\S*")
TAIL = re.compile(r"\S*-(?:freeze|ban|prohibition|embargo)(?![\w-])")


def split_measures(text: str) -> list[str]:
    """Pieces of measure names: a word that starts or ends like one but is not one whole."""
    words = HEAD.findall(text) + TAIL.findall(text)
    return [w for w in words if w.rstrip(",;…") not in MEASURES]


# --------------------------------------------------------------------------- in a pipe


def test_piped_table_is_a_header_and_one_tab_separated_line_a_row(example: Sanctions) -> None:
    out = example.ok(*LIST).stdout
    rows = json.loads(example.ok(*LIST, "--format", "json").stdout)
    lines = out.splitlines()
    assert not BOX & set(out) and ESCAPE not in out
    assert lines[0].split("\t") == [
        "subject_id",
        "subject_name",
        "kind",
        "authority",
        "regime",
        "measures",
        "listed_from",
        "listed_until",
        "legal_act",
    ]
    assert len(lines) == len(rows) + 1 == 27
    for line, row in zip(lines[1:], rows, strict=True):
        cells_ = line.split("\t")
        assert len(cells_) == 9
        assert cells_[0] == row["subject_id"] and cells_[5] == ", ".join(row["measures"])


def test_piped_values_keep_one_line_a_row_whatever_they_hold(example: Sanctions) -> None:
    example.ok("subject", "add", "Tab\tand\nnewline \\ name", "--id", "odd-one", "--kind", "person")
    lines = example.ok("subject", "list").stdout.splitlines()
    [odd] = [line for line in lines if line.startswith("odd-one\t")]
    assert odd.split("\t")[1] == "Tab\\tand\\nnewline \\\\ name"
    assert len(lines) == 1 + len(
        json.loads(example.ok("subject", "list", "--format", "json").stdout)
    )


def test_colour_never_reaches_a_pipe_even_when_asked_for(example: Sanctions) -> None:
    out = example.ok(*LIST, env={"FORCE_COLOR": "1", "TERM": "xterm-256color"}).stdout
    assert ESCAPE not in out


def test_jsonl_is_a_query_format_too(example: Sanctions) -> None:
    whole = json.loads(example.ok(*LIST, "--format", "json").stdout)
    lines = example.ok(*LIST, "--format", "jsonl").stdout.splitlines()
    assert [json.loads(line) for line in lines] == whole


# --------------------------------------------------------------------------- on a terminal


@pytest.mark.parametrize("width", [80, 60, 120])
def test_a_terminal_table_fits_the_window_and_never_splits_a_measure_name(
    example: Sanctions, width: int
) -> None:
    result = example.ok(*LIST, env={**TERMINAL, "COLUMNS": str(width)})
    lines = result.stdout.splitlines()
    assert lines and max(cells(line) for line in lines) <= width
    assert "\t" not in result.stdout and ESCAPE not in result.stdout
    assert split_measures(result.stdout) == []
    # Every designation is there: each id's last part starts a line's first column.
    ids = [r["subject_id"] for r in json.loads(example.ok(*LIST, "--format", "json").stdout)]
    first_column = " ".join(line.split("  ")[0] for line in lines)
    for subject_id in ids:
        assert subject_id.split("-")[-1] in first_column


def test_columns_left_out_to_fit_are_named_with_the_option_that_shows_them(
    example: Sanctions,
) -> None:
    result = example.ok(*LIST, env={**TERMINAL, "COLUMNS": "80"})
    assert result.stderr.splitlines() == [
        "(kind, listed until, legal act left out to fit 80 columns; a wider window, "
        "--format csv or --format json shows every column)"
    ]
    wide = example.ok(*LIST, env={**TERMINAL, "COLUMNS": "250"})
    assert wide.stderr == ""
    assert "Council Implementing Regulation (EU) 2021/371" in wide.stdout


def test_long_free_text_is_cut_with_an_ellipsis_on_one_line(example: Sanctions) -> None:
    result = example.ok(
        "show", "igor-krasnov", "--at", "2021-03-03", env={**TERMINAL, "COLUMNS": "100"}
    )
    lines = result.stdout.splitlines()
    assert max(cells(line) for line in lines) <= 100
    assert any(line.rstrip().endswith("…") for line in lines)
    assert split_measures(result.stdout) == []


def test_the_header_is_bold_on_a_terminal_unless_no_color(example: Sanctions) -> None:
    env = {"SANCTIONS_TERMINAL": "1", "SANCTIONS_PAGER": "", "COLUMNS": "200"}
    coloured = example.ok(*LIST, env={**env, "NO_COLOR": None}).stdout
    assert coloured.startswith("\x1b[1msubject id")
    assert ESCAPE not in example.ok(*LIST, env={**env, "NO_COLOR": "1"}).stdout


def test_a_real_terminal_gets_the_fitted_table_without_being_told(
    example: Sanctions, tmp_path: Path
) -> None:
    """No forcing: ``sanctions`` on a pseudo-terminal 70 columns wide."""
    leader, follower = pty.openpty()
    env = {**os.environ, "COLUMNS": "70", "LINES": "200", "NO_COLOR": "1", "TERM": "xterm"}
    env.pop("SANCTIONS_TERMINAL", None)
    proc = subprocess.Popen(
        [SANCTIONS, "--db", example.url, *LIST],
        stdout=follower,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env=env,
    )
    os.close(follower)
    out = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 30)
        if not ready:
            break
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the follower side closed: the process ended
            break
        if not chunk:
            break
        out += chunk
    os.close(leader)
    assert proc.wait(30) == 0
    text = out.decode().replace("\r\n", "\n")
    lines = text.splitlines()
    assert "\t" not in text and lines[0].startswith("subject id")
    assert max(cells(line) for line in lines) <= 70
    assert split_measures(text) == []


@settings(max_examples=200, deadline=None)
@given(
    width=st.integers(min_value=30, max_value=220),
    rows=st.lists(
        st.lists(
            st.lists(
                st.sampled_from(
                    [
                        *MEASURES,
                        "Alexander",
                        "Bortnikov",
                        "UKRAINE-EO13661",
                        "EO",
                        "13661",
                        "alexander-bortnikov",
                        "2021-03-02",
                        "Council",
                        "Regulation",
                        "(EU)",
                        "2021/371",
                        "Калашников",
                        "金正恩",
                        "a",
                        "of",
                    ]
                ),
                min_size=0,
                max_size=6,
            ),
            min_size=6,
            max_size=6,
        ),
        min_size=1,
        max_size=8,
    ),
)
def test_any_table_fits_any_window_from_30_columns_and_keeps_measure_names_whole(
    width: int, rows: list[list[list[str]]]
) -> None:
    names = ["subject_id", "subject_name", "regime", "measures", "legal_act", "reason"]
    texts = [
        [
            (", " if n == "measures" else " ").join(words)
            for n, words in zip(names, row, strict=True)
        ]
        for row in rows
    ]
    shown, _ = layout(names, texts, width)
    index = [names.index(c.name) for c in shown]
    out = []
    for row in texts:
        out += row_lines(shown, [row[i] for i in index])
    assert all(cells(line) <= width for line in out)
    assert split_measures("\n".join(out)) == []


# --------------------------------------------------------------------------- streaming


def many_listings(n: int, log: list[str], out: io.StringIO) -> Iterator[Listing]:
    for i in range(n):
        if i == n - 1:
            log.append(out.getvalue())  # what was printed when the last row is read
        yield Listing(
            subject_id=f"subject-{i:05d}",
            subject_name=f"Subject {i}",
            kind="person",
            authority="EU",
            regime="EU Global Human Rights Sanctions Regime",
            measures=["asset-freeze", "travel-ban"],
            listed_from=date(2021, 3, 2),
            listed_until=None,
            legal_act="Council Implementing Regulation (EU) 2021/371",
            reason="x " * 50,
        )


@pytest.mark.parametrize(
    ("fmt", "env", "first_row"),
    [
        ("table", {"SANCTIONS_TERMINAL": "0"}, "subject-00000\tSubject 0\t"),
        ("table", {**TERMINAL, "COLUMNS": "120"}, "subject-00000"),
        ("csv", {}, "subject-00000,Subject 0,"),
        ("json", {}, '"subject_id": "subject-00000"'),
        ("jsonl", {}, '{"subject_id": "subject-00000"'),
    ],
)
def test_the_first_row_is_printed_before_the_last_row_is_read(
    example: Sanctions,
    monkeypatch: pytest.MonkeyPatch,
    fmt: str,
    env: dict[str, str],
    first_row: str,
) -> None:
    out = io.StringIO()
    seen: list[str] = []

    def stream(self: Views, *args: Any, certain: bool = True, **kwargs: Any) -> Iterator[Listing]:
        return many_listings(5000 if certain else 0, seen, out)

    monkeypatch.setattr(Views, "stream_listings", stream)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(sys, "stdout", out)
    with pytest.raises(SystemExit) as ended:
        cli.main(["--db", example.url, *LIST, "--format", fmt], prog_name="sanctions")
    assert ended.value.code == 0
    [before_last] = seen
    assert first_row in before_last
    assert "subject-04999" not in before_last and "subject-04999" in out.getvalue()


# --------------------------------------------------------------------------- the pager


def paged(example: Sanctions, tmp_path: Path, *args: str, **env: str | None) -> tuple[str, str]:
    """(what the pager got, standard output) for a command run as on a 24-line terminal."""
    got = tmp_path / "paged.txt"
    got.unlink(missing_ok=True)
    pager = f"sh -c 'cat > {got}'"
    base = {"SANCTIONS_TERMINAL": "1", "NO_COLOR": "1", "COLUMNS": "100", "LINES": "24"}
    result = example.ok(*args, env={**base, "SANCTIONS_PAGER": pager, **env})
    return (got.read_text() if got.exists() else "", result.stdout)


def test_a_long_answer_goes_through_the_pager(example: Sanctions, tmp_path: Path) -> None:
    pager, stdout = paged(example, tmp_path, "log")
    assert stdout == "" and pager.count("\n") > 41
    direct = example.ok("log", env={**TERMINAL, "COLUMNS": "100"}).stdout
    assert pager == direct


def test_a_short_answer_and_no_pager_print_directly(example: Sanctions, tmp_path: Path) -> None:
    pager, stdout = paged(example, tmp_path, "show", "igor-krasnov", LINES="200")
    assert pager == "" and "Igor Krasnov" in stdout
    pager, stdout = paged(example, tmp_path, "log", "--no-pager")
    assert pager == "" and stdout.count("\n") > 41
    pager, stdout = paged(example, tmp_path, "--no-pager", "log")
    assert pager == "" and stdout.count("\n") > 41


@pytest.mark.parametrize(
    "env",
    [
        {"SANCTIONS_PAGER": "", "PAGER": "less"},
        {"SANCTIONS_PAGER": None, "PAGER": ""},
        {"SANCTIONS_PAGER": "cat"},
        {"SANCTIONS_PAGER": "no-such-pager-anywhere -R"},
    ],
    ids=["SANCTIONS_PAGER empty", "PAGER empty", "cat", "missing pager"],
)
def test_the_pager_is_turned_off_or_missing_and_the_answer_is_printed(
    example: Sanctions, env: dict[str, str | None]
) -> None:
    base = {"SANCTIONS_TERMINAL": "1", "NO_COLOR": "1", "COLUMNS": "100", "LINES": "10"}
    result = example.ok("log", env={**base, **env})
    assert result.stdout.count("\n") > 41


def test_the_pager_is_never_used_in_a_pipe(example: Sanctions, tmp_path: Path) -> None:
    pager, stdout = paged(example, tmp_path, "log", SANCTIONS_TERMINAL="0")
    assert pager == "" and stdout.count("\n") == 42


# --------------------------------------------------------------------------- closed pipes


@pytest.fixture
def long_log(sqlite_url: str, tmp_path: Path) -> str:
    """A ledger whose log is far larger than a pipe's buffer (3,000 events)."""
    lines = [
        json.dumps(
            {
                "type": "subject_registered",
                "data": {"id": f"person-{i}", "name": f"Person Number {i}", "kind": "person"},
            }
        )
        for i in range(3000)
    ]
    history = tmp_path / "many.jsonl"
    history.write_text("\n".join(lines) + "\n")
    Sanctions(sqlite_url, init=False).ok("import", str(history))
    return sqlite_url


@pytest.mark.parametrize(
    "args",
    [["log"], ["log", "--format", "json"], ["subject", "list", "--format", "csv"]],
    ids=" ".join,
)
def test_a_closed_pipe_ends_the_query_quietly(long_log: str, args: list[str]) -> None:
    """``sanctions log | head -3``: exit 141 (128 + SIGPIPE), nothing on standard error."""
    proc = subprocess.Popen(
        [SANCTIONS, "--db", long_log, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "SANCTIONS_TERMINAL": "0"},
    )
    assert proc.stdout is not None and proc.stderr is not None
    head = [proc.stdout.readline() for _ in range(3)]
    proc.stdout.close()
    code = proc.wait(60)
    assert all(head)
    assert (code, proc.stderr.read().decode()) == (141, "")


def read_terminal(fd: int, until: float) -> bytes:
    out = b""
    while time.monotonic() < until:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if not ready:
            if out:
                return out
            continue
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # the terminal's other end closed
            return out
        if not chunk:
            return out
        out += chunk
    return out


@pytest.mark.skipif(shutil.which("less") is None, reason="less is not installed")
def test_quitting_the_pager_mid_answer_ends_the_command_quietly(long_log: str) -> None:
    """The real ``less -RFX`` on a 12-line pseudo-terminal; ``q`` after the first page."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 12, 90, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("PAGER", "SANCTIONS_PAGER", "LESS")}
    env.update({"TERM": "xterm", "NO_COLOR": "1", "COLUMNS": "90", "LINES": "12"})
    env.pop("SANCTIONS_TERMINAL", None)
    proc = subprocess.Popen(
        [SANCTIONS, "--db", long_log, "log"],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env=env,
        start_new_session=True,
    )
    os.close(follower)
    try:
        first_page = read_terminal(leader, time.monotonic() + 60).decode(errors="replace")
        assert "subject_registered" in first_page and proc.poll() is None  # waiting in less
        os.write(leader, b"q")
        rest = read_terminal(leader, time.monotonic() + 30).decode(errors="replace")
        assert proc.wait(60) == 0
    finally:
        os.close(leader)
        if proc.poll() is None:
            proc.kill()
    assert "Traceback" not in first_page + rest and "Error" not in rest
    assert "person-2999" not in first_page + rest  # it stopped where the reader stopped


# --------------------------------------------------------------------------- --quiet


def test_quiet_appends_print_nothing_but_write(example: Sanctions) -> None:
    before = example.head()[0]
    result = example.ok(
        "designate",
        "igor-krasnov",
        "--authority",
        "UK",
        "--regime",
        "Global Human Rights",
        "--effective",
        "2021-03-05",
        "--measure",
        "asset-freeze",
        "--quiet",
    )
    assert (result.stdout, result.stderr) == ("", "")
    assert example.head()[0] == before + 1
    assert "UK" in example.ok("show", "igor-krasnov", "--at", "2021-03-06").stdout


def test_quiet_import_prints_nothing_and_errors_still_show(
    sanctions: Sanctions, tmp_path: Path
) -> None:
    result = sanctions.ok("import", str(EXAMPLE), "-q")
    assert (result.stdout, result.stderr) == ("", "")
    assert sanctions.head()[0] == 41
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"type": "nothing"}\n')
    failed = sanctions("import", str(bad), "--quiet")
    assert failed.exit_code == 1 and failed.stderr.startswith("Error: line 1")
    assert sanctions.head()[0] == 41


# --------------------------------------------------------------------------- completion


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_prints_the_shells_script(sanctions: Sanctions, shell: str) -> None:
    script = sanctions.ok("completion", shell).stdout
    assert f"_SANCTIONS_COMPLETE={shell}_" in script or f"_SANCTIONS_COMPLETE={shell}" in script


def test_the_script_completes_commands_formats_and_authorities() -> None:
    def complete(words: str, cword: int) -> list[str]:
        env = {
            **os.environ,
            "_SANCTIONS_COMPLETE": "bash_complete",
            "COMP_WORDS": words,
            "COMP_CWORD": str(cword),
        }
        out = subprocess.run([SANCTIONS], env=env, capture_output=True, text=True, check=True)
        return [line.split(",", 1)[1] for line in out.stdout.splitlines()]

    assert "list" in complete("sanctions li", 1)
    assert complete("sanctions list --format j", 3) == ["json", "jsonl"]
    assert "US-OFAC" in complete("sanctions list --authority US", 3)
    assert complete("sanctions designate x --measure funds", 4) == ["funds-prohibition"]


def test_completion_refuses_an_unknown_shell(sanctions: Sanctions) -> None:
    result = sanctions("completion", "tcsh")
    assert result.exit_code == 2 and "Invalid value for '{bash|zsh|fish}'" in result.stderr


# --------------------------------------------------------------------------- progress


def test_progress_shows_count_and_time_left_on_a_terminal_only(example: Sanctions) -> None:
    shown = example.ok("rebuild", env={"SANCTIONS_TERMINAL": "1", "SANCTIONS_PROGRESS_AFTER": "0"})
    line = re.search(
        r"Rebuilding the projections: [\d,]+ of 41 events \(\d+%\)(, about \d+:\d\d left)?",
        shown.stderr,
    )
    assert line is not None, shown.stderr
    assert shown.stderr.endswith("\r\x1b[K")  # cleared at the end
    assert shown.stdout == "Rebuilt the projections from 41 events.\n"
    plain = example.ok("rebuild", env={"SANCTIONS_TERMINAL": "0", "SANCTIONS_PROGRESS_AFTER": "0"})
    assert plain.stderr == ""
    quick = example.ok("rebuild", env={"SANCTIONS_TERMINAL": "1"})
    assert quick.stderr == ""  # under two seconds: nothing


def test_catching_up_and_verifying_report_progress_and_quiet_silences_it(
    sanctions: Sanctions, tmp_path: Path
) -> None:
    env = {"SANCTIONS_TERMINAL": "1", "SANCTIONS_PROGRESS_AFTER": "0"}
    # Appended without the read side (an import writes its rows with its events): the
    # projections lag, and the next command catches them up.
    ledger = Ledger(sanctions.url)
    try:
        with EXAMPLE.open("rb") as f:
            ledger.import_events(read_jsonl(f))
    finally:
        ledger.close()
    listed = sanctions.ok("list", env=env)
    assert re.search(r"Catching up the projections: 41 of 41 events \(100%\)", listed.stderr)
    verified = sanctions.ok("verify", env=env)
    assert "Rebuilding the projections to compare: 41 of 41 events" in verified.stderr
    quiet = sanctions.ok(
        "delist",
        "igor-krasnov",
        "--authority",
        "EU",
        "--regime",
        "EU Global Human Rights Sanctions Regime",
        "--effective",
        "2022-01-01",
        "--quiet",
        env=env,
    )
    assert (quiet.stdout, quiet.stderr) == ("", "")
