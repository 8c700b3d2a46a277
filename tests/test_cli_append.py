"""Appending from the command line: what each command records, and every refusal.

Every refusal is checked for its exact ``Error:`` line and exit status, and the store is
reopened to show that nothing was written (``Sanctions.refused``).
"""

from __future__ import annotations

import json
from datetime import date

import pytest
from support import Sanctions

GHR = "EU Global Human Rights Sanctions Regime"
KNOWN = "AU, CA, CH, EU, JP, NZ, UK, UN, US-BIS, US-OFAC, US-STATE"


@pytest.fixture
def krasnov(sanctions: Sanctions) -> Sanctions:
    """A ledger with Igor Krasnov (position 1) designated by the EU from 2 March 2021 (2)."""
    sanctions.ok("subject", "add", "Igor Krasnov", "--position", "Prosecutor General")
    sanctions.ok(
        "designate",
        "igor-krasnov",
        "--authority",
        "EU",
        "--regime",
        GHR,
        "--effective",
        "2021-03-02",
        "--measure",
        "asset-freeze",
        "--measure",
        "travel-ban",
    )
    return sanctions


def designation(
    *extra: str,
    subject: str = "igor-krasnov",
    verb: str = "designate",
    authority: str = "EU",
    regime: str = GHR,
    effective: str = "2021-03-02",
) -> list[str]:
    return [
        verb,
        subject,
        "--authority",
        authority,
        "--regime",
        regime,
        "--effective",
        effective,
        *extra,
    ]


# ---------------------------------------------------------------------------- subjects


def test_subject_add_records_every_attribute_and_prints_its_position(
    sanctions: Sanctions,
) -> None:
    result = sanctions.ok(
        "subject",
        "add",
        "Igor Krasnov",
        "--alias",
        "Igor Viktorovich Krasnov",
        "--birth-date",
        "1975-12-24",
        "--nationality",
        "Russia",
        "--position",
        "Prosecutor General",
        "--source",
        "https://example.org/a",
    )
    assert result.stdout == (
        "Recorded at position 1: registered subject igor-krasnov (Igor Krasnov, person)\n"
    )
    [event] = sanctions.events()
    assert (event.position, event.type, event.recorded_by) == (1, "subject_registered", "tester")
    assert event.data == {
        "id": "igor-krasnov",
        "name": "Igor Krasnov",
        "kind": "person",
        "aliases": ["Igor Viktorovich Krasnov"],
        "birth_date": date(1975, 12, 24),
        "nationality": "Russia",
        "position": "Prosecutor General",
        "sources": ["https://example.org/a"],
    }


def test_subject_add_takes_an_explicit_id_and_kind(sanctions: Sanctions) -> None:
    result = sanctions.ok(
        "subject",
        "add",
        "State Scientific Research Institute for Organic Chemistry and Technology",
        "--id",
        "gosniiokht",
        "--kind",
        "organization",
    )
    assert "registered subject gosniiokht (" in result.stdout
    assert sanctions.events()[0].data["kind"] == "organization"


def test_subject_amend_adds_and_removes_aliases_and_changes_attributes(
    krasnov: Sanctions,
) -> None:
    krasnov.ok("subject", "amend", "igor-krasnov", "--alias", "I. Krasnov", "--alias", "IK")
    result = krasnov.ok(
        "subject",
        "amend",
        "igor-krasnov",
        "--remove-alias",
        "IK",
        "--position",
        "Prosecutor General of the Russian Federation",
    )
    assert result.stdout == "Recorded at position 4: amended subject igor-krasnov\n"
    data = krasnov.events()[-1].data
    assert data["remove_aliases"] == ["IK"]
    assert data["position"] == "Prosecutor General of the Russian Federation"
    listed = json.loads(krasnov.ok("subject", "list", "--format", "json").stdout)
    assert listed == [
        {
            "subject_id": "igor-krasnov",
            "name": "Igor Krasnov",
            "kind": "person",
            "aliases": ["I. Krasnov"],
            "birth_date": None,
            "nationality": None,
            "position": "Prosecutor General of the Russian Federation",
            "alt_birth_dates": [],
        }
    ]


def test_subject_list_shows_registered_subjects(krasnov: Sanctions) -> None:
    krasnov.ok("subject", "add", "Viktor Zolotov")
    csv_lines = krasnov.ok("subject", "list", "--format", "csv").stdout.splitlines()
    assert csv_lines[0] == "subject_id,name,kind,aliases,birth_date,nationality,position"
    assert [line.split(",")[0] for line in csv_lines[1:]] == ["igor-krasnov", "viktor-zolotov"]


def test_refuses_a_subject_id_already_taken(krasnov: Sanctions) -> None:
    krasnov.refused(
        ["subject", "add", "Igor Krasnov"],
        "Error: subject id 'igor-krasnov' is already taken (Igor Krasnov); "
        "choose another with --id",
    )


def test_refuses_to_amend_an_unknown_subject_and_suggests_the_nearest(
    krasnov: Sanctions,
) -> None:
    krasnov.refused(
        ["subject", "amend", "igor-krasnow", "--alias", "X"],
        "Error: unknown subject 'igor-krasnow'; did you mean: igor-krasnov?",
    )


def test_refuses_a_malformed_birth_date_as_usage(sanctions: Sanctions) -> None:
    sanctions.refused(
        ["subject", "add", "Igor Krasnov", "--birth-date", "24.12.1975"],
        "Error: Invalid value for '--birth-date': '24.12.1975' is not a date: write YYYY-MM-DD",
        code=2,
    )


# ---------------------------------------------------------------------------- authorities


def test_authority_list_shows_the_built_in_codes(sanctions: Sanctions) -> None:
    rows = json.loads(sanctions.ok("authority", "list", "--format", "json").stdout)
    assert ", ".join(r["code"] for r in rows) == KNOWN
    assert {
        "code": "US-OFAC",
        "builtin": True,
        "name": "United States Department of the Treasury, Office of Foreign Assets Control",
    } in rows


def test_authority_add_registers_a_code_that_can_then_designate(krasnov: Sanctions) -> None:
    result = krasnov.ok("authority", "add", "ua", "--name", "Ukraine (NSDC)")
    assert result.stdout == "Recorded at position 3: registered authority UA (Ukraine (NSDC))\n"
    assert "UA,Ukraine (NSDC),False" in krasnov.ok("authority", "list", "--format", "csv").stdout
    krasnov.ok(*designation(authority="UA", regime="NSDC decision"))


def test_refuses_to_register_a_built_in_authority(sanctions: Sanctions) -> None:
    sanctions.refused(
        ["authority", "add", "EU", "--name", "Europe"],
        "Error: authority EU is built in (European Union (Council of the European Union))",
    )


# ---------------------------------------------------------------------------- designations


def test_designate_records_the_designation_with_its_terms(sanctions: Sanctions) -> None:
    sanctions.ok("subject", "add", "Igor Krasnov")
    result = sanctions.ok(
        *designation(
            "--measure",
            "funds-prohibition",
            "--measure",
            "Asset-Freeze",
            "--until",
            "2022-03-01",
            "--legal-act",
            "Council Implementing Regulation (EU) 2021/371",
            "--reason",
            "human rights violations",
            "--source",
            "https://eur-lex.europa.eu/x",
            authority="eu",
        )
    )
    assert result.stdout == (
        f"Recorded at position 2: designated igor-krasnov by EU under '{GHR}' from 2021-03-02 "
        "(asset-freeze, funds-prohibition)\n"
    )
    assert sanctions.events()[-1].data == {
        "subject": "igor-krasnov",
        "authority": "EU",
        "regime": GHR,
        "effective": date(2021, 3, 2),
        "measures": ["asset-freeze", "funds-prohibition"],
        "until": date(2022, 3, 1),
        "legal_act": "Council Implementing Regulation (EU) 2021/371",
        "reason": "human rights violations",
        "sources": ["https://eur-lex.europa.eu/x"],
    }


def test_amend_adds_and_removes_measures(krasnov: Sanctions) -> None:
    result = krasnov.ok(
        *designation(
            "--add-measure",
            "funds-prohibition",
            "--remove-measure",
            "travel-ban",
            verb="amend",
            effective="2021-06-01",
        )
    )
    assert result.stdout == (
        f"Recorded at position 3: amended igor-krasnov by EU under '{GHR}' from 2021-06-01\n"
    )
    data = krasnov.events()[-1].data
    assert (data["add_measures"], data["remove_measures"]) == (
        ["funds-prohibition"],
        ["travel-ban"],
    )


def test_delist_ends_the_designation(krasnov: Sanctions) -> None:
    result = krasnov.ok(
        *designation("--reason", "court annulled", verb="delist", effective="2022-01-01")
    )
    assert result.stdout == (
        f"Recorded at position 3: delisted igor-krasnov by EU under '{GHR}' from 2022-01-01\n"
    )
    # delisted, it can be designated again
    krasnov.ok(*designation(effective="2023-01-01"))


def test_refuses_to_designate_an_unknown_subject_and_suggests_the_nearest(
    krasnov: Sanctions,
) -> None:
    krasnov.refused(
        designation(subject="igor-krasnof"),
        "Error: unknown subject 'igor-krasnof'; did you mean: igor-krasnov?",
    )


def test_refuses_an_unknown_authority_listing_the_known_codes(krasnov: Sanctions) -> None:
    krasnov.refused(
        designation(authority="XX", effective="2021-05-01"),
        f"Error: unknown authority 'XX'; known: {KNOWN} "
        "(register another with 'sanctions authority add')",
    )


@pytest.mark.parametrize("verb", ["designate", "amend", "delist"])
def test_refuses_an_impossible_date_as_usage(krasnov: Sanctions, verb: str) -> None:
    krasnov.refused(
        designation(verb=verb, effective="2021-02-30"),
        "Error: Invalid value for '--effective': '2021-02-30' is not a calendar date",
        code=2,
    )


def test_refuses_a_malformed_date_as_usage(krasnov: Sanctions) -> None:
    krasnov.refused(
        designation(effective="2021-3-2"),
        "Error: Invalid value for '--effective': '2021-3-2' is not a date: write YYYY-MM-DD",
        code=2,
    )


@pytest.mark.parametrize("option", ["--measure", "--add-measure", "--remove-measure"])
def test_refuses_an_unknown_measure_listing_the_measures(krasnov: Sanctions, option: str) -> None:
    verb = "designate" if option == "--measure" else "amend"
    krasnov.refused(
        designation(option, "asset-seizure", verb=verb, effective="2021-06-01"),
        f"Error: Invalid value for '{option}': 'asset-seizure' is not one of 'asset-freeze', "
        "'travel-ban', 'funds-prohibition', 'arms-embargo', 'export-ban', 'import-ban', "
        "'investment-ban', 'services-ban', 'other'.",
        code=2,
    )


def test_refuses_to_designate_what_is_already_designated_on_that_date(
    krasnov: Sanctions,
) -> None:
    krasnov.refused(
        designation(effective="2021-04-01"),
        f"Error: igor-krasnov by EU under '{GHR}' is already designated on 2021-04-01 "
        "(since 2021-03-02)",
    )


@pytest.mark.parametrize("verb", ["amend", "delist"])
def test_refuses_to_amend_or_delist_what_is_not_designated_on_that_date(
    krasnov: Sanctions, verb: str
) -> None:
    extra = ["--add-measure", "other"] if verb == "amend" else []
    krasnov.refused(
        designation(*extra, verb=verb, effective="2021-03-01"),
        f"Error: igor-krasnov by EU under '{GHR}' is not designated on 2021-03-01; "
        f"nothing to {verb}",
    )
    krasnov.refused(
        designation(*extra, verb=verb, regime="EO 13661", effective="2021-04-01"),
        "Error: igor-krasnov by EU under 'EO 13661' is not designated on 2021-04-01; "
        f"nothing to {verb}",
    )


@pytest.mark.parametrize("verb", ["designate", "amend"])
def test_refuses_an_end_date_before_the_start(krasnov: Sanctions, verb: str) -> None:
    regime = "EO 13661" if verb == "designate" else GHR
    krasnov.refused(
        designation("--until", "2021-03-31", verb=verb, regime=regime, effective="2021-04-01"),
        "Error: the end date 2021-03-31 is before the effective date 2021-04-01",
    )


def test_refuses_an_amendment_that_changes_nothing(krasnov: Sanctions) -> None:
    krasnov.refused(
        designation(verb="amend", effective="2021-04-01"),
        "Error: nothing to amend: give --add-measure, --remove-measure, --until, --legal-act "
        "or --reason",
    )


# ---------------------------------------------------------------------------- announcements


def test_announce_records_the_authorities_and_linked_subjects(krasnov: Sanctions) -> None:
    result = krasnov.ok(
        "announce",
        "--title",
        "Navalny sanctions",
        "--date",
        "2021-03-02",
        "--authority",
        "US-OFAC",
        "--authority",
        "eu",
        "--subject",
        "igor-krasnov",
        "--source",
        "https://home.treasury.gov/news/press-releases/jy0045",
    )
    assert result.stdout == (
        "Recorded at position 3: announced 'Navalny sanctions' by US-OFAC in coordination "
        "with EU on 2021-03-02\n"
    )
    assert krasnov.events()[-1].data == {
        "title": "Navalny sanctions",
        "date": date(2021, 3, 2),
        "authorities": ["US-OFAC", "EU"],
        "subjects": ["igor-krasnov"],
        "sources": ["https://home.treasury.gov/news/press-releases/jy0045"],
    }


def test_refuses_an_announcement_with_no_authority(krasnov: Sanctions) -> None:
    krasnov.refused(
        ["announce", "--title", "T", "--date", "2021-03-02", "--subject", "igor-krasnov"],
        "Error: an announcement needs at least one --authority",
    )


def test_refuses_an_announcement_naming_an_unknown_subject(krasnov: Sanctions) -> None:
    krasnov.refused(
        [
            "announce",
            "--title",
            "T",
            "--date",
            "2021-03-02",
            "--authority",
            "EU",
            "--subject",
            "krasnov",
        ],
        "Error: unknown subject 'krasnov'; did you mean: igor-krasnov?",
    )


# ---------------------------------------------------------------------------- rulings


def test_ruling_records_an_informational_court_decision(sanctions: Sanctions) -> None:
    sanctions.ok("subject", "add", "Alexei Navalny")
    result = sanctions.ok(
        "ruling",
        "alexei-navalny",
        "--court",
        "Moscow City Court",
        "--date",
        "2021-02-20",
        "--outcome",
        "appeal dismissed",
        "--summary",
        "two years and eight months",
    )
    assert result.stdout == (
        "Recorded at position 2: recorded ruling of Moscow City Court on 2021-02-20 about "
        "alexei-navalny: appeal dismissed\n"
    )
    assert sanctions.events()[-1].data["summary"] == "two years and eight months"


def test_ruling_with_annuls_ends_the_designation(krasnov: Sanctions) -> None:
    result = krasnov.ok(
        "ruling",
        "igor-krasnov",
        "--court",
        "EU General Court",
        "--date",
        "2022-06-01",
        "--outcome",
        "listing annulled",
        "--annuls",
        "--authority",
        "EU",
        "--regime",
        GHR,
    )
    assert result.stdout == (
        "Recorded at position 3: recorded ruling of EU General Court on 2022-06-01 annulling "
        f"igor-krasnov by EU under '{GHR}'\n"
    )
    assert krasnov.events()[-1].data["annuls"] is True
    krasnov.refused(
        designation("--add-measure", "other", verb="amend", effective="2022-06-01"),
        f"Error: igor-krasnov by EU under '{GHR}' is not designated on 2022-06-01; "
        "nothing to amend",
    )


def test_refuses_a_ruling_that_annuls_a_designation_that_does_not_exist(
    krasnov: Sanctions,
) -> None:
    krasnov.refused(
        [
            "ruling",
            "igor-krasnov",
            "--court",
            "EU General Court",
            "--date",
            "2022-06-01",
            "--outcome",
            "annulled",
            "--annuls",
            "--authority",
            "US-OFAC",
            "--regime",
            "EO 13661",
        ],
        "Error: igor-krasnov by US-OFAC under 'EO 13661' has no designation to annul",
    )


def test_refuses_annuls_without_authority_and_regime(krasnov: Sanctions) -> None:
    krasnov.refused(
        [
            "ruling",
            "igor-krasnov",
            "--court",
            "C",
            "--date",
            "2022-06-01",
            "--outcome",
            "o",
            "--annuls",
        ],
        "Error: --annuls needs --authority and --regime",
    )


# ---------------------------------------------------------------------------- retractions


def test_retract_marks_an_event_and_keeps_it_in_the_store(krasnov: Sanctions) -> None:
    result = krasnov.ok("retract", "2", "--reason", "wrong regime")
    assert result.stdout == "Recorded at position 3: retracted event 2\n"
    events = krasnov.events()
    assert [e.type for e in events] == ["subject_registered", "designated", "retracted"]
    assert events[-1].data == {"position": 2, "reason": "wrong regime", "sources": []}
    # the designation no longer stands: designating it again is allowed
    krasnov.ok(*designation())


def test_refuses_to_retract_a_position_that_does_not_exist(krasnov: Sanctions) -> None:
    krasnov.refused(
        ["retract", "99", "--reason", "x"],
        "Error: no event at position 99; the ledger has 2 events",
    )
    krasnov.refused(
        ["retract", "0", "--reason", "x"], "Error: no event at position 0; the ledger has 2 events"
    )


def test_refuses_to_retract_an_event_already_retracted(krasnov: Sanctions) -> None:
    krasnov.ok("retract", "2", "--reason", "wrong regime")
    krasnov.refused(["retract", "2", "--reason", "again"], "Error: event 2 is already retracted")


def test_refuses_to_retract_a_retraction(krasnov: Sanctions) -> None:
    krasnov.ok("retract", "2", "--reason", "wrong regime")
    krasnov.refused(
        ["retract", "3", "--reason", "undo"],
        "Error: event 3 is a retraction and cannot be retracted; to undo it, record the "
        "retracted event again",
    )


def test_refuses_to_retract_a_registration_while_events_about_the_subject_stand(
    krasnov: Sanctions,
) -> None:
    krasnov.refused(
        ["retract", "1", "--reason", "duplicate"],
        "Error: event 1 registers subject 'igor-krasnov', and 1 event(s) about it still stand "
        "(first at position 2); retract those first",
    )
    krasnov.ok("retract", "2", "--reason", "wrong regime")
    krasnov.ok("retract", "1", "--reason", "duplicate")
    krasnov.refused(designation(), "Error: unknown subject 'igor-krasnov'")


def test_refuses_to_retract_an_authority_named_by_an_announcement_the_projections_hold(
    sanctions: Sanctions,
) -> None:
    """The announcement is found through the projections' index of the authorities events
    name (caught up by the ``list`` before), not only by scanning the log after them."""
    sanctions.ok("authority", "add", "XQ", "--name", "Test authority")
    sanctions.ok("announce", "--title", "T", "--date", "2021-01-01", "--authority", "EU")
    sanctions.ok(
        "announce",
        "--title",
        "T2",
        "--date",
        "2021-01-02",
        "--authority",
        "EU",
        "--authority",
        "XQ",
    )
    sanctions.ok("list", "--at", "2021-01-03")
    sanctions.refused(
        ["retract", "1", "--reason", "duplicate"],
        "Error: event 1 registers authority XQ, and 1 event(s) by it still stand; retract "
        "those first",
    )
    sanctions.ok("retract", "3", "--reason", "wrong authorities")
    sanctions.ok("list", "--at", "2021-01-03")
    sanctions.ok("retract", "1", "--reason", "duplicate")


def test_a_retract_without_reason_is_usage(krasnov: Sanctions) -> None:
    krasnov.refused(["retract", "2"], "Error: Missing option '--reason'.", code=2)
