"""Designations whose listing date the source does not give (issue 13: no silent wrong answer).

An entry first seen in a list snapshot without its own listing date is certain from that
snapshot and possible since the previous one (any earlier day when there is none). The window
is event data (``listed_after``, ``start_unknown``); designations recorded before it was
(the window in ``reason``) read as windows, and export and restore as the same bytes.
"""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest
from click.testing import Result
from lists_support import OFAC_DIR, need, ofac_copy
from support import FIXTURES, Sanctions, another_ledger_like, sqlite_url_in

OLD_LEDGER = FIXTURES / "ledger-with-list-imports-before-issue-13.db"
OLD_EXPORT = FIXTURES / "ledger-with-list-imports-before-issue-13.export.jsonl"
"""Written by main before issue 13: examples/navalny.jsonl, a UN snapshot of 2018-09-03 without
KPi.033 then the small UN fixture (2018-10-29), an OFAC snapshot of 2021-06-01 without 31252
then one of 2021-07-07 without 4234 (made from tests/fixtures/ofac-sdn-small)."""

KALASHNIKOV_WINDOW = (
    "listed on some date between 2021-06-02 and 2021-07-07; certain from 2021-07-07"
)
EO = "UKRAINE-EO13661"


def old_ledger(directory: Path) -> Sanctions:
    directory.mkdir()
    shutil.copyfile(OLD_LEDGER, directory / "ledger.db")
    return Sanctions(sqlite_url_in(directory))


def stderr_lines(result: Result) -> list[str]:
    return result.stderr.splitlines()


# ------------------------------------------------------------------ a ledger written before


def test_an_old_ledger_with_list_imports_verifies_and_exports_the_same_bytes(
    tmp_path: Path,
) -> None:
    sanctions = old_ledger(tmp_path / "old")
    assert sanctions.head()[0] == 71
    result = sanctions.ok("verify")
    assert result.stdout.startswith("OK: 71 events, hash chain verified up to position 71")
    assert sanctions.ok("export").stdout == OLD_EXPORT.read_text(encoding="utf-8")
    assert sanctions.head()[0] == 71  # reading wrote nothing


def test_an_old_export_with_list_imports_restores_and_exports_the_same_bytes(
    sanctions: Sanctions,
) -> None:
    assert sanctions.ok("import", str(OLD_EXPORT)).stdout == (
        "Restored 71 events (positions 1..71)\n"
    )
    assert sanctions.ok("export").stdout == OLD_EXPORT.read_text(encoding="utf-8")
    assert sanctions.ok("verify").stdout.startswith("OK: 71 events")


def test_an_old_ledger_answers_possibly_listed_inside_the_windows_its_imports_wrote_as_prose(
    tmp_path: Path,
) -> None:
    sanctions = old_ledger(tmp_path / "old")
    shown = sanctions.ok("show", "ofac-31252", "--at", "2021-06-15", "--format", "json")
    (row,) = json.loads(shown.stdout)["designations"]
    assert (row["regime"], row["certain"], row["listed_after"], row["start_unknown"]) == (
        EO,
        False,
        "2021-06-01",
        False,
    )
    table = sanctions.ok("show", "ofac-31252", "--at", "2021-06-15").stdout
    assert "possibly listed" in table
    assert "2021-06-02" in table  # the window's first day

    listed = sanctions.ok("list", "--authority", "US-OFAC", "--at", "2021-06-15", "--format", "csv")
    assert "ofac-31252" not in listed.stdout
    assert stderr_lines(listed) == [
        "1 more possibly listed on 2021-06-15; --include-uncertain shows them"
    ]
    # The first snapshot of a list: any earlier day is possible.
    early = sanctions.ok("list", "--authority", "US-OFAC", "--at", "2021-05-31", "--format", "csv")
    assert stderr_lines(early) == [
        "6 more possibly listed on 2021-05-31; --include-uncertain shows them"
    ]
    # UN KPi.033, restored with its old LISTED_ON between two snapshots: the same treatment.
    un = sanctions.ok(
        "list", "--authority", "UN", "--at", "2018-10-01", "--include-uncertain", "--format", "json"
    )
    rows = json.loads(un.stdout)
    uncertain = [(r["subject_id"], r["listed_after"]) for r in rows if not r["certain"]]
    assert uncertain == [("un-kpi-033", "2018-09-03")]
    assert stderr_lines(un) == []


def test_an_old_ledger_and_its_restore_give_the_same_uncertain_answers(
    tmp_path: Path,
) -> None:
    old = old_ledger(tmp_path / "old")
    (tmp_path / "restored").mkdir()
    restored = Sanctions(sqlite_url_in(tmp_path / "restored"))
    restored.ok("import", str(OLD_EXPORT))
    for question in (
        ("list", "--at", "2021-06-15", "--include-uncertain", "--format", "csv"),
        ("show", "ofac-31252", "--at", "2021-06-15", "--format", "json"),
        ("history", "ofac-31252", "--format", "json"),
        ("diff", "2021-06-01", "2021-06-30", "--include-uncertain", "--format", "json"),
    ):
        answer = old.ok(*question).stdout
        assert "2021-06-02" in answer, question
        assert answer == restored.ok(*question).stdout, question


# ------------------------------------------------------------------ the queries


def test_list_shows_possible_rows_marked_only_when_asked(sanctions: Sanctions) -> None:
    sanctions.ok("import", str(OLD_EXPORT))
    plain = sanctions.ok("list", "--authority", "US-OFAC", "--at", "2021-06-15", "--format", "json")
    rows = json.loads(plain.stdout)
    assert all(r["certain"] for r in rows)
    wide = sanctions.ok(
        "list",
        "--authority",
        "US-OFAC",
        "--at",
        "2021-06-15",
        "--format",
        "json",
        "--include-uncertain",
    )
    more = json.loads(wide.stdout)
    assert more[: len(rows)] == rows  # the certain rows are untouched
    assert [(r["subject_id"], r["certain"]) for r in more[len(rows) :]] == [("ofac-31252", False)]
    csv_lines = sanctions.ok(
        "list",
        "--authority",
        "US-OFAC",
        "--at",
        "2021-06-15",
        "--format",
        "csv",
        "--include-uncertain",
    ).stdout.splitlines()
    assert csv_lines[0].endswith(",legal_act,certain,window")
    assert csv_lines[-1].endswith(f",false,{KALASHNIKOV_WINDOW}")


def test_export_ftm_counts_possible_rows_and_writes_them_marked_only_when_asked(
    sanctions: Sanctions,
) -> None:
    sanctions.ok("import", str(OLD_EXPORT))

    def sanctions_of(result: Result) -> dict[tuple[str, str], dict[str, list[str]]]:
        entities = [json.loads(x) for x in result.stdout.splitlines()]
        return {
            (e["properties"]["entity"][0], e["properties"]["program"][0]): e["properties"]
            for e in entities
            if e["schema"] == "Sanction"
        }

    plain = sanctions.ok("export-ftm", "--at", "2021-06-15")
    kalashnikov = ("ofac-31252", EO)
    assert kalashnikov not in sanctions_of(plain)
    assert stderr_lines(plain)[-1] == (
        "1 more possibly listed on 2021-06-15; --include-uncertain exports them"
    )
    wide = sanctions.ok("export-ftm", "--at", "2021-06-15", "--include-uncertain")
    assert "more possibly listed" not in wide.stderr
    assert sanctions_of(wide)[kalashnikov]["status"] == [
        f"possibly listed: start uncertain, {KALASHNIKOV_WINDOW}"
    ]
    # The rows certain on the day are written as before, whatever the flag.
    certain = {k: v for k, v in sanctions_of(wide).items() if k != kalashnikov}
    assert certain == sanctions_of(plain)
    later = sanctions.ok("export-ftm", "--at", "2021-07-15")
    assert sanctions_of(later)[kalashnikov]["status"] == [
        f"listed: start uncertain, {KALASHNIKOV_WINDOW}"
    ]
    assert "more possibly listed" not in later.stderr


def test_show_says_possibly_listed_with_the_window_and_listed_once_certain(
    sanctions: Sanctions,
) -> None:
    sanctions.ok("import", str(OLD_EXPORT))
    before = sanctions.ok("show", "ofac-31252", "--at", "2021-06-01", "--format", "csv").stdout
    assert before.splitlines()[1:] == []  # the day of the snapshot without it: not listed
    inside = sanctions.ok("show", "ofac-31252", "--at", "2021-06-02", "--format", "csv").stdout
    assert inside.splitlines()[1].endswith(f",false,{KALASHNIKOV_WINDOW}")
    after = sanctions.ok("show", "ofac-31252", "--at", "2021-07-07", "--format", "csv").stdout
    assert after.splitlines()[1].endswith(f",true,{KALASHNIKOV_WINDOW}")


def test_diff_counts_possible_additions_and_shows_them_when_asked(sanctions: Sanctions) -> None:
    sanctions.ok("import", str(OLD_EXPORT))
    plain = sanctions.ok("diff", "2021-06-01", "2021-06-30", "--authority", "US-OFAC")
    assert plain.stdout == "No changes.\n"
    assert stderr_lines(plain) == [
        "1 more possibly added after 2021-06-01 and up to 2021-06-30; "
        "--include-uncertain shows them"
    ]
    wide = sanctions.ok(
        "diff",
        "2021-06-01",
        "2021-06-30",
        "--authority",
        "US-OFAC",
        "--include-uncertain",
        "--format",
        "json",
    )
    (change,) = json.loads(wide.stdout)
    assert (change["change"], change["subject_id"], change["effective_date"]) == (
        "possibly added",
        "ofac-31252",
        "2021-06-02",
    )
    assert change["details"]["window"] == KALASHNIKOV_WINDOW
    added = sanctions.ok(
        "diff", "2021-07-01", "2021-07-31", "--authority", "US-OFAC", "--format", "json"
    )
    first = json.loads(added.stdout)[0]
    assert (first["change"], first["subject_id"], first["details"]["window"]) == (
        "added",
        "ofac-31252",
        KALASHNIKOV_WINDOW,
    )


def test_history_says_the_start_is_uncertain(sanctions: Sanctions) -> None:
    sanctions.ok("import", str(OLD_EXPORT))
    entries = json.loads(sanctions.ok("history", "ofac-31252", "--format", "json").stdout)
    designated = [e for e in entries if e["type"] == "designated"]
    assert [e["window"] for e in designated] == [KALASHNIKOV_WINDOW]
    table = sanctions.ok("history", "ofac-31252", "--format", "csv").stdout
    assert f"start uncertain: {KALASHNIKOV_WINDOW}" in table


def test_the_window_is_what_the_ledger_knew_at_known_at(sanctions: Sanctions) -> None:
    sanctions.ok("import", str(OLD_EXPORT))
    # Position 67 is the end of the 2021-06-01 import; 31252 came with the next one (68..71).
    before = sanctions.ok(
        "list",
        "--authority",
        "US-OFAC",
        "--at",
        "2021-06-15",
        "--known-at",
        "67",
        "--format",
        "csv",
    )
    assert stderr_lines(before) == []
    after = sanctions.ok(
        "list",
        "--authority",
        "US-OFAC",
        "--at",
        "2021-06-15",
        "--known-at",
        "71",
        "--format",
        "csv",
    )
    assert stderr_lines(after) == [
        "1 more possibly listed on 2021-06-15; --include-uncertain shows them"
    ]


# ------------------------------------------------------------------ by hand and in JSON Lines


@pytest.fixture
def krasnov(sanctions: Sanctions) -> Sanctions:
    sanctions.ok("subject", "add", "Igor Krasnov")
    return sanctions


def test_designate_with_listed_after_is_possibly_listed_in_the_window(krasnov: Sanctions) -> None:
    result = krasnov.ok(
        "designate",
        "igor-krasnov",
        "--authority",
        "UK",
        "--regime",
        "Russia",
        "--effective",
        "2021-07-07",
        "--listed-after",
        "2021-06-01",
        "--measure",
        "asset-freeze",
    )
    assert result.stdout == (
        "Recorded at position 2: designated igor-krasnov by UK under 'Russia' from 2021-07-07 "
        "(asset-freeze)\n"
    )
    (event,) = [e for e in krasnov.events() if e.type == "designated"]
    assert (event.data["listed_after"], event.data["start_unknown"]) == (date(2021, 6, 1), False)
    csv_out = krasnov.ok("show", "igor-krasnov", "--at", "2021-06-02", "--format", "csv").stdout
    assert csv_out.splitlines()[1].endswith(
        ",false,listed on some date between 2021-06-02 and 2021-07-07; certain from 2021-07-07"
    )
    table = krasnov.ok("show", "igor-krasnov", "--at", "2021-06-02").stdout
    assert "possibly listed" in table  # the status column (its cell wraps)


def test_designate_with_an_unknown_start_is_possibly_listed_on_any_earlier_day(
    krasnov: Sanctions,
) -> None:
    krasnov.ok(
        "designate",
        "igor-krasnov",
        "--authority",
        "UK",
        "--regime",
        "Russia",
        "--effective",
        "2021-07-07",
        "--start-unknown",
    )
    rows = json.loads(
        krasnov.ok("show", "igor-krasnov", "--at", "1990-01-01", "--format", "json").stdout
    )["designations"]
    assert [(r["certain"], r["start_unknown"]) for r in rows] == [(False, True)]


def test_a_listed_after_date_not_before_the_effective_date_is_refused(krasnov: Sanctions) -> None:
    krasnov.refused(
        [
            "designate",
            "igor-krasnov",
            "--authority",
            "UK",
            "--regime",
            "Russia",
            "--effective",
            "2021-07-07",
            "--listed-after",
            "2021-07-07",
        ],
        "Error: the listed-after date 2021-07-07 is not before the effective date 2021-07-07; "
        "give the last date on which it was known not listed",
    )


def test_a_listed_after_date_with_an_unknown_start_is_refused(krasnov: Sanctions) -> None:
    krasnov.refused(
        [
            "designate",
            "igor-krasnov",
            "--authority",
            "UK",
            "--regime",
            "Russia",
            "--effective",
            "2021-07-07",
            "--listed-after",
            "2021-06-01",
            "--start-unknown",
        ],
        "Error: give either a listed-after date or an unknown start, not both",
    )


def test_a_malformed_listed_after_date_is_refused(krasnov: Sanctions) -> None:
    result = krasnov(
        "designate",
        "igor-krasnov",
        "--authority",
        "UK",
        "--regime",
        "Russia",
        "--effective",
        "2021-07-07",
        "--listed-after",
        "2021-02-30",
    )
    assert result.exit_code == 2
    assert "--listed-after" in result.stderr
    assert krasnov.head()[0] == 1


def test_windows_travel_in_json_lines_and_restore_to_the_same_bytes(
    sanctions: Sanctions, tmp_path: Path
) -> None:
    lines = [
        {"type": "subject_registered", "data": {"name": "Igor Krasnov"}},
        {
            "type": "designated",
            "data": {
                "subject": "igor-krasnov",
                "authority": "UK",
                "regime": "Russia",
                "effective": "2021-07-07",
                "listed_after": "2021-06-01",
            },
        },
        {
            "type": "designated",
            "data": {
                "subject": "igor-krasnov",
                "authority": "EU",
                "regime": "Russia",
                "effective": "2021-07-07",
                "start_unknown": True,
            },
        },
        {
            "type": "designated",
            "data": {
                "subject": "igor-krasnov",
                "authority": "US-OFAC",
                "regime": "EO 13661",
                "effective": "2021-03-02",
            },
        },
    ]
    source = tmp_path / "events.jsonl"
    source.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    sanctions.ok("import", str(source))
    exported = sanctions.ok("export").stdout
    data = [json.loads(line)["data"] for line in exported.splitlines()[1:]]
    assert [(d.get("listed_after"), d.get("start_unknown")) for d in data] == [
        ("2021-06-01", False),
        (None, True),
        (None, None),  # a certain start: no window fields, as before
    ]
    backup = tmp_path / "backup.jsonl"
    backup.write_text(exported, encoding="utf-8")
    with another_ledger_like(sanctions.url, tmp_path / "other") as other_url:
        other = Sanctions(other_url)
        other.ok("import", str(backup))
        assert other.ok("export").stdout == exported


def test_a_window_in_json_lines_is_checked_like_the_command(
    sanctions: Sanctions, tmp_path: Path
) -> None:
    source = tmp_path / "events.jsonl"
    source.write_text(
        json.dumps({"type": "subject_registered", "data": {"name": "Igor Krasnov"}})
        + "\n"
        + json.dumps(
            {
                "type": "designated",
                "data": {
                    "subject": "igor-krasnov",
                    "authority": "UK",
                    "regime": "Russia",
                    "effective": "2021-07-07",
                    "listed_after": "2021-08-01",
                },
            }
        )
        + "\n",
        encoding="utf-8",
    )
    sanctions.refused(
        ["import", str(source)],
        "Error: line 2: the listed-after date 2021-08-01 is not before the effective date "
        "2021-07-07; give the last date on which it was known not listed",
    )


# ------------------------------------------------------------------ the real OFAC list


def test_the_real_ofac_list_in_two_snapshots_leaves_no_silent_not_listed(
    sanctions: Sanctions, tmp_path: Path
) -> None:
    full = need(OFAC_DIR)
    later_only = ["31252", "31251", "36"]  # KALASHNIKOV, KRASNOV, AEROCARIBBEAN AIRLINES
    earlier = ofac_copy(full, tmp_path / "sdn-2021-06-01", remove=later_only)
    sanctions.ok("import-list", "ofac-sdn", str(earlier), "--published", "2021-06-01")
    sanctions.ok("import-list", "ofac-sdn", str(full), "--published", "2021-07-07")

    inside = sanctions.ok("list", "--authority", "US-OFAC", "--at", "2021-06-15", "--format", "csv")
    assert len(inside.stdout.splitlines()) - 1 == 10759 - 3
    assert stderr_lines(inside) == [
        "3 more possibly listed on 2021-06-15; --include-uncertain shows them"
    ]
    before = sanctions.ok("list", "--authority", "US-OFAC", "--at", "2021-05-01", "--format", "csv")
    assert before.stdout.splitlines()[1:] == []  # nothing certain before the first snapshot
    assert stderr_lines(before) == [
        "10756 more possibly listed on 2021-05-01; --include-uncertain shows them"
    ]
    table = sanctions.ok("list", "--authority", "US-OFAC", "--at", "2021-05-01")
    assert table.stdout == "No designation certainly in force.\n"  # never a bare "none"
    assert stderr_lines(table) == stderr_lines(before)
    shown = json.loads(
        sanctions.ok("show", "ofac-31252", "--at", "2021-06-15", "--format", "json").stdout
    )
    assert [(d["certain"], d["listed_after"]) for d in shown["designations"]] == [
        (False, "2021-06-01")
    ]
    after = sanctions.ok("list", "--authority", "US-OFAC", "--at", "2021-07-07", "--format", "csv")
    assert len(after.stdout.splitlines()) - 1 == 10759
    assert stderr_lines(after) == []
