"""The list entry an event comes from is a field (``list_entry``), read from older events by
an upcaster, and stored as ever: the tag in ``sources``.

The fixture was written by main at e936a7c, just before this change, with windows stored as
data (version 2) and list entries only in ``sources``: examples/navalny.jsonl; the small UN
fixture dated 2018-09-03 without KPi.033, then as published (2018-10-29), then dated
2018-11-30 without QDi.290 and with KPi.037 renamed; the small OFAC fixture of 2021-06-01
without 31252, then of 2021-07-07 without 4234. Its projections are dropped.
"""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from lists_support import UN_SMALL, import_file, un_copy
from support import FIXTURES, Sanctions, sqlite_url_in

import ledger.store
from ledger import Ledger
from ledger.domain import Designation, LedgerAggregate, Subject
from ledger.errors import LedgerError
from ledger.facts import ListEntry, entry_of

OLD_LEDGER = FIXTURES / "ledger-with-list-imports-before-issue-14.db"
OLD_EXPORT = FIXTURES / "ledger-with-list-imports-before-issue-14.export.jsonl"
HEAD = 74


def old_ledger(directory: Path) -> Sanctions:
    directory.mkdir()
    shutil.copyfile(OLD_LEDGER, directory / "ledger.db")
    return Sanctions(sqlite_url_in(directory))


def read(url: str, start: int = 1) -> list[ledger.application.RecordedEvent]:
    opened = Ledger(url)
    try:
        return list(opened.read_log(start))
    finally:
        opened.close()


def stored_states(url: str, start: int) -> list[bytes]:
    opened = Ledger(url)
    try:
        return [n.state for n in opened.recorder.select_notifications(start, 1000)]
    finally:
        opened.close()


def test_a_ledger_written_before_list_entries_were_fields_verifies_and_exports_the_same_bytes(
    tmp_path: Path,
) -> None:
    sanctions = old_ledger(tmp_path / "old")
    assert sanctions.ok("verify").stdout.startswith(
        f"OK: {HEAD} events, hash chain verified up to position {HEAD}"
    )
    assert sanctions.ok("export").stdout == OLD_EXPORT.read_text(encoding="utf-8")
    assert sanctions.head()[0] == HEAD  # reading wrote nothing


def test_its_export_restores_and_exports_the_same_bytes(sanctions: Sanctions) -> None:
    restored = sanctions.ok("import", str(OLD_EXPORT)).stdout
    assert restored == f"Restored {HEAD} events (positions 1..{HEAD})\n"
    assert sanctions.ok("export").stdout == OLD_EXPORT.read_text(encoding="utf-8")
    assert sanctions.ok("verify").stdout.startswith(f"OK: {HEAD} events")


def test_every_event_a_list_import_made_names_its_entry_and_no_other_does(
    tmp_path: Path,
) -> None:
    sanctions = old_ledger(tmp_path / "old")
    by_entry: dict[int, tuple[str, ListEntry | None]] = {
        e.position: (e.type, getattr(e.event, "list_entry", None)) for e in read(sanctions.url)
    }
    made_by_imports = [p for p, (_, entry) in by_entry.items() if entry is not None]
    # navalny.jsonl (41 events, entered by hand) cites no list; every subject and designation
    # event of the five imports does (the list_imported events are the list itself).
    assert all(by_entry[p][1] is None for p in range(1, 42))
    assert len(made_by_imports) == HEAD - 41 - 5
    kpi033 = [by_entry[p] for p in made_by_imports if by_entry[p][1].ref == "KPi.033"]  # type: ignore[union-attr]
    assert kpi033 == [
        ("subject_registered", ListEntry("un-consolidated", date(2018, 10, 29), "KPi.033")),
        ("designated", ListEntry("un-consolidated", date(2018, 10, 29), "KPi.033")),
    ]
    changes = {(t, e.list_name, e.published, e.ref) for t, e in by_entry.values() if e}
    assert ("subject_amended", "un-consolidated", date(2018, 11, 30), "KPi.037") in changes
    assert ("delisted", "un-consolidated", date(2018, 11, 30), "QDi.290") in changes
    assert ("delisted", "ofac-sdn", date(2021, 7, 7), "4234") in changes


def test_the_next_import_finds_what_older_imports_designated_by_their_entries(
    tmp_path: Path,
) -> None:
    sanctions = old_ledger(tmp_path / "old")
    later = un_copy(
        UN_SMALL,
        tmp_path / "un.xml",
        generated="2018-12-31T10:00:00.000-04:00",
        remove=["KPi.037", "QDi.290"],
    )
    report = import_file(sanctions.url, "un", later, max_delistings="100%")
    # KPi.037 was designated by the import of 2018-10-29 (stored before list_entry was a
    # field): the import of 2018-12-31 finds it by its entry and delists it.
    assert [(c.subject, c.change, c.reference) for c in report.every_change] == [
        ("un-kpi-037", "delisted", "KPi.037")
    ]
    new = read(sanctions.url, HEAD + 1)
    delisted = new[0].event
    assert isinstance(delisted, Designation.Delisted)
    assert delisted.list_entry == ListEntry("un-consolidated", date(2018, 12, 31), "KPi.037")
    assert delisted.sources == ["un-consolidated@2018-12-31/KPi.037"]
    # Stored as ever: the entry is the tag in sources, no field and no class version.
    for state in stored_states(sanctions.url, HEAD + 1):
        assert b"list_entry" not in state
        assert b"class_version" not in state
    assert sanctions.ok("verify").stdout.startswith(f"OK: {HEAD + 2} events")


def test_a_hand_entered_event_that_cites_a_list_entry_names_it_too(sanctions: Sanctions) -> None:
    sanctions.ok("subject", "add", "Jane Doe", "--source", "ofac-sdn@2021-06-01/99999")
    (event,) = [e.event for e in read(sanctions.url)]
    assert isinstance(event, Subject.Registered)
    assert event.list_entry == ListEntry("ofac-sdn", date(2021, 6, 1), "99999")
    sanctions.ok("subject", "add", "John Doe", "--source", "https://example.org/not-a-tag")
    assert read(sanctions.url)[1].event.list_entry is None  # type: ignore[attr-defined]


def test_an_event_whose_entry_is_not_the_one_its_sources_cite_is_not_stored(
    sqlite_url: str,
) -> None:
    ledger_ = Ledger(sqlite_url)
    ledger_.register_subject("Jane Doe", sources=["un-consolidated@2018-10-29/QDi.001"])
    (recorded,) = read(sqlite_url)
    event = recorded.event
    assert isinstance(event, LedgerAggregate.Event)
    assert entry_of(event.sources) == ListEntry("un-consolidated", date(2018, 10, 29), "QDi.001")
    vars(event)["list_entry"] = ListEntry("ofac-sdn", date(2021, 6, 1), "1")
    with pytest.raises(LedgerError, match="list entry must be the one its sources cite"):
        ledger_.ledger_mapper.stored(event, recorded.recorded_at)


def test_a_record_time_on_a_whole_second_is_stored_with_its_microseconds_and_verifies(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = datetime(2030, 1, 1, 12, 0, 0, tzinfo=UTC)
    monkeypatch.setattr(ledger.store, "utc_now", lambda: whole)
    Ledger(sqlite_url).register_subject("Jane Doe")
    (state,) = stored_states(sqlite_url, 1)
    assert b'"timestamp":{"_type_":"datetime_iso","_data_":"2030-01-01T12:00:00.000000+00:00"}' in (
        state
    )
    (recorded,) = read(sqlite_url)
    assert recorded.event.timestamp == recorded.recorded_at == whole
    assert Sanctions(sqlite_url, init=False).ok("verify").stdout.startswith("OK: 1 events")
