"""Generated damage to official list snapshots: truncated, mis-encoded, duplicated entries.

Each damaged snapshot (the project's small UN and SDN fixtures, dated after the imported
ones, so that an undamaged copy would import) is refused with one ``Error:`` line that names
the file at fault, exit status 1 (2 for a malformed argument), never a traceback; the ledger
is unchanged: the same head, the same export, the same database file.

Like tests/test_hostile_input.py, every attempt runs on a fresh copy of one seeded SQLite
ledger (the small UN and SDN fixtures imported).
"""

from __future__ import annotations

import itertools
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from hypothesis import given, settings
from hypothesis import strategies as st
from lists_support import OFAC_SMALL, UN_SMALL, ofac_copy, un_copy
from support import Sanctions, sqlite_url_in

from cli.main import cli

RUNS = settings(max_examples=60, deadline=None)
RUNNER = CliRunner()
UN_LATER = "2018-11-20T10:00:00"
SDN_LATER = "2021-07-01"
MARKED = ("sdn.csv", "alt.csv", "add.csv")
"""The SDN files that end with OFAC's Ctrl-Z mark."""
NOT_UTF8 = [*range(0x80, 0xC2), *range(0xF5, 0x100)]
"""Bytes that make any UTF-8 text invalid wherever they are inserted."""


class Seeded:
    """A ledger with the small UN and SDN fixtures imported, and undamaged later copies."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.dir = root / "seed"
        self.dir.mkdir()
        self.url = sqlite_url_in(self.dir)
        s = Sanctions(self.url)
        s.ok("import-list", "un", str(UN_SMALL))
        s.ok("import-list", "ofac-sdn", str(OFAC_SMALL), "--published", "2021-06-01")
        self.head = s.head()
        self.export = s.ok("export").stdout
        self.un = un_copy(UN_SMALL, root / "un-later.xml", generated=UN_LATER).read_bytes()
        self.sdn = {
            f.name: f.read_bytes() for f in ofac_copy(OFAC_SMALL, root / "sdn-later").iterdir()
        }
        self.counter = itertools.count()

    def attempt(self, files: dict[str, bytes], args: list[str]) -> tuple[Result, str]:
        """Run import-list on a fresh copy of the seed; returns the result and the copy's URL."""
        work = self.root / f"copy-{next(self.counter)}"
        (work / "db").mkdir(parents=True)
        for f in self.dir.iterdir():
            shutil.copy(f, work / "db" / f.name)
        for name, data in files.items():
            (work / name).parent.mkdir(parents=True, exist_ok=True)
            (work / name).write_bytes(data)
        url = sqlite_url_in(work / "db")
        # replace, not format: a generated argument may hold braces of its own
        args = [a.replace("{dir}", str(work)) for a in args]
        argv = ["--db", url, "--by", "tester", "import-list", *args]
        return RUNNER.invoke(cli, argv), url

    def unchanged(self, url: str) -> None:
        s = Sanctions(url)
        assert s.head() == self.head
        assert s.ok("export").stdout == self.export
        seed_db = (self.dir / "ledger.db").read_bytes()
        assert (Path(url.removeprefix("sqlite:///"))).read_bytes() == seed_db


@pytest.fixture(scope="module")
def seeded() -> Iterator[Seeded]:
    root = Path(tempfile.mkdtemp(prefix="sanctions-lists-hostile-"))
    try:
        yield Seeded(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def refused(result: Result, code: int, *mentions: str) -> str:
    """One ``Error:`` line, the exit status, no traceback; returns the error line."""
    assert isinstance(result.exception, SystemExit), (
        f"{type(result.exception).__name__}: {result.exception}\n{result.output}"
    )
    assert "Traceback" not in result.output
    assert result.exit_code == code, result.output
    assert result.stdout == "", result.stdout
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, result.stderr
    if code == 1:
        assert result.stderr == errors[0] + "\n", result.stderr
    for word in mentions:
        assert word in errors[0], (word, errors[0])
    return errors[0]


UN_ARGS = ["un", "{dir}/list.xml"]
SDN_ARGS = ["ofac-sdn", "{dir}/sdn", "--published", SDN_LATER]


def test_the_undamaged_later_copies_import(seeded: Seeded) -> None:
    """The control: without the damage, the same snapshots import (so a refusal is the damage's)."""
    result, _ = seeded.attempt({"list.xml": seeded.un}, UN_ARGS)
    assert result.exit_code == 0, result.output
    files = {f"sdn/{name}": data for name, data in seeded.sdn.items()}
    result, _ = seeded.attempt(files, SDN_ARGS)
    assert result.exit_code == 0, result.output


# ------------------------------------------------------------------ UN


@RUNS
@given(st.data())
def test_a_truncated_un_file_is_refused(seeded: Seeded, data: st.DataObject) -> None:
    whole = seeded.un
    end = whole.rindex(b"</CONSOLIDATED_LIST>") + len(b"</CONSOLIDATED_LIST>")
    cut = data.draw(st.integers(0, end - 1), label="cut")
    result, url = seeded.attempt({"list.xml": whole[:cut]}, UN_ARGS)
    refused(result, 1, "Error: list.xml")
    seeded.unchanged(url)


@RUNS
@given(st.data())
def test_a_mis_encoded_un_file_is_refused(seeded: Seeded, data: st.DataObject) -> None:
    whole = seeded.un
    how = data.draw(st.sampled_from(["byte", "cp1252", "utf-16"]), label="how")
    if how == "byte":
        at = data.draw(st.integers(0, len(whole)), label="at")
        bad = data.draw(st.sampled_from(NOT_UTF8), label="bad")
        damaged = whole[:at] + bytes([bad]) + whole[at:]
    else:
        damaged = whole.decode("utf-8").encode(how, errors="replace")
    result, url = seeded.attempt({"list.xml": damaged}, UN_ARGS)
    refused(result, 1, "Error: list.xml", "not valid UTF-8")
    seeded.unchanged(url)


def _records(text: str) -> list[tuple[str, int, int]]:
    """(tag, start, end) of each INDIVIDUAL and ENTITY in the file."""
    return [
        (m[1], m.start(), m.end())
        for m in re.finditer(r"<(INDIVIDUAL|ENTITY)>.*?</\1>", text, flags=re.S)
    ]


@RUNS
@given(st.data())
def test_a_un_file_with_a_duplicated_entry_is_refused(seeded: Seeded, data: st.DataObject) -> None:
    text = seeded.un.decode("utf-8")
    records = _records(text)
    tag, start, end = data.draw(st.sampled_from(records), label="record")
    # anywhere between the records of its own section
    section = {"INDIVIDUAL": "INDIVIDUALS", "ENTITY": "ENTITIES"}[tag]
    places = [s for t, s, _ in records if t == tag] + [text.index(f"</{section}>")]
    at = data.draw(st.sampled_from(places), label="at")
    damaged = text[:at] + text[start:end] + text[at:]
    result, url = seeded.attempt({"list.xml": damaged.encode("utf-8")}, UN_ARGS)
    refused(result, 1, "Error: list.xml", "is listed twice")
    seeded.unchanged(url)


# ------------------------------------------------------------------ OFAC SDN


def _sdn(seeded: Seeded, name: str, data: bytes) -> dict[str, bytes]:
    files = {f"sdn/{n}": d for n, d in seeded.sdn.items()}
    files[f"sdn/{name}"] = data
    return files


@RUNS
@given(st.data())
def test_a_truncated_sdn_file_is_refused(seeded: Seeded, data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(MARKED), label="file")
    whole = seeded.sdn[name]
    cut = data.draw(st.integers(0, len(whole) - 1), label="cut")
    result, url = seeded.attempt(_sdn(seeded, name, whole[:cut]), SDN_ARGS)
    refused(result, 1, f"Error: {name}")
    seeded.unchanged(url)


@RUNS
@given(st.data())
def test_a_mis_encoded_sdn_file_is_refused(seeded: Seeded, data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(sorted(seeded.sdn)), label="file")
    whole = seeded.sdn[name]
    at = data.draw(st.integers(0, len(whole)), label="at")
    bad = data.draw(st.sampled_from(NOT_UTF8), label="bad")
    damaged = whole[:at] + bytes([bad]) + whole[at:]
    result, url = seeded.attempt(_sdn(seeded, name, damaged), SDN_ARGS)
    refused(result, 1, f"Error: {name}", "not valid UTF-8")
    seeded.unchanged(url)


@RUNS
@given(st.data())
def test_an_sdn_file_with_a_duplicated_row_is_refused(seeded: Seeded, data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(MARKED), label="file")
    body, mark = seeded.sdn[name].rstrip(b"\x1a"), b"\x1a"
    rows = body.removesuffix(b"\r\n").split(b"\r\n")
    row = data.draw(st.sampled_from(rows), label="row")
    at = data.draw(st.integers(0, len(rows)), label="at")
    damaged = b"\r\n".join([*rows[:at], row, *rows[at:]]) + b"\r\n" + mark
    result, url = seeded.attempt(_sdn(seeded, name, damaged), SDN_ARGS)
    refused(result, 1, f"Error: {name} line", "is listed twice")
    seeded.unchanged(url)


# ------------------------------------------------------------------ the limit's argument

_LIMIT = re.compile(r"\s*(?:\d{1,9}|(\d{1,3}(?:\.\d{1,6})?)%)\s*")


@RUNS
@given(st.text(max_size=12) | st.from_regex(r"\A-?\d{1,4}(\.\d{1,3})?%?\Z"))
def test_a_malformed_max_delistings_is_a_usage_error(seeded: Seeded, value: str) -> None:
    m = _LIMIT.fullmatch(value)
    valid = m is not None and (m[1] is None or float(m[1]) <= 100)
    result, url = seeded.attempt(
        {"list.xml": seeded.un}, [*UN_ARGS, f"--max-delistings={value}", "--dry-run"]
    )
    if valid:
        assert result.exit_code == 0, result.output
        assert result.stdout.startswith("Dry run: un-consolidated of 2018-11-20")
    else:
        refused(result, 2, "Error: Invalid value for '--max-delistings'")
    seeded.unchanged(url)
