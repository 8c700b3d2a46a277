"""``export-ftm``: FollowTheMoney entities and Sanctions, written without the followthemoney
package (tests/test_ftm_package.py reads them back with it when the [ftm] extra is there)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from lists_support import OFAC_SMALL, UN_SMALL, import_file, real_ledger_template
from support import EXAMPLE, Sanctions

from projections import ftm, ftm_values, queries


def entities_in(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


def first(entity: dict[str, Any], prop: str) -> str | None:
    return next(iter(entity["properties"].get(prop, [])), None)


def test_the_example_history_as_entities(sanctions: Sanctions, tmp_path: Path) -> None:
    sanctions.ok("import", str(EXAMPLE))
    target = tmp_path / "out.ftm.json"
    result = sanctions.ok("export-ftm", "--at", "2021-03-03", str(target))
    entities = entities_in(target.read_text(encoding="utf-8"))
    sanctions_ = [e for e in entities if e["schema"] == "Sanction"]
    subjects = {e["id"]: e for e in entities if e["schema"] != "Sanction"}
    assert (
        result.stderr
        == f"Exported {len(subjects)} subjects and {len(sanctions_)} sanctions to {target}\n"
    )
    krasnov = subjects["igor-krasnov"]
    assert krasnov["schema"] == "Person" and krasnov["properties"]["name"] == ["Igor Krasnov"]
    assert krasnov["properties"]["nationality"] == ["ru"]
    assert krasnov["properties"]["topics"] == ["sanction"]
    by_authority = {
        (first(s, "authority"), first(s, "program")): s
        for s in sanctions_
        if first(s, "entity") == "igor-krasnov"
    }
    eu = by_authority["European Union (Council of the European Union)",
                      "EU Global Human Rights Sanctions Regime"]  # fmt: skip
    assert eu["properties"]["startDate"] == ["2021-03-02"]
    assert sorted(eu["properties"]["provisions"]) == [
        "Asset freeze",
        "Prohibition to make funds available",
        "Travel ban",
    ]
    assert all(first(s, "entity") in subjects for s in sanctions_)
    assert [e for e in entities if e["schema"] == "Organization"]  # the Research Institute
    # On 1 March 2021 Krasnov was not yet sanctioned by the US: no OFAC sanction then.
    earlier = entities_in(sanctions.ok("export-ftm", "--at", "2021-03-01").stdout)
    assert not [
        e
        for e in earlier
        if e["schema"] == "Sanction"
        and first(e, "entity") == "igor-krasnov"
        and "Foreign Assets Control" in (first(e, "authority") or "")
    ]


def test_imported_lists_carry_their_references(db_url: str) -> None:
    import_file(db_url, "un", UN_SMALL)
    import_file(db_url, "ofac-sdn", OFAC_SMALL, date(2021, 6, 1))
    entities = entities_in(Sanctions(db_url).ok("export-ftm", "--at", "2021-06-01").stdout)
    assert sorted({e["schema"] for e in entities}) == [
        "Organization",
        "Person",
        "Sanction",
        "Vessel",
    ]
    saddam = next(e for e in entities if e["id"] == "un-iqi-001")
    assert saddam["properties"]["birthDate"] == ["1937-04-28"]
    assert saddam["properties"]["nationality"] == ["iq"]
    un = next(
        e for e in entities if e["schema"] == "Sanction" and first(e, "entity") == "un-iqi-001"
    )
    assert un["properties"]["unscId"] == ["IQi.001"] and un["properties"]["authorityId"] == [
        "IQi.001"
    ]
    assert un["properties"]["listingDate"] == ["2003-06-27"]
    assert un["properties"]["provisions"] == ["Asset freeze"]
    assert un["properties"]["summary"] == ["UNSC Resolution 1518 (2003)"]
    assert un["properties"]["sourceUrl"] == [
        "https://scsanctions.un.org/resources/xml/en/consolidated.xml"
    ]
    bortnikov = sorted(
        first(e, "program") or ""
        for e in entities
        if e["schema"] == "Sanction" and first(e, "entity") == "ofac-31126"
    )
    assert bortnikov == ["NPWMD", "UKRAINE-EO13661"]
    early = entities_in(
        Sanctions(db_url).ok("export-ftm", "--at", "2021-06-01", "--known-at", "13").stdout
    )
    assert {e["id"] for e in early if e["schema"] != "Sanction"} == {
        "un-cde-001",
        "un-iqi-001",
        "un-kpi-033",
        "un-kpi-037",
        "un-qde-131",
        "un-qdi-290",
    }


def test_the_real_lists_export(tmp_path_factory: pytest.TempPathFactory) -> None:
    real = real_ledger_template(tmp_path_factory.getbasetemp())
    result = Sanctions(f"sqlite:///{real / 'ledger.db'}").ok("export-ftm", "--at", "2021-06-01")
    kinds: dict[str, int] = {}
    for line in result.stdout.splitlines():
        schema = json.loads(line)["schema"]
        kinds[schema] = kinds.get(schema, 0) + 1
    # Every UN and OFAC subject is in force on 1 June 2021 (as the ledger knows it).
    assert kinds == {
        "Person": 703 + 4620,
        "Organization": 390 + 3673,
        "Vessel": 406,
        "Airplane": 277,
        "Sanction": 1093 + 10759,
    }
    # The nationalities no country matches (the package drops them silently) are named.
    assert result.stderr.splitlines() == [
        f"Warning: nationality {text!r} matches no country and is left out ({ids})"
        for text, ids in [
            ("possibly Palestinian", "ofac-7940, ofac-7942"),
            ("Indonesia (as at Dec. 2003)", "un-qdi-119"),
            ("Kuwaiti citizenship withdrawn in 2002", "un-qdi-154"),
            ("USSR (until 1991)", "un-qdi-290"),
            ("Bahrain (citizenship revoked in Jan. 2015)", "un-qdi-391"),
            ("Sudanese by birth", "un-sdi-004"),
            ("Possibly Ethiopian", "un-soi-009"),
            ("United States. Also believed to hold Syrian nationality", "un-soi-010"),
        ]
    ]


def test_a_sanction_that_cannot_name_its_subject_is_reported(sanctions: Sanctions) -> None:
    """FollowTheMoney ids take no '_': the Sanction would point at nothing."""
    sanctions.ok("subject", "add", "Ivan Petrov", "--id", "ivan_petrov")
    sanctions.ok(
        "designate", "ivan_petrov", "--authority", "EU", "--regime", "R",
        "--effective", "2021-03-02", "--measure", "asset-freeze",
    )  # fmt: skip
    result = sanctions.ok("export-ftm", "--at", "2021-03-03")
    assert result.stderr == (
        "Warning: sanctions are written without their subject: FollowTheMoney ids take only "
        "letters, digits, '.' and '-' (ivan_petrov)\n"
    )
    sanction = entities_in(result.stdout)[1]
    assert sanction["schema"] == "Sanction" and "entity" not in sanction["properties"]


def test_a_nationality_in_another_script_is_left_out_and_said(sanctions: Sanctions) -> None:
    sanctions.ok("subject", "add", "Ivan Petrov", "--nationality", "Россия; Belarus")
    sanctions.ok("subject", "add", "Olga Petrova", "--nationality", "Atlantis")
    for subject in ("ivan-petrov", "olga-petrova"):
        sanctions.ok(
            "designate", subject, "--authority", "EU", "--regime", "R",
            "--effective", "2021-03-02", "--measure", "asset-freeze",
        )  # fmt: skip
    result = sanctions.ok("export-ftm", "--at", "2021-03-03")
    assert result.stderr.splitlines() == [
        "Warning: nationality 'Россия' is left out: only names in Latin letters are matched "
        "to a country; amend the subject with the English name (ivan-petrov)",
        "Warning: nationality 'Atlantis' matches no country and is left out (olga-petrova)",
    ]
    people = {e["id"]: e for e in entities_in(result.stdout) if e["schema"] == "Person"}
    assert people["ivan-petrov"]["properties"]["nationality"] == ["by"]
    assert "nationality" not in people["olga-petrova"]["properties"]


def test_a_value_too_long_for_followthemoney_is_an_error(
    sanctions: Sanctions, tmp_path: Path
) -> None:
    sanctions.ok("subject", "add", "Ivan Petrov", "--alias", "x" * 400)
    sanctions.ok(
        "designate", "ivan-petrov", "--authority", "EU", "--regime", "R",
        "--effective", "2021-03-02", "--measure", "asset-freeze",
    )  # fmt: skip
    target = tmp_path / "out.json"
    result = sanctions("export-ftm", "--at", "2021-03-03", str(target))
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: ivan-petrov: a alias of 400 characters is longer than FollowTheMoney allows "
        "(384); amend it to a shorter one, then export again\n"
    )
    assert not target.exists()  # nothing half-written


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Russia", "ru"),
        ("RUS", "ru"),
        ("Korea, North", "kp"),
        ("Democratic People's Republic of Korea", "kp"),
        ("Burma", "mm"),
        ("Soviet Union", "suhh"),
        ("Côte d'Ivoire", "ci"),
        ("Nigerian", "ng"),  # the nearest name, as the package guesses
        ("Atlantis", None),
    ],
)
def test_countries_match_as_followthemoney_does(text: str, code: str | None) -> None:
    assert ftm_values.country(text) == code


def test_the_export_and_search_load_no_followthemoney(tmp_path: Path) -> None:
    """The core install has neither followthemoney nor its PyICU chain: nothing may import it."""
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    script = f"""
import sys
from click.testing import CliRunner
from cli.main import cli
runner = CliRunner()
for args in (["init"], ["import", {str(EXAMPLE)!r}], ["export-ftm"], ["search", "Krasnov"]):
    assert runner.invoke(cli, ["--db", {url!r}, *args]).exit_code == 0, args
heavy = {{"followthemoney", "normality", "rigour", "icu", "prefixdate"}}
print(sorted(heavy & {{m.split(".")[0] for m in sys.modules}}))
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout == "[]\n"


def test_a_date_followthemoney_cannot_hold_is_reported() -> None:
    """The commands take 1800-2999; a ledger holding another date gets a warning, not a gap."""
    warnings = ftm._Warnings()
    listing = queries.Listing(
        "ivan-petrov", "Ivan Petrov", "person", "EU", "R", ["asset-freeze"],
        date(2021, 3, 2), date(3001, 1, 1), None, None,
    )  # fmt: skip
    sanction = ftm.sanction_entity(listing, "European Union", [], warnings)
    assert "endDate" not in sanction.properties
    assert warnings.lines() == [
        "Warning: endDate 3001-01-01 is left out: FollowTheMoney takes the years 1000-2999 "
        "(ivan-petrov)"
    ]
