"""Importing a list snapshot safely: whole files only, a limit on delistings, a dry run.

A snapshot that is cut, mis-encoded, damaged or missing its entries is refused with one
``Error:`` line naming the file, the line or record and what is wrong; one that would delist
more than the limit (default 10% of the list's designations in force) is refused, saying how
to allow it; ``--dry-run`` reports every change and the verdict and writes nothing. In every
refusal the ledger is unchanged: the same head and the same export.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

import pytest
from lists_support import (
    OFAC_DIR,
    OFAC_PUBLISHED,
    OFAC_SMALL,
    UN_FILE,
    UN_SMALL,
    brief,
    events,
    head,
    import_file,
    need,
    ofac_copy,
    un_copy,
)
from support import Sanctions

from ledger.adapters import DelistingLimit, TooManyDelistings, parse

UN_REFUSAL = (
    "Error: this snapshot would delist 1,092 of the 1,093 designations of un-consolidated "
    "in force; if that is right, allow it with --max-delistings 1092 (or a percentage such "
    "as --max-delistings 100%)"
)


def un_refs(path: Path) -> list[str]:
    return [e.ref for e in parse("un", path).entries]


def un_keeping(src: Path, dst: Path, keep: set[str], generated: str) -> Path:
    """A well-formed copy of a UN list that kept only some entries."""
    return un_copy(src, dst, generated=generated, remove=[r for r in un_refs(src) if r not in keep])


def refused_unchanged(s: Sanctions, args: list[str], error: str, code: int = 1) -> None:
    """Exactly this one error line and exit code; the same head and export afterwards."""
    before = s.ok("export").stdout
    s.refused(args, error, code)
    assert s.ok("export").stdout == before


# ------------------------------------------------------------------ the real files


def test_the_real_files_pass_every_completeness_check() -> None:
    un = parse("un", need(UN_FILE))
    assert (len(un.entries), un.notes) == (1093, ())
    assert all(e.listed_on is not None for e in un.entries)  # every record has LISTED_ON
    ofac = parse("ofac-sdn", need(OFAC_DIR), published=OFAC_PUBLISHED)
    assert (len(ofac.entries), ofac.notes) == (8976, ())


# ------------------------------------------------------------------ the delisting limit


def test_a_snapshot_that_kept_one_entry_is_refused_naming_how_many_it_would_delist(
    db_url: str, tmp_path: Path
) -> None:
    s = Sanctions(db_url)
    s.ok("import-list", "un", str(need(UN_FILE)))
    one = un_keeping(UN_FILE, tmp_path / "one.xml", {"QDi.001"}, "2018-10-30T10:00:00")
    refused_unchanged(s, ["import-list", "un", str(one)], UN_REFUSAL)
    refused_unchanged(s, ["import-list", "un", str(one), "--max-delistings", "1091"], UN_REFUSAL)
    refused_unchanged(s, ["import-list", "un", str(one), "--max-delistings", "99%"], UN_REFUSAL)
    out = s.ok("import-list", "un", str(one), "--max-delistings", "1092").output
    assert out.splitlines()[:2] == [
        "Imported un-consolidated of 2018-10-30 (1 individuals, 0 entities): 1093 events "
        "(positions 2188..3280)",
        "  0 subjects registered, 0 amended; 0 designations added, 0 amended, 1092 delisted",
    ]
    listed = json.loads(
        s.ok("list", "--authority", "UN", "--at", "2018-10-30", "--format", "json").output
    )
    assert [row["subject_id"] for row in listed] == ["un-qdi-001"]


def test_the_default_limit_is_ten_percent_of_the_designations_in_force(
    sqlite_url: str, tmp_path: Path
) -> None:
    import_file(sqlite_url, "un", need(UN_FILE))
    refs = un_refs(UN_FILE)
    before = head(sqlite_url)
    # 109 of 1,093 is 9.97%: allowed; 110 is 10.06%: refused.
    allowed = un_keeping(UN_FILE, tmp_path / "a.xml", set(refs[109:]), "2018-10-30T10:00:00")
    report = import_file(sqlite_url, "un", allowed, dry_run=True)
    assert (report.delisted, report.in_force, report.refusal) == (109, 1093, None)
    over = un_keeping(UN_FILE, tmp_path / "b.xml", set(refs[110:]), "2018-10-30T10:00:00")
    report = import_file(sqlite_url, "un", over, dry_run=True)
    assert (report.delisted, report.in_force) == (110, 1093)
    assert report.refusal == (
        "this snapshot would delist 110 of the 1,093 designations of un-consolidated in "
        "force; if that is right, allow it with --max-delistings 110 (or a percentage such "
        "as --max-delistings 11%)"
    )
    with pytest.raises(TooManyDelistings, match="would delist 110 of the 1,093"):
        import_file(sqlite_url, "un", over)
    assert head(sqlite_url) == before
    assert import_file(sqlite_url, "un", over, max_delistings="11%").delisted == 110


def test_only_designations_the_list_made_and_still_in_force_count(
    db_url: str, tmp_path: Path
) -> None:
    """Delisted earlier, or entered by hand: neither is in the count the limit is measured on."""
    s = Sanctions(db_url)
    s.ok("subject", "add", "Someone Else", "--id", "someone-else")
    s.ok("designate", "someone-else", "--authority", "UN", "--regime", "UN DPRK",
         "--effective", "2018-01-01", "--measure", "asset-freeze")  # fmt: skip
    import_file(db_url, "un", UN_SMALL)
    refs = un_refs(UN_SMALL)
    first = un_keeping(UN_SMALL, tmp_path / "a.xml", set(refs[1:]), "2018-11-01T10:00:00")
    assert import_file(db_url, "un", first, max_delistings="1").delisted == 1
    second = un_keeping(UN_SMALL, tmp_path / "b.xml", set(refs[2:]), "2018-11-02T10:00:00")
    report = import_file(db_url, "un", second, dry_run=True)
    assert (report.delisted, report.in_force) == (1, 5)
    assert report.refusal is not None and "would delist 1 of the 5 designations" in report.refusal


@pytest.mark.parametrize("value", ["abc", "-1", "10x", "101%", "12.5.1%", "%", "", "1e3", "5 %%"])
def test_a_malformed_max_delistings_is_a_usage_error(sanctions: Sanctions, value: str) -> None:
    sanctions.refused(
        ["import-list", "un", str(UN_SMALL), "--max-delistings", value],
        f"Error: Invalid value for '--max-delistings': {value.strip()!r} is neither a number "
        "of delistings (such as 1092) nor a percentage from 0% to 100% (such as 25%)",
        code=2,
    )
    assert sanctions.head()[0] == 0


def test_a_limit_parses_as_a_number_or_a_percentage() -> None:
    assert DelistingLimit.parse("0").allows(0, 10)
    assert not DelistingLimit.parse("0").allows(1, 10)
    assert DelistingLimit.parse("12.5%").allows(1, 8)
    assert not DelistingLimit.parse("12.5%").allows(2, 8)
    assert DelistingLimit.parse(" 100% ").allows(7, 7)
    assert str(DelistingLimit.parse("12.5%")) == "12.5%"


# ------------------------------------------------------------------ the dry run


def test_a_dry_run_reports_every_change_and_the_refusal_and_writes_nothing(
    db_url: str, tmp_path: Path
) -> None:
    s = Sanctions(db_url)
    s.ok("import-list", "un", str(need(UN_FILE)))
    one = un_keeping(UN_FILE, tmp_path / "one.xml", {"QDi.001"}, "2018-10-30T10:00:00")
    before, export = s.head(), s.ok("export").stdout
    table = s.ok("import-list", "un", str(one), "--dry-run").stdout.splitlines()
    assert table[:4] == [
        "Dry run: un-consolidated of 2018-10-30 (1 individuals, 0 entities): would record "
        "1093 events; nothing written",
        "  0 subjects registered, 0 amended; 0 designations added, 0 amended, 1092 delisted",
        "  compared with the snapshot of 2018-10-29",
        "  the import would be refused: " + UN_REFUSAL.removeprefix("Error: "),
    ]
    assert sum("\tdelisted\t2018-10-30\t" in line for line in table) == 1092
    report = json.loads(s.ok("import-list", "un", str(one), "--dry-run", "--format", "json").stdout)
    assert (report["dry_run"], report["refused"], report["delisted"], report["in_force"]) == (
        True,
        True,
        1092,
        1093,
    )
    assert report["refusal"] == UN_REFUSAL.removeprefix("Error: ")
    assert len(report["changes"]) == 1092
    assert report["changes"][0] == {
        "subject": "un-cde-001",
        "regime": "UN Democratic Republic of the Congo",
        "change": "delisted",
        "effective": "2018-10-30",
        "reference": "CDe.001",
    }
    assert "un-qdi-001" not in {c["subject"] for c in report["changes"]}
    assert s.head() == before
    assert s.ok("export").stdout == export


def test_a_dry_run_lists_exactly_what_the_import_then_records(db_url: str, tmp_path: Path) -> None:
    s = Sanctions(db_url)
    s.ok("import-list", "ofac-sdn", str(OFAC_SMALL), "--published", "2021-06-01")
    later = ofac_copy(
        OFAC_SMALL, tmp_path / "later", remove=["4234"],
        rows={"99001": '99001,"NEW, Person","individual","SDGT",-0- ,-0- ,-0- ,-0- ,-0- ,'
                       '-0- ,-0- ,"DOB 01 Jan 1970."'},
    )  # fmt: skip
    args = ["import-list", "ofac-sdn", str(later), "--published", "2021-07-01",
            "--max-delistings", "1"]  # fmt: skip
    before = s.head()
    dry = json.loads(s.ok(*args, "--dry-run", "--format", "json").stdout)
    assert s.head() == before
    assert (dry["refused"], dry["max_delistings"], dry["events"]) == (False, "1", 4)
    assert [(c["change"], c["subject"], c["regime"], c["effective"]) for c in dry["changes"]] == [
        ("subject registered", "ofac-99001", None, None),
        ("designated", "ofac-99001", "SDGT", "2021-07-01"),
        ("delisted", "ofac-4234", "CUBA", "2021-07-01"),
    ]
    text = s.ok(*args, "--dry-run").stdout.splitlines()
    assert "  within the delisting limit: 1 of 7 in force (--max-delistings 1)" in text
    s.ok(*args)
    assert [brief(e) for e in events(db_url, before[0] + 1)] == [
        ("subject_registered", "ofac-99001"),
        ("designated", "ofac-99001", "SDGT", "2021-07-01"),
        ("delisted", "ofac-4234", "CUBA", "2021-07-01"),
        ("list_imported", "ofac-sdn", "2021-07-01"),
    ]


# ------------------------------------------------------------------ whole UN files


def _un_text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


UN_CASES: dict[str, str] = {
    # how the file is broken: the exact error after "Error: "
    "no-date": "list.xml line 2: CONSOLIDATED_LIST has no dateGenerated: not a whole UN "
    "consolidated list (the UN writes it on every file)",
    "no-entries": "list.xml: no entries (no INDIVIDUAL or ENTITY): not a whole UN consolidated "
    "list",
    "no-listed-on": "list.xml line 4 (INDIVIDUAL KPi.033): no listing date (LISTED_ON is empty)",
    "wrong-section": "list.xml line 14 (ENTITY CDe.001): ENTITY inside <INDIVIDUALS> (expected "
    "it inside <ENTITIES>)",
    "truncated": "list.xml line 10: the file ends inside <COMMENTS1>, before "
    "</CONSOLIDATED_LIST>: it is truncated (download it again)",
    "latin-1": "list.xml line 16, column 866: not valid UTF-8 (byte 0xe9); the file is "
    "mis-encoded or damaged (download it again)",
    "duplicated": "list.xml line 14 (INDIVIDUAL KPi.033): REFERENCE_NUMBER KPi.033 is listed "
    "twice (first at line 4)",
}


def broken_un(kind: str, dst: Path) -> Path:
    """The small UN fixture, dated later, broken one way."""
    later = un_copy(UN_SMALL, dst.with_suffix(".tmp"), generated="2018-11-20T10:00:00")
    text = _un_text(later)
    lines = text.splitlines(keepends=True)
    if kind == "no-date":
        text = text.replace(' dateGenerated="2018-11-20T10:00:00"', "")
    elif kind == "no-entries":
        root = ET.fromstring(text)
        for section in root:
            section.clear()
        text = ET.tostring(root, encoding="unicode")
    elif kind == "no-listed-on":
        text = text.replace("<LISTED_ON>2016-11-30</LISTED_ON>", "<LISTED_ON/>", 1)
    elif kind == "wrong-section":  # the first ENTITY moved under INDIVIDUALS
        start = text.index("<ENTITY>")
        end = text.index("</ENTITY>") + len("</ENTITY>")
        entity = text[start:end]
        text = text[:start] + text[end:]
        text = text.replace("</INDIVIDUALS>", entity + "</INDIVIDUALS>")
    elif kind == "truncated":
        text = "".join(lines[:10])
    elif kind == "duplicated":
        first = text[text.index("<INDIVIDUAL>") : text.index("</INDIVIDUAL>") + 13]
        end = text.index("</INDIVIDUALS>")
        text = text[:end] + first + text[end:]
    if kind == "latin-1":
        dst.write_bytes(text.encode("cp1252", errors="replace"))
    else:
        dst.write_text(text, encoding="utf-8")
    later.unlink()
    return dst


@pytest.mark.parametrize("kind", list(UN_CASES))
def test_an_incomplete_un_file_is_refused_naming_line_and_fault(
    db_url: str, tmp_path: Path, kind: str
) -> None:
    s = Sanctions(db_url)
    s.ok("import-list", "un", str(UN_SMALL))
    bad = broken_un(kind, tmp_path / "list.xml")
    refused_unchanged(s, ["import-list", "un", str(bad)], f"Error: {UN_CASES[kind]}")


# ------------------------------------------------------------------ whole OFAC folders


def broken_ofac(kind: str, dst: Path) -> Path:
    folder = ofac_copy(OFAC_SMALL, dst)
    sdn, alt, add = folder / "sdn.csv", folder / "alt.csv", folder / "add.csv"
    if kind == "cut-at-line":
        data = sdn.read_bytes()
        sdn.write_bytes(data[: data.rindex(b"\r\n", 0, len(data) - 3) + 2])
    elif kind == "cut-in-row":
        data = alt.read_bytes()
        alt.write_bytes(data[:300])
    elif kind == "empty-line":
        lines = sdn.read_bytes().split(b"\r\n")
        sdn.write_bytes(b"\r\n".join([*lines[:2], b"", *lines[2:]]))
    elif kind == "empty-alias":
        alt.write_bytes(alt.read_bytes().replace(b'"CONCERN KALASHNIKOV"', b"-0- "))
    elif kind == "alt-twice":
        lines = alt.read_bytes().split(b"\r\n")
        alt.write_bytes(b"\r\n".join([*lines[:3], lines[1], *lines[3:]]))
    elif kind == "add-twice":
        add.write_bytes(add.read_bytes().replace(b"16911,25612,", b"16911,2233,"))
    elif kind == "no-entries":
        sdn.write_bytes(b"\x1a")
        for f in (alt, add, folder / "sdn_comments.csv"):
            f.unlink()
    elif kind == "latin-1":
        sdn.write_bytes(sdn.read_bytes().replace(b"ZOLOTOV", "ZOLOTÖV".encode("latin-1")))
    return folder


OFAC_CASES: dict[str, str] = {
    "cut-at-line": "sdn.csv line 5: the file ends without OFAC's end-of-file mark (Ctrl-Z): it "
    "is truncated (download it again)",
    "cut-in-row": "alt.csv line 6: the file ends without OFAC's end-of-file mark (Ctrl-Z): it "
    "is truncated (download it again)",
    "empty-line": "sdn.csv line 3: an empty line (OFAC's files have none): the file is damaged "
    "(download it again)",
    "empty-alias": "alt.csv line 1: alternate name 25838 of entry 16911 is empty",
    "alt-twice": "alt.csv line 4: alt_num 26036 is listed twice (first at line 2)",
    "add-twice": "add.csv line 2: add_num 2233 is listed twice (first at line 1)",
    "no-entries": "{folder}/sdn.csv: no entries",
    "latin-1": "sdn.csv line 2, column 13: not valid UTF-8 (byte 0xd6); the file is mis-encoded "
    "or damaged (download it again)",
}


@pytest.mark.parametrize("kind", list(OFAC_CASES))
def test_an_incomplete_sdn_folder_is_refused_naming_file_line_and_fault(
    db_url: str, tmp_path: Path, kind: str
) -> None:
    s = Sanctions(db_url)
    s.ok("import-list", "ofac-sdn", str(OFAC_SMALL), "--published", "2021-06-01")
    folder = broken_ofac(kind, tmp_path / "bad")
    refused_unchanged(
        s,
        ["import-list", "ofac-sdn", str(folder), "--published", "2021-07-01"],
        "Error: " + OFAC_CASES[kind].format(folder=folder),
    )


def test_what_the_sdn_parser_leaves_out_is_reported(sanctions: Sanctions, tmp_path: Path) -> None:
    """A missing optional file and a birth date that is no calendar date: said, not dropped."""
    folder = ofac_copy(
        OFAC_SMALL, tmp_path / "sdn",
        rows={"99001": '99001,"NEW, Person","individual","SDGT",-0- ,-0- ,-0- ,-0- ,-0- ,'
                       '-0- ,-0- ,"DOB 31 Feb 1970."'},
    )  # fmt: skip
    (folder / "alt.csv").unlink()
    out = sanctions.ok("import-list", "ofac-sdn", str(folder), "--published", "2021-06-01")
    assert out.stdout.splitlines()[2:] == [
        "  note: no alt.csv in the folder: the entries have no aliases",
        "  note: 1 dates of birth in the remarks are not calendar dates and were left out "
        "(sdn.csv lines 7)",
    ]


def test_remarks_split_over_several_comment_rows_are_kept_whole(tmp_path: Path) -> None:
    folder = ofac_copy(OFAC_SMALL, tmp_path / "sdn")
    comments = folder / "sdn_comments.csv"
    kept = comments.read_bytes().rstrip(b"\x1a")
    comments.write_bytes(kept + b'16911," nationality Russia."\r\n')
    entry = next(
        e for e in parse("ofac-sdn", folder, published=date(2021, 6, 1)).entries if e.ref == "16911"
    )
    assert entry.nationality == "Russia"
