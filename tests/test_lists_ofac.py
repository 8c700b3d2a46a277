"""The OFAC SDN list of 2021 (legacy CSV): parsed, imported once per session, diffed."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from lists_support import (
    OFAC_DIR,
    OFAC_PUBLISHED,
    OFAC_SMALL,
    brief,
    copy_ledger,
    events,
    head,
    import_file,
    need,
    ofac_copy,
    real_ledger_template,
    with_views,
)

from ledger.adapters import InvalidSnapshot, parse

ASSET_FREEZE = ["asset-freeze", "funds-prohibition"]


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return real_ledger_template(tmp_path_factory.getbasetemp())


def test_the_real_files_parse_with_their_counts() -> None:
    s = parse("ofac-sdn", need(OFAC_DIR), published=OFAC_PUBLISHED)
    assert s.published == OFAC_PUBLISHED
    assert s.counts == {"individuals": 4620, "entities": 3673, "vessels": 406, "aircraft": 277}
    assert len(s.entries) == 8976
    by_ref = {e.ref: e for e in s.entries}
    kalashnikov = by_ref["31252"]
    assert (kalashnikov.subject_id, kalashnikov.name, kalashnikov.kind) == (
        "ofac-31252",
        "KALASHNIKOV, Alexander Petrovich",
        "person",
    )
    assert kalashnikov.birth_date == date(1964, 1, 27)
    assert kalashnikov.nationality == "Russia"
    assert kalashnikov.aliases == ("KALASHNIKOV, Aleksandr",)
    assert [p.regime for p in kalashnikov.programmes] == ["UKRAINE-EO13661"]
    bortnikov = by_ref["31126"]
    assert [p.regime for p in bortnikov.programmes] == ["NPWMD", "UKRAINE-EO13661"]
    krasnov = by_ref["31251"]
    assert krasnov.aliases == ("KRASNOV, Igor", "KRASNOV, Igor Viktorovich")
    zolotov = by_ref["24326"]
    assert zolotov.position is not None and zolotov.position.startswith("Director of the Federal")
    assert by_ref["36"].name == "AEROCARIBBEAN AIRLINES" and by_ref["36"].kind == "organization"
    assert {e.kind for e in s.entries} == {"person", "organization", "vessel", "aircraft"}
    assert sum(len(e.programmes) for e in s.entries) == 10759
    assert all(p.measures == ("asset-freeze", "funds-prohibition") for p in bortnikov.programmes)


def test_the_real_import_holds_every_entry(real: Path) -> None:
    url = f"sqlite:///{real / 'ledger.db'}"
    log = events(url)
    un, ofac = [i for i, e in enumerate(log) if e.type == "list_imported"]
    assert un + 1 == 2187  # the UN list first: 1093 subjects, 1093 designations
    imported = log[un + 1 : ofac + 1]
    assert len(imported) == 19736
    types = [e.type for e in imported]
    assert (types.count("subject_registered"), types.count("designated")) == (8976, 10759)
    bortnikov = [brief(e) for e in imported if e.data.get("subject") == "ofac-31126"]
    assert bortnikov == [
        ("designated", "ofac-31126", "NPWMD", "2021-06-01"),
        ("designated", "ofac-31126", "UKRAINE-EO13661", "2021-06-01"),
    ]
    ledger, views = with_views(url)
    try:
        assert len(views.listings(authority="US-OFAC", at=OFAC_PUBLISHED)) == 10759
        assert not views.listings(authority="US-OFAC", at=date(2021, 5, 31))
        vessels = views.listings(authority="US-OFAC", kind="vessel", at=OFAC_PUBLISHED)
        assert len({v.subject_id for v in vessels}) == 406
        report = views.show("ofac-31252", at=OFAC_PUBLISHED)
        assert report.subject.birth_date == date(1964, 1, 27)
        assert [(d.authority, d.regime, d.measures) for d in report.designations] == [
            ("US-OFAC", "UKRAINE-EO13661", ASSET_FREEZE)
        ]
    finally:
        views.close()
        ledger.close()


def test_a_later_sdn_list_becomes_exactly_its_differences(real: Path, tmp_path: Path) -> None:
    url = copy_ledger(real, tmp_path / "ledger")
    sdn = (need(OFAC_DIR) / "sdn.csv").read_bytes().decode("utf-8")
    row = {line.split(",", 1)[0]: line for line in sdn.split("\r\n")}
    later = ofac_copy(
        OFAC_DIR,
        tmp_path / "sdn-2021-07-01",
        remove=["31252"],  # delisted
        rows={
            "31126": row["31126"].replace('"NPWMD] [UKRAINE-EO13661"', '"UKRAINE-EO13661"'),
            "24326": row["24326"].replace("ZOLOTOV, Viktor Vasiliyevich", "ZOLOTOV, Viktor"),
            "99999": '99999,"NEW VESSEL","vessel","CUBA",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ',
        },
        alt_rows=['99999,1,"aka","OLD VESSEL",-0- '],
    )
    start = head(url)[0] + 1
    report = import_file(url, "ofac-sdn", later, date(2021, 7, 1))
    new = events(url, start)
    assert [brief(e) for e in new] == [
        ("subject_amended", "ofac-24326", {"name": "ZOLOTOV, Viktor"}),
        ("subject_registered", "ofac-99999"),
        ("designated", "ofac-99999", "CUBA", "2021-07-01"),
        ("delisted", "ofac-31126", "NPWMD", "2021-07-01"),
        ("delisted", "ofac-31252", "UKRAINE-EO13661", "2021-07-01"),
        ("list_imported", "ofac-sdn", "2021-07-01"),
    ]
    assert report.changes() == (
        "1 subjects registered, 1 amended; 1 designations added, 0 amended, 2 delisted"
    )
    added = new[2].data
    assert added["reason"] == "OFAC Specially Designated Nationals list 99999"
    assert (added["listed_after"], added["start_unknown"]) == (date(2021, 6, 1), False)
    vessel = new[1].data
    assert (vessel["kind"], vessel["aliases"]) == ("vessel", ["OLD VESSEL"])
    ledger, views = with_views(url)
    try:
        assert len(views.listings(authority="US-OFAC", at=date(2021, 7, 1))) == 10759 - 2 + 1
        changes = views.diff(date(2021, 6, 1), date(2021, 7, 1), authority="US-OFAC")
        assert [(c.change, c.subject_id, c.regime) for c in changes] == [
            ("removed", "ofac-31126", "NPWMD"),
            ("removed", "ofac-31252", "UKRAINE-EO13661"),
            ("added", "ofac-99999", "CUBA"),
        ]
        # The UN list's designations were not touched by the OFAC import.
        assert len(views.listings(authority="UN", at=date(2021, 7, 1))) == 1093
    finally:
        views.close()
        ledger.close()


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ("fields", r"^sdn.csv line 3: expected 12 fields, found 11$"),
        ("ent", r"^sdn.csv line 2: ent_num 'X24326' is not a number$"),
        ("orphan", r"^alt.csv line 12: ent_num 77777 is not in sdn.csv$"),
        ("type", r"^sdn.csv line 6: entry 4234 has the unknown type 'ship'"),
        ("twice", r"^sdn.csv line 7: ent_num 4234 is listed twice \(first at line 6\)$"),
        ("quote", r"^sdn.csv line 7: malformed CSV"),
    ],
)
def test_malformed_files_are_refused_naming_file_and_line(
    tmp_path: Path, edit: str, message: str
) -> None:
    folder = ofac_copy(OFAC_SMALL, tmp_path / "bad")
    sdn = folder / "sdn.csv"
    lines = sdn.read_bytes().decode("utf-8").rstrip("\x1a").split("\r\n")
    if edit == "fields":
        lines[2] = lines[2].replace(",-0- ,-0- ,", ",-0- ,", 1)
    elif edit == "ent":
        lines[1] = "X" + lines[1]
    elif edit == "orphan":
        alt = folder / "alt.csv"
        text = alt.read_bytes().decode("utf-8").rstrip("\x1a")
        alt.write_bytes((text + '77777,1,"aka","NOBODY",-0- \r\n\x1a').encode("utf-8"))
    elif edit == "type":
        lines[5] = lines[5].replace('"vessel"', '"ship"')
    elif edit == "twice":
        lines.insert(6, lines[5])
    elif edit == "quote":
        lines.insert(6, '5,"STRAY"QUOTE,-0- ,"CUBA"')
    sdn.write_bytes(("\r\n".join(lines) + "\x1a").encode("utf-8"))  # OFAC's end mark
    with pytest.raises(InvalidSnapshot, match=message):
        parse("ofac-sdn", folder, published=OFAC_PUBLISHED)


def test_the_sdn_files_need_a_publication_date() -> None:
    with pytest.raises(InvalidSnapshot, match="carry no publication date: give --published"):
        parse("ofac-sdn", OFAC_SMALL)
