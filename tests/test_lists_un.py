"""The UN Security Council consolidated list of 29 Oct 2018: parsed, imported, diffed."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

import pytest
from lists_support import (
    UN_FILE,
    brief,
    events,
    head,
    import_file,
    need,
    un_copy,
    un_record,
    with_views,
)

from ledger.adapters import InvalidSnapshot, SnapshotConflict, parse
from ledger.adapters.un import REGIMES

AQ = "UN ISIL (Da'esh) and Al-Qaida"


@pytest.fixture(scope="module")
def un_snapshot():  # type: ignore[no-untyped-def]
    return parse("un", need(UN_FILE))


@pytest.fixture
def un_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    import_file(url, "un", need(UN_FILE))
    return url


def test_the_real_file_parses_with_its_counts_and_date(un_snapshot) -> None:  # type: ignore[no-untyped-def]
    s = un_snapshot
    assert s.published == date(2018, 10, 29)
    assert s.counts == {"individuals": 703, "entities": 390}
    assert len(s.entries) == 1093
    assert len({e.subject_id for e in s.entries}) == 1093
    by_ref = {e.ref: e for e in s.entries}
    saddam = by_ref["IQi.001"]
    assert (saddam.subject_id, saddam.name, saddam.listed_on) == (
        "un-iqi-001",
        "SADDAM HUSSEIN AL-TIKRITI",
        date(2003, 6, 27),
    )
    assert saddam.birth_date == date(1937, 4, 28)
    assert [(p.regime, p.measures) for p in saddam.programmes] == [("UN Iraq", ("asset-freeze",))]
    first = by_ref["QDi.001"]
    assert (first.name, first.listed_on, first.programmes[0].regime) == (
        "SAYF-AL ADL",
        date(2001, 1, 25),
        AQ,
    )
    assert "Seif al Adel" in first.aliases
    umarov = by_ref["QDi.290"]
    assert umarov.listed_on == date(2011, 3, 10)
    assert "Умаров Доку Хаматович" in umarov.aliases  # NAME_ORIGINAL_SCRIPT
    omar = by_ref["TAi.004"]
    assert (omar.name, omar.listed_on, omar.programmes[0].regime) == (
        "MOHAMMED OMAR GHULAM NABI",
        date(2000, 4, 12),
        "UN Taliban",
    )
    assert omar.birth_date is None  # years only
    ri = by_ref["KPi.033"]
    assert (ri.name, ri.kind, ri.listed_on) == ("RI WON HO", "person", date(2016, 11, 30))
    assert ri.programmes[0].measures == ("asset-freeze", "travel-ban")
    kinds = {e.kind for e in s.entries if e.ref[2] == "e"}
    assert kinds == {"organization"}
    assert {e.programmes[0].regime for e in s.entries} <= {p.regime for p in REGIMES.values()}


def test_importing_it_records_one_subject_and_one_designation_per_entry(un_url: str) -> None:
    log = events(un_url)
    assert len(log) == 2187
    types = [e.type for e in log]
    assert types.count("subject_registered") == 1093
    assert types.count("designated") == 1093
    assert types[-1] == "list_imported"
    assert {e.recorded_by for e in log} == {"importer"}
    last = log[-1].data
    assert (last["list_name"], last["authority"], last["published"], last["entries"]) == (
        "un-consolidated",
        "UN",
        date(2018, 10, 29),
        1093,
    )
    assert last["summary"].startswith("703 individuals, 390 entities; 1093 subjects registered")
    saddam = [e for e in log if e.type == "designated" and e.data["subject"] == "un-iqi-001"]
    assert saddam[0].data["effective"] == date(2003, 6, 27)  # the list's own date
    assert saddam[0].data["sources"] == ["un-consolidated@2018-10-29/IQi.001"]
    assert saddam[0].data["legal_act"] == "UNSC Resolution 1518 (2003)"

    ledger, views = with_views(un_url)
    try:
        assert len(views.listings(authority="UN", at=date(2018, 10, 29))) == 1093
        iraq = views.listings(authority="UN", regime="UN Iraq", at=date(2018, 10, 29))
        assert len(iraq) == 238
        assert not views.show("un-iqi-001", at=date(2003, 6, 26)).designations
        held = views.show("un-iqi-001", at=date(2003, 6, 27)).designations
        assert [(x.regime, x.measures, x.listed_from) for x in held] == [
            ("UN Iraq", ["asset-freeze"], date(2003, 6, 27))
        ]
    finally:
        views.close()
        ledger.close()


def test_the_same_snapshot_twice_adds_nothing(un_url: str) -> None:
    before = head(un_url)
    report = import_file(un_url, "un", UN_FILE)
    assert report.already_imported and report.events == 0
    assert head(un_url) == before


def test_a_later_snapshot_becomes_exactly_its_differences(un_url: str, tmp_path: Path) -> None:
    """Removed, added (new and restored), renamed, programme changed: the exact events."""

    def change(records: dict[str, ET.Element]) -> None:
        chang = records["KPi.037"]
        second = chang.find("SECOND_NAME")
        assert second is not None
        second.text = "CHANG-HA"
        alias = chang.find("INDIVIDUAL_ALIAS/ALIAS_NAME")
        assert alias is not None
        alias.text = "Jang Changha"
        moved = records["QDi.001"].find("UN_LIST_TYPE")
        assert moved is not None
        moved.text = "Taliban"

    later = un_copy(
        UN_FILE,
        tmp_path / "consolidated-2018-11-20.xml",
        generated="2018-11-20T18:00:00.000-05:00",
        remove=["KPi.033"],
        add=[
            un_record("QDi.901", ["NEW", "PERSON"], list_type="Al-Qaida", listed_on="2018-11-15"),
            un_record("QDi.902", ["OLD", "PERSON"], list_type="Al-Qaida", listed_on="2010-05-05"),
        ],
        change=change,
    )
    start = head(un_url)[0] + 1
    report = import_file(un_url, "un", later)
    assert (report.previous, report.published) == (date(2018, 10, 29), date(2018, 11, 20))
    new = events(un_url, start)
    assert [brief(e) for e in new] == [
        (
            "subject_amended",
            "un-kpi-037",
            {
                "name": "CHANG CHANG-HA",
                "add_aliases": ["Jang Changha"],
                "remove_aliases": ["Jang Chang Ha"],
            },
        ),
        ("designated", "un-qdi-001", "UN Taliban", "2018-11-20"),
        ("subject_registered", "un-qdi-901"),
        ("designated", "un-qdi-901", AQ, "2018-11-15"),
        ("subject_registered", "un-qdi-902"),
        ("designated", "un-qdi-902", AQ, "2018-11-20"),
        ("delisted", "un-kpi-033", "UN DPRK", "2018-11-20"),
        ("delisted", "un-qdi-001", AQ, "2018-11-20"),
        ("list_imported", "un-consolidated", "2018-11-20"),
    ]
    assert (report.registered, report.subjects_amended) == (2, 1)
    assert (report.designated, report.amended, report.delisted) == (3, 0, 2)
    reasons = {(e.type, e.data.get("subject")): e.data.get("reason") for e in new}
    assert reasons["delisted", "un-kpi-033"] == (
        "UN Security Council consolidated list KPi.033: removed from the list between "
        "2018-10-30 and 2018-11-20 (on the list of 2018-10-29, not on that of 2018-11-20)"
    )
    assert reasons["designated", "un-qdi-901"] == (
        "UN Security Council consolidated list QDi.901, listed on 2018-11-15"
    )
    assert reasons["designated", "un-qdi-902"] == (
        "UN Security Council consolidated list QDi.902, listed on 2010-05-05"
    )
    windows = {
        e.data["subject"]: (e.data.get("listed_after"), e.data.get("start_unknown"))
        for e in new
        if e.type == "designated"
    }
    assert windows == {  # restored with an older listing date: added since the last snapshot
        "un-qdi-001": (date(2018, 10, 29), False),
        "un-qdi-901": (None, None),
        "un-qdi-902": (date(2018, 10, 29), False),
    }
    assert [e.data["sources"] for e in new if e.type == "delisted"] == [
        ["un-consolidated@2018-11-20/KPi.033"],
        ["un-consolidated@2018-11-20/QDi.001"],
    ]

    ledger, views = with_views(un_url)
    try:
        changes = views.diff(date(2018, 10, 29), date(2018, 11, 20), authority="UN")
        assert sorted((c.change, c.subject_id, c.effective_date) for c in changes) == [
            ("added", "un-qdi-001", date(2018, 11, 20)),
            ("added", "un-qdi-901", date(2018, 11, 15)),
            ("added", "un-qdi-902", date(2018, 11, 20)),
            ("removed", "un-kpi-033", date(2018, 11, 20)),
            ("removed", "un-qdi-001", date(2018, 11, 20)),
        ]
        assert len(views.listings(authority="UN", at=date(2018, 11, 20))) == 1094
        # Known before the second import, the ledger still says what it said then.
        assert (
            len(views.listings(authority="UN", at=date(2018, 11, 20), known_at=str(start - 1)))
            == 1093
        )
    finally:
        views.close()
        ledger.close()

    # Either snapshot again: nothing; one published in between, after the later: refused.
    assert import_file(un_url, "un", later).already_imported
    assert import_file(un_url, "un", UN_FILE).already_imported
    between = un_copy(UN_FILE, tmp_path / "between.xml", generated="2018-11-01T09:00:00")
    before = head(un_url)
    with pytest.raises(SnapshotConflict) as caught:
        import_file(un_url, "un", between)
    assert str(caught.value) == (
        "the un-consolidated snapshot of 2018-11-01 is older than the latest imported "
        "(2018-11-20); import snapshots in order of publication"
    )
    assert head(un_url) == before


def test_another_file_with_an_imported_date_is_refused(un_url: str, tmp_path: Path) -> None:
    other = un_copy(UN_FILE, tmp_path / "other.xml", remove=["KPi.033"])
    before = head(un_url)
    with pytest.raises(
        SnapshotConflict, match="a different un-consolidated snapshot of 2018-10-29"
    ):
        import_file(un_url, "un", other)
    assert head(un_url) == before


@pytest.mark.parametrize(
    ("cut", "message"),
    [
        (
            "truncate",
            r"bad.xml line \d+: the file ends inside <\w+>, before </CONSOLIDATED_LIST>: "
            r"it is truncated",
        ),
        ("no-ref", r"line \d+: INDIVIDUAL without REFERENCE_NUMBER"),
        ("bad-date", r"line \d+ \(INDIVIDUAL KPi.037\): LISTED_ON '2016-13-30' is not a date"),
        ("bad-type", r"\(ENTITY CDe.001\): unknown UN_LIST_TYPE 'Atlantis'"),
    ],
)
def test_a_malformed_file_is_refused_naming_the_line_and_nothing_is_written(
    un_url: str, tmp_path: Path, cut: str, message: str
) -> None:
    bad = tmp_path / "bad.xml"

    def change(records: dict[str, ET.Element]) -> None:
        if cut == "no-ref":
            ref = records["KPi.037"].find("REFERENCE_NUMBER")
            assert ref is not None
            ref.text = ""
        elif cut == "bad-date":
            listed = records["KPi.037"].find("LISTED_ON")
            assert listed is not None
            listed.text = "2016-13-30"
        elif cut == "bad-type":
            kind = records["CDe.001"].find("UN_LIST_TYPE")
            assert kind is not None
            kind.text = "Atlantis"

    un_copy(UN_FILE, bad, generated="2018-12-01T10:00:00", change=change)
    if cut == "truncate":
        data = bad.read_bytes()
        bad.write_bytes(data[: len(data) // 2])
    before = head(un_url)
    with pytest.raises(InvalidSnapshot, match=message):
        import_file(un_url, "un", bad)
    assert head(un_url) == before  # a fresh Ledger on the same store: nothing written


def test_the_error_names_the_real_line(tmp_path: Path) -> None:
    text = need(UN_FILE).read_text(encoding="utf-8").splitlines(keepends=True)
    line = next(i for i, t in enumerate(text, 1) if "<REFERENCE_NUMBER>QDi.290" in t)
    text[line - 1] = text[line - 1].replace(
        "<REFERENCE_NUMBER>QDi.290", "<REFERENCE_NUMBER>QDi-290"
    )
    bad = tmp_path / "bad.xml"
    bad.write_text("".join(text), encoding="utf-8")
    with pytest.raises(InvalidSnapshot) as caught:
        parse("un", bad)
    assert str(caught.value).startswith(f"bad.xml line {line}: INDIVIDUAL QDi-290: ")
