"""import, export and log: JSON Lines in and out, all or nothing, and exact restore."""

from __future__ import annotations

import io
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from support import EXAMPLE, Sanctions, another_ledger_like

from cli.transfer import read_progress
from ledger.records import SCHEMAS
from ledger.store import Appender, LedgerRecorderMixin


def jsonl(*records: dict[str, Any]) -> str:
    return "".join(json.dumps(r) + "\n" for r in records)


SUBJECT = {"type": "subject_registered", "data": {"name": "Igor Krasnov"}}
DESIGNATED = {
    "type": "designated",
    "data": {
        "subject": "igor-krasnov",
        "authority": "EU",
        "regime": "R",
        "effective": "2021-03-02",
        "measures": ["asset-freeze"],
    },
}


# ---------------------------------------------------------------------------- import


def test_the_example_history_imports_in_one_go(sanctions: Sanctions) -> None:
    result = sanctions.ok("import", str(EXAMPLE))
    assert result.stdout == "Imported 41 events (positions 1..41)\n"
    events = sanctions.events()
    assert Counter(e.type for e in events) == {
        "subject_registered": 12,
        "designated": 26,
        "ruling_recorded": 2,
        "announced": 1,
    }
    assert {e.recorded_by for e in events} == {"tester"}
    designated = [e.data for e in events if e.type == "designated"]
    us = sorted(d["subject"] for d in designated if d["authority"] == "US-OFAC")
    assert us == sorted(
        [
            "alexander-bortnikov",
            "alexander-bortnikov",
            "andrei-yarin",
            "sergei-kiriyenko",
            "aleksei-krivoruchko",
            "pavel-popov",
            "alexander-kalashnikov",
            "igor-krasnov",
        ]
    )
    ghr = [d for d in designated if d["regime"] == "EU Global Human Rights Sanctions Regime"]
    assert {d["legal_act"] for d in ghr} == {"Council Implementing Regulation (EU) 2021/371"}
    assert all(d["sources"] for d in designated)


def test_import_reads_standard_input(sanctions: Sanctions) -> None:
    result = sanctions.ok("import", "-", input=jsonl(SUBJECT, DESIGNATED))
    assert result.stdout == "Imported 2 events (positions 1..2)\n"
    assert [e.type for e in sanctions.events()] == ["subject_registered", "designated"]


def test_import_appends_after_existing_events_as_the_importing_user(
    sanctions: Sanctions,
) -> None:
    sanctions.ok("subject", "add", "Viktor Zolotov")
    line = {**SUBJECT, "recorded_by": "someone-else"}
    result = sanctions.ok("import", "-", input=jsonl(line, DESIGNATED), by="importer")
    assert result.stdout == "Imported 2 events (positions 2..3)\n"
    assert [e.recorded_by for e in sanctions.events()] == ["tester", "importer", "importer"]


def test_an_empty_file_imports_nothing(sanctions: Sanctions) -> None:
    assert sanctions.ok("import", "-", input="\n").stdout == (
        "Imported 0 events (the file holds none)\n"
    )


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (
            jsonl(SUBJECT) + "{not json\n",
            "Error: line 2: not valid JSON (Expecting property name enclosed in double quotes at "
            "column 2)",
        ),
        (
            jsonl(SUBJECT, {"type": "sanctioned", "data": {}}),
            f"Error: line 2: unknown event type 'sanctioned'; known types: {', '.join(SCHEMAS)}",
        ),
        (
            jsonl(
                SUBJECT, {**DESIGNATED, "data": {**DESIGNATED["data"], "effective": "2021-02-30"}}
            ),
            "Error: line 2: effective '2021-02-30' is not a calendar date",
        ),
        (
            jsonl(SUBJECT, {**DESIGNATED, "data": {**DESIGNATED["data"], "subject": "krasnov"}}),
            "Error: line 2: unknown subject 'krasnov'; did you mean: igor-krasnov?",
        ),
        (
            jsonl(SUBJECT, DESIGNATED, DESIGNATED),
            "Error: line 3: igor-krasnov by EU under 'R' is already designated on 2021-03-02 "
            "(since 2021-03-02)",
        ),
        (
            jsonl(SUBJECT, {**DESIGNATED, "data": {**DESIGNATED["data"], "measures": ["seize"]}}),
            "Error: line 2: unknown measure 'seize'; measures: asset-freeze, travel-ban, "
            "funds-prohibition, arms-embargo, export-ban, import-ban, investment-ban, "
            "services-ban, other",
        ),
        (
            jsonl(
                SUBJECT,
                {
                    "type": "announced",
                    "data": {"title": "T", "date": "2021-03-02", "authorities": []},
                },
            ),
            "Error: line 2: an announcement needs at least one --authority",
        ),
        (
            jsonl(SUBJECT, {"type": "retracted", "data": {"position": 7, "reason": "x"}}),
            "Error: line 2: no event at position 7; the ledger has 1 events",
        ),
        (
            jsonl(
                SUBJECT,
                {
                    **DESIGNATED,
                    "position": 2,
                    "recorded_at": "2021-03-02T00:00:00Z",
                    "recorded_by": "x",
                },
            ),
            "Error: line 2: the file mixes restore lines (with position) and new events (without)",
        ),
    ],
    ids=[
        "json",
        "type",
        "date",
        "subject",
        "designated-twice",
        "measure",
        "no-authority",
        "retract-unknown",
        "mixed",
    ],
)
def test_a_bad_line_fails_the_whole_import_naming_the_line(
    sanctions: Sanctions, text: str, error: str
) -> None:
    before = sanctions.head()
    result = sanctions("import", "-", input=text)
    assert (result.exit_code, result.stderr) == (1, error + "\n")
    assert sanctions.head() == before == (0, "0" * 64)


def test_a_missing_file_is_usage(sanctions: Sanctions, tmp_path: Path) -> None:
    missing = tmp_path / "missing.jsonl"
    sanctions.refused(
        ["import", str(missing)],
        f"Error: Invalid value for 'FILE': '{missing}': No such file or directory",
        code=2,
    )


# ---------------------------------------------------------------------------- export, restore


def test_export_then_import_into_an_empty_ledger_restores_every_event_exactly(
    sanctions: Sanctions, tmp_path: Path
) -> None:
    sanctions.ok("import", str(EXAMPLE))
    sanctions.ok("retract", "41", "--reason", "duplicate announcement", by="auditor")
    exported = sanctions.ok("export").stdout
    with another_ledger_like(sanctions.url, tmp_path / "copy") as url:
        copy = Sanctions(url)
        result = copy.ok("import", "-", input=exported, by="restorer")
        assert result.stdout == "Restored 42 events (positions 1..42)\n"
        assert copy.ok("export").stdout == exported
        assert copy.head() == sanctions.head()
        original, restored = sanctions.events(), copy.events()
        assert [
            (e.position, e.type, e.data, e.recorded_at, e.recorded_by, e.digest) for e in restored
        ] == [
            (e.position, e.type, e.data, e.recorded_at, e.recorded_by, e.digest) for e in original
        ]
        assert restored[-1].recorded_by == "auditor"


def test_export_lines_carry_position_type_data_record_time_recorder_and_digest(
    sanctions: Sanctions,
) -> None:
    sanctions.ok("import", "-", input=jsonl(SUBJECT, DESIGNATED))
    lines = [json.loads(line) for line in sanctions.ok("export").stdout.splitlines()]
    events = sanctions.events()
    assert lines[1] == {
        "position": 2,
        "type": "designated",
        "data": {
            "subject": "igor-krasnov",
            "authority": "EU",
            "regime": "R",
            "effective": "2021-03-02",
            "measures": ["asset-freeze"],
            "until": None,
            "legal_act": None,
            "reason": None,
            "sources": [],
        },
        "recorded_at": events[1].recorded_at.isoformat(timespec="microseconds"),
        "recorded_by": "tester",
        "digest": events[1].digest,
    }
    assert lines[1]["recorded_at"].endswith("+00:00")


def test_export_writes_a_file(sanctions: Sanctions, tmp_path: Path) -> None:
    sanctions.ok("import", "-", input=jsonl(SUBJECT, DESIGNATED))
    target = tmp_path / "backup.jsonl"
    result = sanctions.ok("export", str(target))
    assert result.stdout == ""
    assert result.stderr == f"Exported 2 events to {target}\n"
    assert target.read_text(encoding="utf-8") == sanctions.ok("export", "-").stdout


def test_refuses_a_restore_into_a_ledger_that_is_not_empty(sanctions: Sanctions) -> None:
    sanctions.ok("import", "-", input=jsonl(SUBJECT))
    exported = sanctions.ok("export").stdout
    before = sanctions.head()
    result = sanctions("import", "-", input=exported)
    assert (result.exit_code, result.stderr) == (
        1,
        "Error: line 1: a file with positions is a restore and needs an empty ledger; "
        "this one has 1 events\n",
    )
    assert sanctions.head() == before


def test_refuses_a_restore_whose_content_was_altered(sanctions: Sanctions, tmp_path: Path) -> None:
    sanctions.ok("import", "-", input=jsonl(SUBJECT, DESIGNATED))
    altered = sanctions.ok("export").stdout.replace('"regime": "R"', '"regime": "Q"')
    with another_ledger_like(sanctions.url, tmp_path / "copy") as url:
        copy = Sanctions(url)
        result = copy("import", "-", input=altered)
        assert (result.exit_code, result.stderr) == (
            1,
            "Error: restore: the digest of event 2 does not match its content (the file "
            "was altered or is not an export of this ledger)\n",
        )
        assert copy.head() == (0, "0" * 64)


def test_refuses_a_restore_with_a_gap_in_positions(sanctions: Sanctions, tmp_path: Path) -> None:
    sanctions.ok("import", "-", input=jsonl(SUBJECT, DESIGNATED))
    lines = sanctions.ok("export").stdout.splitlines(keepends=True)
    with another_ledger_like(sanctions.url, tmp_path / "copy") as url:
        copy = Sanctions(url)
        result = copy("import", "-", input=lines[1])
        assert (result.exit_code, result.stderr) == (
            1,
            "Error: line 1: expected position 1, found 2\n",
        )
        assert copy.head() == (0, "0" * 64)


# ---------------------------------------------------------------------------- log


def test_log_prints_the_ledger_in_order_of_record(sanctions: Sanctions) -> None:
    sanctions.ok("import", str(EXAMPLE))
    table = sanctions.ok("log", "--from", "40", "--limit", "1").stdout.splitlines()
    assert table[0].split("\t") == ["position", "type", "recorded_at", "recorded_by", "summary"]
    [row] = [line.split("\t") for line in table[1:]]
    assert row[:2] == ["40", "designated"] and "alexander-bortnikov" in row[4]
    rows = json.loads(sanctions.ok("log", "--format", "json").stdout)
    assert [r["position"] for r in rows] == list(range(1, 42))
    exported = sanctions.ok("export").stdout
    assert sanctions.ok("log", "--format", "jsonl").stdout == exported
    assert [json.loads(line) for line in exported.splitlines()] == rows
    tail = json.loads(sanctions.ok("log", "--from", "39", "--format", "json").stdout)
    assert [r["position"] for r in tail] == [39, 40, 41]


def test_log_of_an_empty_ledger_says_so(sanctions: Sanctions) -> None:
    assert sanctions.ok("log").stdout == "(no events)\n"
    assert json.loads(sanctions.ok("log", "--format", "json").stdout) == []


def test_log_refuses_a_position_below_one_as_usage(sanctions: Sanctions) -> None:
    sanctions.refused(
        ["log", "--from", "0"],
        "Error: Invalid value for '--from': 0 is not in the range x>=1.",
        code=2,
    )


# ---------------------------------------------------------------------------- batches


def test_a_large_import_is_written_in_batches_within_one_transaction(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    n_subjects = 10_000
    lines = [
        json.dumps({"type": "subject_registered", "data": {"name": f"Person {i}", "id": f"p-{i}"}})
        for i in range(n_subjects)
    ]
    lines += [
        json.dumps(
            {
                "type": "designated",
                "data": {
                    "subject": f"p-{i}",
                    "authority": "UN",
                    "regime": "R",
                    "effective": "2021-01-01",
                    "measures": ["asset-freeze"],
                },
            }
        )
        for i in range(n_subjects)
    ]
    calls: list[list[int]] = []
    original_appending = LedgerRecorderMixin.appending
    original_write = Appender.write

    def appending(self: LedgerRecorderMixin, **kwargs: Any) -> Any:
        calls.append([])
        return original_appending(self, **kwargs)

    def write(self: Appender, batch: Any) -> None:
        calls[-1].append(len(batch))
        original_write(self, batch)

    monkeypatch.setattr(LedgerRecorderMixin, "appending", appending)
    monkeypatch.setattr(Appender, "write", write)
    sanctions = Sanctions(sqlite_url)
    result = sanctions.ok("import", "-", input="\n".join(lines) + "\n")
    assert result.stdout == "Imported 20000 events (positions 1..20000)\n"
    assert len(calls) == 1, "one transaction for the whole file"
    assert len(calls[0]) > 1 and sum(calls[0]) == 20_000, calls
    positions = [e.position for e in sanctions.events()]
    assert positions == list(range(1, 20_001))


def test_a_large_import_with_one_bad_line_writes_nothing(sqlite_url: str) -> None:
    lines = [
        json.dumps({"type": "subject_registered", "data": {"name": f"Person {i}"}})
        for i in range(5_000)
    ]
    lines.append(
        json.dumps(
            {
                "type": "designated",
                "data": {
                    "subject": "nobody",
                    "authority": "UN",
                    "regime": "R",
                    "effective": "2021-01-01",
                },
            }
        )
    )
    sanctions = Sanctions(sqlite_url)
    result = sanctions("import", "-", input="\n".join(lines))
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: line 5001: unknown subject 'nobody'")
    assert sanctions.head() == (0, "0" * 64)


class _Pipe(io.BytesIO):
    def seekable(self) -> bool:
        return False


def test_import_progress_follows_the_file_by_bytes_and_counts_the_events(
    tmp_path: Path,
) -> None:
    calls: list[tuple[int, int | None, str]] = []

    def step(done: int, total: int | None = None, detail: str = "") -> None:
        calls.append((done, total, detail))

    assert read_progress(io.BytesIO(b"{}\n"), None) is None  # nothing to show: no cost
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"{}\n" * 2500)
    with path.open("rb") as file:
        advance = read_progress(file, step)  # type: ignore[arg-type]
        assert advance is not None
        file.read(3000)
        for n in range(1, 1001):
            advance(n)
    assert calls == [(0, 1, "500 events checked"), (0, 1, "1,000 events checked")]
    calls.clear()
    piped = read_progress(_Pipe(b"{}\n" * 600), step)  # type: ignore[arg-type]
    assert piped is not None
    for n in range(1, 601):
        piped(n)
    assert calls == [(500, None, "")]  # a pipe has no size: the count alone
