"""List imports on both stores (SQLite and PostgreSQL), with the project's small fixtures:
the command line, all or nothing, hand-entered designations, measures, export and restore."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

import pytest
from lists_support import (
    OFAC_SMALL,
    UN_SMALL,
    brief,
    events,
    head,
    import_file,
    ofac_copy,
    un_copy,
    un_record,
)
from support import Sanctions, another_ledger_like

from ledger.adapters import InvalidSnapshot, un
from ledger.adapters.snapshot import Programme

AQ = "UN ISIL (Da'esh) and Al-Qaida"


def test_import_list_on_the_command_line(sanctions: Sanctions, tmp_path: Path) -> None:
    out = sanctions.ok("import-list", "un", str(UN_SMALL)).output
    assert out.splitlines() == [
        "Imported un-consolidated of 2018-10-29 (4 individuals, 2 entities): 13 events "
        "(positions 1..13)",
        "  6 subjects registered, 0 amended; 6 designations added, 0 amended, 0 delisted",
    ]
    again = sanctions.ok("import-list", "un", str(UN_SMALL)).output
    assert again.startswith("Already imported: un-consolidated of 2018-10-29")
    assert sanctions.head()[0] == 13

    out = sanctions.ok(
        "import-list", "ofac-sdn", str(OFAC_SMALL), "--published", "2021-06-01"
    ).output
    assert "14 events (positions 14..27)" in out  # 6 subjects, 7 designations, the list

    listed = json.loads(sanctions.ok("list", "--at", "2021-06-01", "--format", "json").output)
    assert len(listed) == 13
    show = sanctions.ok("show", "un-iqi-001", "--at", "2018-10-29").output
    assert "UN Iraq" in show and "listed on 2003-06-27" in show
    history = sanctions.ok("history", "ofac-31126").output
    assert "NPWMD" in history and "UKRAINE-EO13661" in history and "importer" not in history

    sanctions.refused(
        ["import-list", "ofac-sdn", str(OFAC_SMALL), "--published", "2021-05-01"],
        "Error: the ofac-sdn snapshot of 2021-05-01 is older than the latest imported "
        "(2021-06-01); import snapshots in order of publication",
    )
    sanctions.refused(
        ["import-list", "ofac-sdn", str(OFAC_SMALL)],
        f"Error: {OFAC_SMALL}: the SDN CSV files carry no publication date: give --published DATE",
    )
    sanctions.refused(
        ["import-list", "un", str(UN_SMALL), "--published", "2018-10-30"],
        "Error: un-consolidated-small.xml: the file says it was generated on 2018-10-29; "
        "--published 2018-10-30 disagrees (leave it out)",
    )
    bad = tmp_path / "bad.xml"
    bad.write_bytes(UN_SMALL.read_bytes().replace(b"</INDIVIDUALS>", b"</INDIVIDUAL>"))
    sanctions.refused(
        ["import-list", "un", str(bad)],
        "Error: bad.xml line 13, column 7: malformed XML (mismatched tag)",
    )
    result = sanctions("import-list", "eu", str(bad))
    assert result.exit_code == 2 and "'eu' is not one of 'ofac-sdn', 'un'" in result.output


def test_a_later_snapshot_on_both_stores(db_url: str, tmp_path: Path) -> None:
    import_file(db_url, "un", UN_SMALL)

    def change(records: dict[str, ET.Element]) -> None:
        record = records["IQi.001"]
        dob = record.find("INDIVIDUAL_DATE_OF_BIRTH/DATE")
        assert dob is not None
        dob.text = "1937-04-29"

    later = un_copy(
        UN_SMALL,
        tmp_path / "later.xml",
        generated="2019-01-15T10:00:00",
        remove=["CDe.001"],
        add=[
            un_record(
                "QDe.900",
                ["NEW FRONT"],
                tag="ENTITY",
                list_type="Al-Qaida",
                listed_on="2019-01-02",
                aliases=["Jabhat al-Jadida"],
            )
        ],
        change=change,
    )
    start = head(db_url)[0] + 1
    import_file(db_url, "un", later, max_delistings="1")  # 1 of the 6: over the default 10%
    assert [brief(e) for e in events(db_url, start)] == [
        ("subject_amended", "un-iqi-001", {"birth_date": date(1937, 4, 29)}),
        ("subject_registered", "un-qde-900"),
        ("designated", "un-qde-900", AQ, "2019-01-02"),
        ("delisted", "un-cde-001", "UN Democratic Republic of the Congo", "2019-01-15"),
        ("list_imported", "un-consolidated", "2019-01-15"),
    ]
    registered = events(db_url, start)[1].data
    assert (registered["kind"], registered["aliases"]) == ("organization", ["Jabhat al-Jadida"])


def test_a_failed_import_writes_nothing(db_url: str, tmp_path: Path) -> None:
    """A conflict found while reconciling (after many commands were prepared) writes nothing."""
    s = Sanctions(db_url)
    s.ok("subject", "add", "Chang Chang Ha", "--id", "un-kpi-037")  # registered by hand
    s.ok(
        "designate", "un-kpi-037", "--authority", "UN", "--regime", "UN DPRK",
        "--effective", "2016-01-01", "--until", "2017-12-31", "--measure", "asset-freeze",
    )  # fmt: skip
    before = head(db_url)
    later = un_copy(UN_SMALL, tmp_path / "later.xml")
    with pytest.raises(InvalidSnapshot) as caught:
        import_file(db_url, "un", later)
    assert str(caught.value) == (
        "later.xml line 7 (INDIVIDUAL KPi.037): un-kpi-037 by UN under 'UN DPRK' is already "
        "designated on 2016-11-30 (since 2016-01-01)"
    )
    assert head(db_url) == before


def test_hand_entered_designations_are_left_alone(db_url: str, tmp_path: Path) -> None:
    s = Sanctions(db_url)
    s.ok("subject", "add", "Ri Won Ho", "--id", "un-kpi-033")
    s.ok(
        "designate", "un-kpi-033", "--authority", "UN", "--regime", "UN DPRK",
        "--effective", "2016-11-30", "--measure", "travel-ban",
    )  # fmt: skip
    start = head(db_url)[0] + 1
    report = import_file(db_url, "un", UN_SMALL)
    assert report.left_alone == 1
    assert ("designated", "un-kpi-033", "UN DPRK", "2016-11-30") not in [
        brief(e) for e in events(db_url, start)
    ]
    # Gone from the next snapshot: the hand-entered designation is not delisted.
    later = un_copy(UN_SMALL, tmp_path / "later.xml", generated="2019-01-01", remove=["KPi.033"])
    start = head(db_url)[0] + 1
    import_file(db_url, "un", later, max_delistings="1")  # 1 of the 6: over the default 10%
    assert [brief(e) for e in events(db_url, start)] == [
        ("list_imported", "un-consolidated", "2019-01-01")
    ]


def test_a_changed_measures_table_amends(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import_file(db_url, "un", UN_SMALL)
    dprk = un.REGIMES["DPRK"]
    monkeypatch.setitem(
        un.REGIMES, "DPRK", Programme(dprk.regime, ("arms-embargo", "asset-freeze"), None)
    )
    later = un_copy(UN_SMALL, tmp_path / "later.xml", generated="2019-02-01")
    start = head(db_url)[0] + 1
    import_file(db_url, "un", later, max_delistings="1")  # 1 of the 6: over the default 10%
    new = events(db_url, start)
    assert [brief(e) for e in new] == [
        ("amended", "un-kpi-033", "UN DPRK", "2019-02-01", ["arms-embargo"], ["travel-ban"]),
        ("amended", "un-kpi-037", "UN DPRK", "2019-02-01", ["arms-embargo"], ["travel-ban"]),
        ("list_imported", "un-consolidated", "2019-02-01"),
    ]
    assert new[0].data["reason"] == (
        "UN Security Council consolidated list KPi.033, listed on 2016-11-30; measures "
        "changed between 2018-10-30 and 2019-02-01"
    )


def test_export_and_restore_keep_the_list_imports(db_url: str, tmp_path: Path) -> None:
    s = Sanctions(db_url)
    import_file(db_url, "un", UN_SMALL)
    import_file(db_url, "ofac-sdn", OFAC_SMALL, date(2021, 6, 1))
    exported = s.ok("export").output
    lines = [json.loads(line) for line in exported.splitlines()]
    assert [line["type"] for line in lines].count("list_imported") == 2
    with another_ledger_like(db_url, tmp_path / "other") as other:
        o = Sanctions(other)
        o.ok("import", "-", input=exported)
        assert o.head() == s.head()
        # The restored ledger knows what it imported: the same snapshot adds nothing,
        # a later one is compared with it.
        assert import_file(other, "ofac-sdn", OFAC_SMALL, date(2021, 6, 1)).already_imported
        later = ofac_copy(OFAC_SMALL, tmp_path / "later", remove=["4234"])
        start = o.head()[0] + 1
        import_file(other, "ofac-sdn", later, date(2021, 7, 1), max_delistings="15%")
        assert [brief(e) for e in events(other, start)] == [
            ("delisted", "ofac-4234", "CUBA", "2021-07-01"),
            ("list_imported", "ofac-sdn", "2021-07-01"),
        ]
