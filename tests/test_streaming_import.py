"""An import streams: chunks written inside one transaction, a bounded aggregate cache."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from support import init_ledger

import ledger.application
import ledger.handlers
import ledger.unit_of_work
import projections.catchup
from cli.main import cli
from ledger import Ledger


def lines(subjects: int, offset: int = 0) -> list[str]:
    """``offset``: events already in the ledger (positions are named by retractions)."""
    out = []
    for i in range(subjects):
        out.append({"type": "subject_registered", "data": {"id": f"s-{i}", "name": f"S {i}"}})
        out.append(
            {
                "type": "designated",
                "data": {
                    "subject": f"s-{i}",
                    "authority": "EU",
                    "regime": "R",
                    "effective": "2021-01-01",
                    "measures": ["asset-freeze"],
                },
            }
        )
    # Far later in the file: events about aggregates long evicted from the cache.
    for i in range(subjects):
        out.append(
            {
                "type": "amended",
                "data": {
                    "subject": f"s-{i}",
                    "authority": "EU",
                    "regime": "R",
                    "effective": "2021-06-01",
                    "add_measures": ["travel-ban"],
                },
            }
        )
    out.append(
        {
            "type": "delisted",
            "data": {"subject": "s-0", "authority": "EU", "regime": "R", "effective": "2022-01-01"},
        }
    )
    out.append({"type": "retracted", "data": {"position": 2 + offset, "reason": "wrong regime"}})
    return [json.dumps(o) for o in out]


@pytest.fixture
def small_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ledger.unit_of_work, "CACHE_AGGREGATES", 20)
    monkeypatch.setattr(ledger.application, "IMPORT_CHUNK", 50)
    monkeypatch.setattr(projections.catchup, "CACHE_SIZE", 5)  # the catch-up reloads too


def import_file(db: str, path: Path) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--db", db, "--by", "bulk", "import", str(path)])
    return result.exit_code, result.output


def test_a_streamed_import_reads_back_what_it_wrote_earlier_in_its_transaction(
    db_url: str, tmp_path: Path, small_memory: None
) -> None:
    path = tmp_path / "many.jsonl"
    path.write_text("\n".join(lines(300)) + "\n")
    code, output = import_file(db_url, path)
    assert code == 0, output
    assert output.startswith("Imported 902 events (positions 1..902)")
    result = CliRunner().invoke(
        cli, ["--db", db_url, "list", "--at", "2021-07-01", "--format", "json"]
    )
    rows = json.loads(result.output)
    assert len(rows) == 299  # s-0's designation (position 2) was retracted
    assert all(r["measures"] == ["asset-freeze", "travel-ban"] for r in rows)
    assert CliRunner().invoke(cli, ["--db", db_url, "verify"]).exit_code == 0


def test_a_bad_line_after_many_written_chunks_leaves_nothing(
    db_url: str, tmp_path: Path, small_memory: None
) -> None:
    assert CliRunner().invoke(cli, ["--db", db_url, "subject", "add", "Before"]).exit_code == 0
    body = lines(300, offset=1)
    body.append(
        json.dumps(
            {
                "type": "delisted",
                "data": {
                    "subject": "s-5",
                    "authority": "EU",
                    "regime": "R",
                    "effective": "2020-01-01",
                },
            }
        )
    )
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(body) + "\n")
    code, output = import_file(db_url, path)
    assert code == 1
    assert output.strip() == (
        "Error: line 903: s-5 by EU under 'R' is not designated on 2020-01-01; nothing to delist"
    )
    assert Ledger(db_url).head()[0] == 1


def test_a_streamed_restore_reproduces_the_chain(
    sqlite_url: str, tmp_path: Path, small_memory: None
) -> None:
    path = tmp_path / "many.jsonl"
    path.write_text("\n".join(lines(120)) + "\n")
    assert import_file(sqlite_url, path)[0] == 0
    backup = tmp_path / "backup.jsonl"
    assert CliRunner().invoke(cli, ["--db", sqlite_url, "export", str(backup)]).exit_code == 0
    target = init_ledger(f"sqlite:///{tmp_path / 'restored.db'}")
    code, output = import_file(target, backup)
    assert code == 0, output
    assert Ledger(target).head() == Ledger(sqlite_url).head()


def test_a_subject_whose_registration_was_retracted_earlier_in_the_import_is_refused(
    db_url: str, tmp_path: Path, small_memory: None
) -> None:
    designate = {
        "type": "designated",
        "data": {
            "subject": "s-0",
            "authority": "EU",
            "regime": "R",
            "effective": "2021-01-01",
            "measures": ["asset-freeze"],
        },
    }
    records = [
        {"type": "subject_registered", "data": {"id": "s-0", "name": "S 0"}},
        designate,  # s-0 is known registered from here on ...
        {"type": "retracted", "data": {"position": 2, "reason": "wrong person"}},
        {"type": "retracted", "data": {"position": 1, "reason": "registered by mistake"}},
        {**designate, "data": {**designate["data"], "regime": "Other"}},  # ... until now
    ]
    path = tmp_path / "retracted.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    code, output = import_file(db_url, path)
    assert code == 1
    assert output.splitlines()[-1] == "Error: line 5: unknown subject 's-0'"
    assert Ledger(db_url).head()[0] == 0


@pytest.mark.postgres
def test_an_import_that_pauses_between_statements_on_a_busy_machine_still_commits(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The library's PostgreSQL connections end a transaction idle for 5 s; an import's one
    transaction waits on the importing process between chunks (longer on a busy machine)."""
    path = tmp_path / "two.jsonl"
    path.write_text("\n".join(lines(1)[:2]) + "\n", encoding="utf-8")
    handled = ledger.handlers.handle
    calls: list[object] = []

    def slow(uow: ledger.unit_of_work.UnitOfWork, command: object) -> None:
        calls.append(command)
        if len(calls) == 2:  # the transaction has read the head and the first aggregate
            time.sleep(6)
        handled(uow, command)  # type: ignore[arg-type]

    monkeypatch.setattr(ledger.handlers, "handle", slow)
    result = CliRunner().invoke(cli, ["--db", postgres_url, "import", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output == "Imported 2 events (positions 1..2)\n"
    opened = Ledger(postgres_url)
    try:
        assert [e.type for e in opened.read_log()] == ["subject_registered", "designated"]
    finally:
        opened.close()
