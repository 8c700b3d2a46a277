"""The bulk path (``import`` and ``import-list`` with the read side open) checks each
command, appends its events and writes their projection rows in one transaction. What it
stores must be what the other paths store, byte for byte: the same input one command at a
time (each caught up in order of record), or appended first and caught up afterwards."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from lists_support import OFAC_DIR, OFAC_PUBLISHED, OFAC_SMALL, UN_FILE, UN_SMALL, need
from sqlalchemy import Engine, event, text
from support import (
    bench_script,
    dump_views,
    init_ledger,
    load_bench,
    postgres_schema,
    sqlite_url_in,
)

from cli.main import cli
from ledger import Ledger
from ledger.adapters import parse
from ledger.errors import InvalidImport
from ledger.records import read_jsonl
from projections import Views
from projections.tables import VIEW_TABLES

CLOCK = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """One record time for every write: the paths write at different moments, and the
    time is in each event's bytes and digest."""
    monkeypatch.setattr("ledger.store.utc_now", lambda: CLOCK)


@contextmanager
def another_ledger(url: str, folder: Path) -> Iterator[str]:
    """An empty ledger on the same store as ``url``."""
    if url.startswith("sqlite"):
        folder.mkdir()
        yield init_ledger(sqlite_url_in(folder))
    else:
        with postgres_schema() as other:
            yield init_ledger(other)


@contextmanager
def read_side(url: str, user: str = "bench") -> Iterator[Views]:
    """The ledger at ``url`` with its read side open (so imports take the bulk path)."""
    ledger = Ledger(url, user=user)
    views = Views(ledger)
    try:
        yield views
    finally:
        views.close()
        ledger.close()


EQUIVALENCE = bench_script("bulk_equivalence")
stored = EQUIVALENCE.stored_events
one_at_a_time = EQUIVALENCE.one_at_a_time


def projections_of(url: str) -> dict[str, list[tuple[Any, ...]]]:
    with read_side(url) as views:
        assert views.position() == (views.ledger.recorder.max_notification_id() or 0)
        return dump_views(views)


def bulk_import(url: str, path: Path) -> int:
    """``import`` as the command line runs it: the read side open, so the bulk path."""
    with read_side(url) as views, path.open("rb") as f:
        assert views.ledger.follow is not None
        count = views.ledger.import_events(read_jsonl(f)).count
        assert views.catch_up() == 0, "the bulk path left the projections behind"
        return count


def append_only(url: str, path: Path) -> None:
    """The events appended without the read side (no bulk path), not caught up."""
    ledger = Ledger(url, user="bench")
    try:
        with path.open("rb") as f:
            ledger.import_events(read_jsonl(f))
    finally:
        ledger.close()


def append_then_catch_up(url: str, path: Path) -> None:
    """The events appended without the read side, then caught up (by aggregate)."""
    append_only(url, path)
    with read_side(url) as views:
        views.catch_up()


def assert_same(bulk: str, other: str) -> None:
    events = stored(bulk)
    assert events and events == stored(other)
    views = projections_of(bulk)
    assert sum(map(len, views.values())) > len(events)
    assert views == projections_of(other)


def history(folder: Path, events: int, seed: int) -> Path:
    path = folder / f"history-{events}-{seed}.jsonl"
    load_bench().generate(path, events, seed)
    return path


# --------------------------------------------------------------------------- import


def test_a_bulk_import_stores_what_one_command_at_a_time_stores(
    db_url: str, tmp_path: Path
) -> None:
    """Designations, amendments, delistings, retractions, rulings and links of a generated
    history, imported in two files so that the second starts from a non-empty ledger."""
    whole = history(tmp_path, 1200, 5).read_text(encoding="utf-8").splitlines(keepends=True)
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    first.write_text("".join(whole[:700]), encoding="utf-8")
    second.write_text("".join(whole[700:]), encoding="utf-8")
    with another_ledger(db_url, tmp_path / "other") as other:
        assert bulk_import(db_url, first) == 700
        assert bulk_import(db_url, second) == 500
        one_at_a_time(other, first)
        one_at_a_time(other, second)
        assert_same(db_url, other)


def test_the_bulk_path_on_the_100k_benchmark_history_equals_append_then_catch_up(
    tmp_path: Path,
) -> None:
    """The benchmark's generated history of 100,000 events (seed 7, as ``bench/run.py``):
    many chunks, aggregates evicted from the unit's cache and read again."""
    path = history(tmp_path, 100_000, 7)
    bulk = init_ledger(sqlite_url_in(tmp_path))
    with another_ledger(bulk, tmp_path / "other") as other:
        assert bulk_import(bulk, path) == 100_000
        append_then_catch_up(other, path)
        assert_same(bulk, other)


def test_a_restore_through_the_bulk_path_equals_the_original(db_url: str, tmp_path: Path) -> None:
    """An export's record times and recorders are the file's, not the clock's."""
    path = history(tmp_path, 800, 9)
    with another_ledger(db_url, tmp_path / "original") as original:
        one_at_a_time(original, path)
        export = tmp_path / "export.jsonl"
        result = CliRunner().invoke(cli, ["--db", original, "export", str(export)])
        assert result.exit_code == 0, result.output
        with pytest.MonkeyPatch.context() as later:  # a restore must not use the clock
            later.setattr("ledger.store.utc_now", lambda: CLOCK + timedelta(days=3))
            assert bulk_import(db_url, export) == 800
        assert_same(db_url, original)


def test_a_bulk_import_that_fails_leaves_neither_events_nor_rows(
    db_url: str, tmp_path: Path
) -> None:
    lines = history(tmp_path, 6000, 3).read_text(encoding="utf-8").splitlines(keepends=True)
    good = tmp_path / "good.jsonl"
    good.write_text("".join(lines[:100]), encoding="utf-8")
    bulk_import(db_url, good)
    before_events, before_views = stored(db_url), projections_of(db_url)
    bad = tmp_path / "bad.jsonl"  # the bad line after a whole chunk was written
    bad.write_text(
        "".join(lines[100:]) + '{"type": "delisted", "data": {"subject": "nobody"}}\n',
        encoding="utf-8",
    )
    with pytest.raises(InvalidImport):
        bulk_import(db_url, bad)
    assert stored(db_url) == before_events
    assert projections_of(db_url) == before_views


def test_a_bulk_import_first_applies_events_the_read_side_has_not_seen(
    db_url: str, tmp_path: Path
) -> None:
    """Events appended by a process without the read side (its catch-up failed, say)."""
    lines = history(tmp_path, 900, 4).read_text(encoding="utf-8").splitlines(keepends=True)
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    first.write_text("".join(lines[:400]), encoding="utf-8")
    second.write_text("".join(lines[400:]), encoding="utf-8")
    with another_ledger(db_url, tmp_path / "other") as other:
        append_only(db_url, first)
        bulk_import(db_url, second)
        one_at_a_time(other, first)
        one_at_a_time(other, second)
        assert_same(db_url, other)


@pytest.mark.postgres
def test_a_bulk_import_on_postgresql_leaves_planner_statistics(
    postgres_url: str, tmp_path: Path
) -> None:
    bulk_import(postgres_url, history(tmp_path, 3000, 11))
    with read_side(postgres_url) as views, views.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT relname, last_analyze IS NOT NULL FROM pg_stat_user_tables "
                "WHERE schemaname = current_schema() AND relname LIKE 'view_%'"
            )
        )
        analyzed = {str(name): bool(done) for name, done in rows}
    assert analyzed == {t.name: True for t in VIEW_TABLES}


# --------------------------------------------------------------------------- import-list


def import_lists(url: str, *, bulk: bool) -> None:
    """The UN list of 2018, then OFAC's of 2021, as ``import-list`` runs them (PostgreSQL:
    a part of OFAC's, the whole list's SQL being the same on both stores and slow there)."""
    ofac = OFAC_DIR if url.startswith("sqlite") else OFAC_SMALL
    ledger = Ledger(url, user="importer")
    views = Views(ledger) if bulk else None
    try:
        assert (ledger.follow is not None) == bulk
        ledger.import_snapshot(parse("un", need(UN_FILE)))
        ledger.import_snapshot(parse("ofac-sdn", need(ofac), published=OFAC_PUBLISHED))
        if views is not None:
            assert views.catch_up() == 0, "the bulk path left the projections behind"
    finally:
        if views is not None:
            views.close()
        ledger.close()
    if not bulk:
        with read_side(url) as caught_up:
            caught_up.catch_up()


def test_import_list_through_the_bulk_path_equals_append_then_catch_up(
    db_url: str, tmp_path: Path
) -> None:
    with another_ledger(db_url, tmp_path / "other") as other:
        import_lists(db_url, bulk=True)
        import_lists(other, bulk=False)
        assert_same(db_url, other)


def test_a_designation_whose_window_is_read_from_its_reason_is_left_to_the_catch_up(
    db_url: str, tmp_path: Path
) -> None:
    """A line as a version 1 list import wrote it: the window in the reason's prose. The
    store gives it back with the window as data; the bulk path stops following there, and
    the catch-up writes the rest, from the events as they are read."""
    lines = [
        {"type": "subject_registered", "data": {"id": "ann-li", "name": "Ann Li"}},
        {"type": "subject_registered", "data": {"id": "bo-xu", "name": "Bo Xu"}},
        {
            "type": "designated",
            "data": {
                "subject": "ann-li",
                "authority": "UN",
                "regime": "1267",
                "effective": "2021-06-01",
                "measures": ["asset-freeze"],
                "reason": "Listed; on the list published 2021-06-01",
                "sources": ["un-consolidated@2021-06-01/QDi.1"],
            },
        },
        {
            "type": "designated",
            "data": {
                "subject": "bo-xu",
                "authority": "EU",
                "regime": "GHR",
                "effective": "2021-03-02",
                "measures": ["travel-ban"],
            },
        },
    ]
    path = tmp_path / "prose.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    with another_ledger(db_url, tmp_path / "other") as other:
        with read_side(db_url) as views, path.open("rb") as f:
            views.ledger.import_events(read_jsonl(f))
            assert views.position() == 2  # followed up to the designation read otherwise
            assert views.catch_up() == 2
            (row,) = [r for r in views.history("ann-li") if r.type == "designated"]
        one_at_a_time(other, path)
        assert_same(db_url, other)
    assert row.data["start_unknown"] is True


def test_an_import_list_another_writer_overtook_is_caught_up_after_its_commit(
    db_url: str, tmp_path: Path
) -> None:
    """Another process appends while ``import-list`` compares the snapshot with the ledger:
    the rows made for the positions it planned are not written; the catch-up writes them."""

    def import_list_overtaken(url: str, *, bulk: bool) -> None:
        ledger = Ledger(url, user="importer")
        views = Views(ledger) if bulk else None
        overtaken = False

        def compare(done: int, total: int) -> None:
            nonlocal overtaken
            if not overtaken:
                overtaken = True
                other = Ledger(url, user="other")
                other.register_subject("Ann Li", subject_id="ann-li")
                other.close()

        try:
            ledger.import_snapshot(parse("un", need(UN_SMALL)), progress=compare)
        finally:
            if views is not None:
                views.close()
            ledger.close()
        assert overtaken
        with read_side(url) as caught_up:
            caught_up.catch_up()

    with another_ledger(db_url, tmp_path / "other") as other:
        import_list_overtaken(db_url, bulk=True)
        import_list_overtaken(other, bulk=False)
        assert_same(db_url, other)


def test_an_interrupt_while_the_bulk_path_writes_rows_says_nothing_was_written(
    db_url: str, tmp_path: Path
) -> None:
    """Ctrl-C inside the projections' SQL: SQLAlchemy discards the connection it passed
    through, and what the command says must still be the interrupt, not the aftermath."""
    path = history(tmp_path, 300, 2)

    def interrupt(cursor: Any, statement: str, parameters: Any, context: Any) -> None:
        if "max(view_periods.id)" in statement:  # numbering a chunk's new period rows
            raise KeyboardInterrupt  # where a signal lands: inside the driver's call

    event.listen(Engine, "do_execute", interrupt)
    try:
        result = CliRunner().invoke(cli, ["--db", db_url, "import", str(path)])
    finally:
        event.remove(Engine, "do_execute", interrupt)
    assert result.exit_code == 130, result.output
    assert result.output.strip().splitlines()[-1] == "Error: interrupted; nothing was written"
    assert stored(db_url) == []
    assert CliRunner().invoke(cli, ["--db", db_url, "verify"]).output.startswith("OK: 0 events")
