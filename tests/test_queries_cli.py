"""Point-in-time questions through the command line, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from cli.main import cli
from ledger import Ledger
from ledger.vocabulary import MEASURES

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "navalny.jsonl"

GHR = "EU Global Human Rights Sanctions Regime"
EU_GHR_FOUR = {"igor-krasnov", "viktor-zolotov", "alexander-bastrykin", "alexander-kalashnikov"}
OFAC_SEVEN = {
    "alexander-bortnikov",
    "andrei-yarin",
    "sergei-kiriyenko",
    "aleksei-krivoruchko",
    "pavel-popov",
    "alexander-kalashnikov",
    "igor-krasnov",
}


def run(db: str, *args: str, ok: bool = True) -> Result:
    result = CliRunner().invoke(cli, ["--db", db, "--by", "analyst", *args])
    if ok:
        assert result.exit_code == 0, result.output
    return result


def as_json(db: str, *args: str) -> Any:
    return json.loads(run(db, *args, "--format", "json").output)


def listed(db: str, *args: str) -> set[tuple[str, str, str]]:
    return {(r["subject_id"], r["authority"], r["regime"]) for r in as_json(db, "list", *args)}


@pytest.fixture
def example(db_url: str) -> str:
    run(db_url, "import", str(EXAMPLE))
    return db_url


def on_krasnov(db: str, command: str, *args: str) -> Result:
    """designate / amend / delist igor-krasnov by the EU under the human-rights regime."""
    return run(db, command, "igor-krasnov", "--authority", "EU", "--regime", GHR, *args)


def setup_subject(db: str) -> None:
    run(db, "subject", "add", "Igor Krasnov", "--position", "Prosecutor General")


# ----------------------------------------------------------------------------- example history


def test_eu_human_rights_list_is_empty_on_1_march_and_holds_four_on_2_march(example: str) -> None:
    assert (
        as_json(example, "list", "--authority", "EU", "--regime", GHR, "--at", "2021-03-01") == []
    )
    rows = as_json(example, "list", "--authority", "EU", "--regime", GHR, "--at", "2021-03-02")
    assert {r["subject_id"] for r in rows} == EU_GHR_FOUR
    for r in rows:
        assert r["measures"] == ["asset-freeze", "funds-prohibition", "travel-ban"]
        assert r["listed_from"] == "2021-03-02" and r["listed_until"] is None
        assert r["legal_act"] and r["kind"] == "person" and r["subject_name"]


def test_ofac_list_on_3_march_holds_the_seven(example: str) -> None:
    rows = as_json(example, "list", "--authority", "US-OFAC", "--at", "2021-03-03")
    assert {r["subject_id"] for r in rows} == OFAC_SEVEN
    assert {r["subject_id"] for r in rows if r["regime"] == "EO 13382"} == {"alexander-bortnikov"}


def test_show_krasnov_lists_eu_and_ofac_on_3_march_and_nothing_on_1_march(example: str) -> None:
    report = as_json(example, "show", "igor-krasnov", "--at", "2021-03-03")
    assert report["subject"]["name"] == "Igor Krasnov"
    assert {d["authority"] for d in report["designations"]} == {"EU", "US-OFAC"}
    assert len(report["announcements"]) == 1
    assert as_json(example, "show", "igor-krasnov", "--at", "2021-03-01")["designations"] == []


def test_show_navalny_lists_the_court_rulings_dated_before_the_day(example: str) -> None:
    report = as_json(example, "show", "alexei-navalny", "--at", "2021-02-10")
    assert [r["date"] for r in report["rulings"]] == ["2021-02-02"]
    report = as_json(example, "show", "alexei-navalny", "--at", "2021-03-10")
    assert [r["date"] for r in report["rulings"]] == ["2021-02-02", "2021-02-20"]


def test_table_output_is_readable(example: str) -> None:
    out = run(example, "list", "--authority", "EU", "--regime", GHR, "--at", "2021-03-03").output
    assert "Igor Krasnov" in out and "2021-03-02" in out
    out = run(example, "show", "igor-krasnov", "--at", "2021-03-03").output
    assert "Designations in force" in out and "US-OFAC" in out


def test_csv_output_has_a_header_and_one_line_per_designation(example: str) -> None:
    out = run(
        example,
        "list",
        "--authority",
        "EU",
        "--regime",
        GHR,
        "--at",
        "2021-03-03",
        "--format",
        "csv",
    ).output.splitlines()
    assert out[0].startswith("subject_id,subject_name,kind,authority,regime,measures")
    assert len(out) == 5


def test_diff_reports_the_listings_of_march_per_authority(example: str) -> None:
    rows = as_json(example, "diff", "2021-03-01", "2021-03-31", "--authority", "EU")
    assert {(r["change"], r["subject_id"]) for r in rows} == {("added", s) for s in EU_GHR_FOUR}
    assert all(r["effective_date"] == "2021-03-02" for r in rows)


def test_announcements_and_rulings_lists(example: str) -> None:
    anns = as_json(example, "announcements", "--authority", "EU")
    assert len(anns) == 1 and anns[0]["authorities"] == ["US-OFAC", "EU"]
    assert as_json(example, "announcements", "--at", "2021-03-01") == []
    assert len(as_json(example, "rulings", "--subject", "alexei-navalny")) == 2


def test_rebuild_gives_identical_answers(example: str) -> None:
    before = as_json(example, "list", "--at", "2021-03-03")
    history = as_json(example, "history", "igor-krasnov")
    assert "Rebuilt the projections from" in run(example, "rebuild").output
    assert as_json(example, "list", "--at", "2021-03-03") == before
    assert as_json(example, "history", "igor-krasnov") == history


# ----------------------------------------------------------------------------- bitemporal


def test_late_designation_is_visible_in_the_past_only_as_known_after_it_was_recorded(
    db_url: str,
) -> None:
    setup_subject(db_url)
    on_krasnov(db_url, "designate", "--effective", "2021-03-05", "--measure", "asset-freeze")
    position_before = Ledger(db_url).head()[0]
    # Learned later: the listing started earlier, under another regime.
    run(
        db_url,
        "designate",
        "igor-krasnov",
        "--authority",
        "UK",
        "--regime",
        "Global HR",
        "--effective",
        "2021-03-02",
        "--measure",
        "travel-ban",
    )
    now = listed(db_url, "--at", "2021-03-03")
    assert now == {("igor-krasnov", "UK", "Global HR")}
    then = listed(db_url, "--at", "2021-03-03", "--known-at", str(position_before))
    assert then == set()


def test_retraction_removes_an_effect_for_later_known_at_only(db_url: str) -> None:
    setup_subject(db_url)
    on_krasnov(db_url, "designate", "--effective", "2021-03-02", "--measure", "asset-freeze")
    on_krasnov(db_url, "delist", "--effective", "2021-04-01")
    assert listed(db_url, "--at", "2021-05-01") == set()
    run(db_url, "retract", "3", "--reason", "the delisting was a mistake")
    assert listed(db_url, "--at", "2021-05-01") == {("igor-krasnov", "EU", GHR)}
    assert listed(db_url, "--at", "2021-05-01", "--known-at", "3") == set()
    history = as_json(db_url, "history", "igor-krasnov")
    assert [(h["position"], h["retracted_by"]) for h in history] == [
        (1, None),
        (2, None),
        (3, 4),
        (4, None),
    ]
    assert history[3]["retracts"] == 3 and history[3]["type"] == "retracted"
    assert as_json(db_url, "history", "igor-krasnov", "--known-at", "3")[2]["retracted_by"] is None


def test_known_at_position_and_timestamp_agree(db_url: str) -> None:
    setup_subject(db_url)
    on_krasnov(db_url, "designate", "--effective", "2021-03-02", "--measure", "asset-freeze")
    recorded_at = as_json(db_url, "history", "igor-krasnov")[1]["recorded_at"]
    time.sleep(0.01)
    on_krasnov(db_url, "amend", "--effective", "2021-03-02", "--add-measure", "travel-ban")
    by_position = as_json(db_url, "list", "--at", "2021-03-03", "--known-at", "2")
    by_time = as_json(db_url, "list", "--at", "2021-03-03", "--known-at", recorded_at)
    assert by_position == by_time and by_position[0]["measures"] == ["asset-freeze"]
    assert as_json(db_url, "list", "--at", "2021-03-03")[0]["measures"] == [
        "asset-freeze",
        "travel-ban",
    ]
    # a bare date is the end of that UTC day; a date before the ledger existed knows nothing
    assert as_json(db_url, "list", "--at", "2021-03-03", "--known-at", "2021-03-03") == []


def test_redesignation_after_delisting_gives_two_periods(db_url: str) -> None:
    setup_subject(db_url)
    for args in (
        ("designate", "--effective", "2021-01-01", "--measure", "asset-freeze"),
        ("delist", "--effective", "2021-02-01"),
        ("designate", "--effective", "2021-06-01", "--measure", "travel-ban"),
    ):
        run(db_url, args[0], "igor-krasnov", "--authority", "EU", "--regime", GHR, *args[1:])
    first = as_json(db_url, "list", "--at", "2021-01-15")
    assert (first[0]["listed_from"], first[0]["listed_until"]) == ("2021-01-01", "2021-01-31")
    assert as_json(db_url, "list", "--at", "2021-03-01") == []
    second = as_json(db_url, "list", "--at", "2021-07-01")
    assert (second[0]["listed_from"], second[0]["listed_until"]) == ("2021-06-01", None)
    assert second[0]["measures"] == ["travel-ban"]
    changes = as_json(db_url, "diff", "2020-12-31", "2021-12-31")
    assert [(c["change"], c["effective_date"]) for c in changes] == [
        ("added", "2021-01-01"),
        ("removed", "2021-02-01"),
        ("added", "2021-06-01"),
    ]


def test_annulling_ruling_ends_a_listing_from_its_date(db_url: str) -> None:
    setup_subject(db_url)
    on_krasnov(db_url, "designate", "--effective", "2021-03-02", "--measure", "asset-freeze")
    run(
        db_url,
        "ruling",
        "igor-krasnov",
        "--court",
        "EU General Court",
        "--date",
        "2022-05-11",
        "--outcome",
        "listing annulled",
        "--annuls",
        "--authority",
        "EU",
        "--regime",
        GHR,
    )
    assert listed(db_url, "--at", "2022-05-10") == {("igor-krasnov", "EU", GHR)}
    assert listed(db_url, "--at", "2022-05-11") == set()
    report = as_json(db_url, "show", "igor-krasnov", "--at", "2022-06-01")
    assert report["rulings"][0]["annuls"] == f"EU / {GHR}"
    removed = as_json(db_url, "diff", "2022-01-01", "2022-12-31")
    assert removed[0]["change"] == "removed" and removed[0]["details"]["ended_by"] == "annulled"


def test_end_date_expires_a_listing_without_an_event(db_url: str) -> None:
    setup_subject(db_url)
    on_krasnov(db_url, "designate", "--effective", "2021-03-02", "--until", "2022-03-14")
    assert as_json(db_url, "list", "--at", "2022-03-14")[0]["listed_until"] == "2022-03-14"
    assert as_json(db_url, "list", "--at", "2022-03-15") == []


def test_amendment_of_measures_shows_as_changed_in_diff(db_url: str) -> None:
    setup_subject(db_url)
    on_krasnov(db_url, "designate", "--effective", "2021-03-02", "--measure", "asset-freeze")
    on_krasnov(
        db_url,
        "amend",
        "--effective",
        "2021-06-01",
        "--add-measure",
        "travel-ban",
        "--legal-act",
        "Council Implementing Regulation (EU) 2021/999",
    )
    rows = as_json(db_url, "diff", "2021-05-01", "2021-06-30")
    assert len(rows) == 1 and rows[0]["change"] == "changed"
    assert rows[0]["details"]["added_measures"] == ["travel-ban"]
    listing = as_json(db_url, "list", "--at", "2021-06-02")[0]
    assert listing["legal_act"] == "Council Implementing Regulation (EU) 2021/999"
    assert listing["listed_from"] == "2021-03-02"


# ----------------------------------------------------------------------------- refusals


def test_show_of_an_unknown_subject_suggests_the_nearest_ids(db_url: str) -> None:
    setup_subject(db_url)
    result = run(db_url, "show", "igor-krasnv", ok=False)
    assert result.exit_code == 1
    assert result.output.strip() == (
        "Error: unknown subject 'igor-krasnv'; did you mean: igor-krasnov?"
    )


def test_a_mistyped_authority_or_regime_is_refused_not_answered_nobody(example: str) -> None:
    """An empty answer from a filter that names nothing recorded reads as "not sanctioned"."""
    regime = "EU Global Human Rights Sanctions Regime"
    refusals = [
        (["list", "--authority", "EUR"], "unknown authority 'EUR'; did you mean: EU, UN, UK?"),
        (
            ["list", "--authority", "XYZQ", "--at", "2021-03-03"],
            "unknown authority 'XYZQ'; known: AU, CA, CH, EU, JP, NZ, UK, UN, US-BIS, "
            "US-OFAC, US-STATE",
        ),
        (
            ["list", "--regime", regime.lower(), "--at", "2021-03-03"],
            f"no designation was ever recorded under the regime {regime.lower()!r} (regimes "
            f"are matched exactly); did you mean: {regime!r}?",
        ),
        (
            ["list", "--authority", "us-ofac", "--regime", regime],
            f"no designation by US-OFAC was ever recorded under the regime {regime!r} "
            "(regimes are matched exactly)",
        ),
        (
            ["list", "--parties", "--authority", "EUR"],
            "unknown authority 'EUR'; did you mean: EU, UN, UK?",
        ),
        (
            ["diff", "2021-01-01", "2021-12-31", "--authority", "EUR"],
            "unknown authority 'EUR'; did you mean: EU, UN, UK?",
        ),
        (
            ["announcements", "--authority", "EUR"],
            "unknown authority 'EUR'; did you mean: EU, UN, UK?",
        ),
    ]
    for args, error in refusals:
        for fmt in ("table", "json"):
            result = run(example, *args, "--format", fmt, ok=False)
            assert (result.exit_code, result.output) == (1, f"Error: {error}\n"), args
    # A known authority and regime with nothing in force that day: an answer, not an error.
    empty = run(example, "list", "--authority", "eu", "--regime", regime, "--at", "2019-01-01")
    assert empty.output == "No designation in force.\n"
    assert run(example, "list", "--parties", "--authority", "eu", "--format", "json").output


def test_malformed_known_at_is_a_usage_error(sqlite_url: str) -> None:
    result = run(sqlite_url, "list", "--known-at", "yesterday", ok=False)
    assert result.exit_code == 2
    assert "is not a position, a timestamp or a date" in result.output


def test_malformed_at_date_is_a_usage_error(sqlite_url: str) -> None:
    result = run(sqlite_url, "list", "--at", "2021-02-30", ok=False)
    assert result.exit_code == 2
    assert "'2021-02-30' is not a calendar date" in result.output


def test_diff_with_end_before_start_is_refused(sqlite_url: str) -> None:
    result = run(sqlite_url, "diff", "2021-03-31", "2021-03-01", ok=False)
    assert result.exit_code == 1
    assert (
        result.output.strip()
        == "Error: the end date 2021-03-01 is before the start date 2021-03-31"
    )


@pytest.mark.parametrize("at", ["2020-12-31", "2021-03-03", "2022-06-01"])
def test_list_by_measure_is_the_list_of_those_with_that_measure(example: str, at: str) -> None:
    everyone = as_json(example, "list", "--at", at)
    assert everyone, "the example lists someone on every date asked"
    sizes = set()
    for measure in MEASURES:
        expected = [r for r in everyone if measure in r["measures"]]
        assert as_json(example, "list", "--at", at, "--measure", measure) == expected, measure
        sizes.add(len(expected))
    assert len(sizes) > 1, "some measure must select some listings and not others"


def test_list_by_measure_follows_amendments_and_known_at(db_url: str) -> None:
    setup_subject(db_url)
    on_krasnov(db_url, "designate", "--effective", "2021-03-02", "--measure", "asset-freeze")
    on_krasnov(db_url, "amend", "--effective", "2021-06-01", "--add-measure", "travel-ban")
    assert listed(db_url, "--at", "2021-05-31", "--measure", "travel-ban") == set()
    assert listed(db_url, "--at", "2021-06-01", "--measure", "travel-ban") == {
        ("igor-krasnov", "EU", GHR)
    }
    before_amendment = ("--at", "2021-06-01", "--known-at", "2")
    assert listed(db_url, *before_amendment, "--measure", "travel-ban") == set()
    assert listed(db_url, *before_amendment, "--measure", "asset-freeze") == {
        ("igor-krasnov", "EU", GHR)
    }
