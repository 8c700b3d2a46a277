"""Integrity: append-only in the database, the hash chain, head/verify, record time."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner, Result
from support import init_ledger

import ledger.store
from cli.main import cli
from ledger import Ledger
from projections.tables import VIEW_TABLES

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "navalny.jsonl"


def run(db: str, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--db", db, "--by", "auditor", *args])


def seeded(url: str) -> str:
    result = run(url, "import", str(EXAMPLE))
    assert result.exit_code == 0, result.output
    return url


def sqlite_path(url: str) -> str:
    return url.removeprefix("sqlite:///")


def tamper(url: str, *statements: str) -> None:
    """What an attacker with file access can do: drop the guards, then rewrite rows."""
    conn = sqlite3.connect(sqlite_path(url))
    conn.execute("DROP TRIGGER ledger_events_no_update")
    conn.execute("DROP TRIGGER ledger_events_no_delete")
    for statement in statements:
        conn.execute(statement)
    conn.commit()
    conn.close()


def verify_error(url: str, *args: str) -> str:
    result = run(url, "verify", *args)
    assert result.exit_code == 1, result.output
    return result.output.strip()


# ----------------------------------------------------------------------------- append-only


def test_sqlite_refuses_update_and_delete_of_stored_events(sqlite_url: str) -> None:
    seeded(sqlite_url)
    conn = sqlite3.connect(sqlite_path(sqlite_url))
    with pytest.raises(sqlite3.DatabaseError, match="append-only: UPDATE refused"):
        conn.execute("UPDATE ledger_events SET state = x'00' WHERE position = 3")
    with pytest.raises(sqlite3.DatabaseError, match="append-only: DELETE refused"):
        conn.execute("DELETE FROM ledger_events WHERE position = 3")
    conn.close()
    assert Ledger(sqlite_url).head()[0] == 41


def test_postgres_refuses_update_delete_and_truncate_of_stored_events(postgres_url: str) -> None:
    seeded(postgres_url)
    base, schema = postgres_url.split("?schema=")
    for statement in (
        f'UPDATE "{schema}".ledger_events SET topic = topic',
        f'DELETE FROM "{schema}".ledger_events WHERE position = 3',
        f'TRUNCATE "{schema}".ledger_events',
    ):
        with (
            psycopg.connect(base, autocommit=True) as conn,
            pytest.raises(psycopg.errors.RaiseException, match="append-only"),
        ):
            conn.execute(statement)
    assert Ledger(postgres_url).head()[0] == 41


def test_postgres_ledger_works_with_only_insert_and_select_on_the_event_table(
    postgres_url: str,
) -> None:
    seeded(postgres_url)
    base, schema = postgres_url.split("?schema=")
    role = f"clerk_{schema}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE ROLE "{role}" LOGIN')
        conn.execute(f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"')
        conn.execute(f'GRANT INSERT, SELECT ON "{schema}".ledger_events TO "{role}"')
        for table in [t.name for t in VIEW_TABLES]:  # every projection table
            conn.execute(f'GRANT ALL ON "{schema}".{table} TO "{role}"')
    try:
        clerk_url = postgres_url.replace("postgres@", f"{role}@")
        result = run(clerk_url, "subject", "add", "Jane Doe")
        assert result.exit_code == 0, result.output
        assert Ledger(postgres_url).head()[0] == 42
        with (
            psycopg.connect(base.replace("postgres@", f"{role}@"), autocommit=True) as conn,
            pytest.raises(psycopg.errors.InsufficientPrivilege),
        ):
            conn.execute(f'DELETE FROM "{schema}".ledger_events')
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP OWNED BY "{role}"')
            conn.execute(f'DROP ROLE "{role}"')


# ----------------------------------------------------------------------------- head and verify


def test_head_prints_position_and_digest(db_url: str) -> None:
    seeded(db_url)
    out = run(db_url, "head").output.strip()
    position, digest = out.split(" ")
    assert position == "41" and len(digest) == 64 and int(digest, 16) >= 0
    assert Ledger(db_url).head() == (41, digest)


def test_verify_passes_on_an_untouched_ledger_and_extends_its_earlier_head(db_url: str) -> None:
    seeded(db_url)
    kept = run(db_url, "head").output.strip()
    assert run(db_url, "subject", "add", "Jane Doe").exit_code == 0
    result = run(db_url, "verify", "--head", kept)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("OK: 42 events, hash chain verified up to position 42")
    assert "extends the kept head" in result.output
    # the digest alone is accepted too
    assert run(db_url, "verify", "--head", kept.split()[1]).exit_code == 0


def test_verify_of_an_empty_ledger_is_ok(sqlite_url: str) -> None:
    result = run(sqlite_url, "verify")
    assert result.exit_code == 0 and result.output.startswith("OK: 0 events")


def test_malformed_head_is_a_usage_error(sqlite_url: str) -> None:
    result = run(sqlite_url, "verify", "--head", "42 nothex")
    assert result.exit_code == 2
    assert "a head is 'POSITION DIGEST'" in result.output


def test_verify_finds_an_edited_event(sqlite_url: str) -> None:
    seeded(sqlite_url)
    tamper(
        sqlite_url,
        "UPDATE ledger_events SET state = replace(state, 'Igor', 'Ivan') WHERE position = 8",
    )
    assert verify_error(sqlite_url) == (
        "Error: verify failed at position 8 (edited): event 8 was edited after it was "
        "recorded (its content no longer matches its digest)"
    )


def test_verify_finds_a_deleted_event(sqlite_url: str) -> None:
    seeded(sqlite_url)
    tamper(sqlite_url, "DELETE FROM ledger_events WHERE position = 20")
    assert verify_error(sqlite_url) == (
        "Error: verify failed at position 20 (missing): position 20 is missing from the ledger"
    )


def test_verify_finds_a_deleted_event_even_when_positions_were_renumbered(
    sqlite_url: str,
) -> None:
    seeded(sqlite_url)
    tamper(
        sqlite_url,
        "DELETE FROM ledger_events WHERE position = 20",
        "UPDATE ledger_events SET position = position - 1 WHERE position > 20",
    )
    assert "(missing): an event is missing before position 20" in verify_error(sqlite_url)


def test_verify_finds_an_inserted_event(sqlite_url: str) -> None:
    seeded(sqlite_url)
    conn = sqlite3.connect(sqlite_path(sqlite_url))
    row = conn.execute("SELECT * FROM ledger_events WHERE position = 12").fetchone()
    conn.close()
    forged = "INSERT INTO ledger_events VALUES (20, ?, 99, ?, ?, ?, ?)"
    tamper(
        sqlite_url,
        "UPDATE ledger_events SET position = -position WHERE position >= 20",
        "UPDATE ledger_events SET position = 1 - position WHERE position < 0",
    )
    conn = sqlite3.connect(sqlite_path(sqlite_url))
    conn.execute(forged, (row[1], row[3], row[4], row[5], "0" * 64))
    conn.commit()
    conn.close()
    assert "(inserted): event 20 was inserted into the ledger" in verify_error(sqlite_url)


def test_verify_finds_reordered_events(sqlite_url: str) -> None:
    seeded(sqlite_url)
    tamper(
        sqlite_url,
        "UPDATE ledger_events SET position = -1 WHERE position = 30",
        "UPDATE ledger_events SET position = 30 WHERE position = 31",
        "UPDATE ledger_events SET position = 31 WHERE position = -1",
    )
    assert "(reordered): events 30 and 31 were reordered" in verify_error(sqlite_url)


def test_verify_finds_record_time_going_backwards(sqlite_url: str) -> None:
    seeded(sqlite_url)
    tamper(
        sqlite_url,
        "UPDATE ledger_events SET recorded_at = '2000-01-01T00:00:00.000000+00:00'"
        " WHERE position = 10",
    )
    assert "(time): the record time of event 10 goes backwards" in verify_error(sqlite_url)


def test_a_consistently_rewritten_history_no_longer_extends_the_kept_head(
    sqlite_url: str,
) -> None:
    seeded(sqlite_url)
    kept = run(sqlite_url, "head").output.strip()
    # Rewrite event 8 and recompute every digest after it: the chain is consistent again...
    tamper(
        sqlite_url,
        "UPDATE ledger_events SET state = replace(state, 'Igor', 'Ivan') WHERE position = 8",
    )
    conn = sqlite3.connect(sqlite_path(sqlite_url))
    rows = conn.execute("SELECT * FROM ledger_events ORDER BY position").fetchall()
    digest = ledger.store.GENESIS
    for r in rows:
        digest = ledger.store.chain_digest(
            digest,
            r[0],
            r[1],
            r[2],
            r[3],
            datetime.fromisoformat(r[5]),
            r[4] if isinstance(r[4], bytes) else r[4].encode(),
        )
        conn.execute("UPDATE ledger_events SET digest = ? WHERE position = ?", (digest, r[0]))
    conn.commit()
    conn.close()
    run(sqlite_url, "rebuild")
    assert run(sqlite_url, "verify").exit_code == 0
    # ...but not with the head the auditor wrote down.
    assert verify_error(sqlite_url, "--head", kept).startswith(
        "Error: the ledger does not extend the kept head"
    )


def test_verify_finds_projections_that_differ_from_a_rebuild(db_url: str) -> None:
    seeded(db_url)
    run(db_url, "list")
    from projections import Views
    from projections.tables import periods

    views = Views(Ledger(db_url))
    with views.engine.begin() as conn:
        conn.execute(periods.update().values(measures=["other"]))
    views.close()
    message = verify_error(db_url)
    assert message.startswith(
        "Error: the projections differ from a fresh rebuild: "
        "view_periods (same row count, different content)"
    )
    assert run(db_url, "rebuild").exit_code == 0
    assert run(db_url, "verify").exit_code == 0


# ----------------------------------------------------------------------------- restore


def export_lines(url: str) -> list[dict[str, Any]]:
    result = run(url, "export")
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.output.splitlines()]


def test_restore_reproduces_the_chain(db_url: str, tmp_path: Path) -> None:
    seeded(db_url)
    lines = export_lines(db_url)
    backup = tmp_path / "backup.jsonl"
    backup.write_text("".join(json.dumps(line) + "\n" for line in lines))
    target = init_ledger(f"sqlite:///{tmp_path / 'restored.db'}")
    assert run(target, "import", str(backup)).exit_code == 0
    assert Ledger(target).head() == Ledger(db_url).head()
    assert run(target, "verify").exit_code == 0


@pytest.mark.parametrize("change", ["data", "digest", "recorded_at"])
def test_restore_refuses_a_file_whose_digests_do_not_match(
    sqlite_url: str, tmp_path: Path, change: str
) -> None:
    seeded(sqlite_url)
    lines = export_lines(sqlite_url)
    if change == "data":
        lines[7]["data"]["name"] = "Ivan Krasnov"
    elif change == "digest":
        lines[7]["digest"] = "f" * 64
    else:
        lines[7]["recorded_at"] = lines[7]["recorded_at"].replace("+00:00", "-00:01")
    backup = tmp_path / "backup.jsonl"
    backup.write_text("".join(json.dumps(line) + "\n" for line in lines))
    target = init_ledger(f"sqlite:///{tmp_path / 'restored.db'}")
    result = run(target, "import", str(backup))
    assert result.exit_code == 1
    assert result.output.strip() == (
        "Error: restore: the digest of event 8 does not match its content (the file was "
        "altered or is not an export of this ledger)"
    )
    assert Ledger(target).head()[0] == 0


# ----------------------------------------------------------------------------- record time


def test_record_time_never_goes_backwards_when_the_clock_does(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    seeded(sqlite_url)
    ledger_ = Ledger(sqlite_url)
    last = next(ledger_.read_log(start=41)).recorded_at
    monkeypatch.setattr(ledger.store, "utc_now", lambda: datetime(2001, 1, 1, tzinfo=UTC))
    receipt = ledger_.register_subject("Jane Doe")
    assert receipt.recorded_at == last
    assert next(ledger_.read_log(start=42)).recorded_at == last
    monkeypatch.undo()
    assert run(sqlite_url, "verify").exit_code == 0


def test_record_time_is_set_by_the_ledger_not_by_the_event(sqlite_url: str) -> None:
    ledger_ = Ledger(sqlite_url)
    before = datetime.now(UTC)
    receipt = ledger_.register_subject("Jane Doe")
    stored = next(ledger_.read_log())
    assert before <= stored.recorded_at == receipt.recorded_at <= datetime.now(UTC)
    # the event's own timestamp is the record time too: one time per event
    assert stored.event.timestamp == stored.recorded_at


def test_a_postgres_schema_name_outside_lower_case_identifiers_is_refused() -> None:
    result = run("postgresql://postgres@127.0.0.1:5432/test?schema=Mixed-Case", "head")
    assert result.exit_code == 1
    assert result.output.strip() == (
        "Error: bad database URL: schema 'Mixed-Case' must be lower-case letters, digits and "
        "underscores (it names the same schema in SQL and in the search path)"
    )


def test_a_postgres_schema_named_by_a_reserved_word_is_refused_before_anything_is_made() -> None:
    result = run("postgresql://postgres@127.0.0.1:5432/test?schema=real", "init")
    assert result.exit_code == 1
    assert result.output.strip() == (
        "Error: bad database URL: schema 'real' is a word PostgreSQL reserves (the event "
        "store names it unquoted): choose another, e.g. real_ledger"
    )
