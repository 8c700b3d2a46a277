"""Screening a names file as of a date, and certificates checked later, on both stores."""

from __future__ import annotations

import csv
import io
import json
import os
import pty
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from lists_support import OFAC_SMALL, UN_SMALL, copy_ledger, import_file, real_ledger_template
from support import EXAMPLE, Sanctions, another_ledger_like

from projections.matching import DEFAULT_THRESHOLD, POSSIBLE_MARGIN
from projections.screening import certificate_digest

GHR = "EU Global Human Rights Sanctions Regime"


@pytest.fixture
def lists(sanctions: Sanctions) -> Sanctions:
    """The small UN and OFAC fixtures; OFAC in force from 2021-06-01."""
    import_file(sanctions.url, "un", UN_SMALL)
    import_file(sanctions.url, "ofac-sdn", OFAC_SMALL, date(2021, 6, 1))
    return sanctions


def write(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


def as_json(result: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(result.stdout)
    return rows


def statuses(result: Any) -> dict[str, str]:
    return {r["name"]: r["status"] for r in as_json(result)}


# ------------------------------------------------------------------ statuses and exit codes


def test_a_listed_name_in_another_script_is_a_match_and_exits_3(
    lists: Sanctions, tmp_path: Path
) -> None:
    names = write(tmp_path / "names.txt", "Калашников Александр\nJane Q. Nobody\n")
    result = lists("screen", names, "--at", "2021-06-02", "--format", "json")
    assert result.exit_code == 3, result.output
    rows = as_json(result)
    assert [r["status"] for r in rows] == ["match", "clear"]
    hit = rows[0]["candidates"][0]
    assert hit["subject_id"] == "ofac-31252"
    assert hit["score"] >= 0.95
    assert hit["designations"] == [
        {
            "authority": "US-OFAC",
            "regime": "UKRAINE-EO13661",
            "measures": ["asset-freeze", "funds-prohibition"],
            "listed_from": "2021-06-01",
            "certain": True,
            "listed_after": None,
        }
    ]
    assert rows[1]["candidates"] == [] and rows[1]["score"] is None


def test_every_row_clear_exits_0(lists: Sanctions, tmp_path: Path) -> None:
    names = write(tmp_path / "names.txt", "Jane Q. Nobody\nAcme Widgets Ltd\n")
    result = lists("screen", names, "--at", "2021-06-02")
    assert result.exit_code == 0, result.output
    assert [line.split()[1] for line in result.stdout.splitlines()] == ["clear", "clear"]


def test_a_name_listed_only_after_the_date_is_clear_then(lists: Sanctions, tmp_path: Path) -> None:
    names = write(tmp_path / "names.txt", "Alexander Kalashnikov\n")
    before = lists("screen", names, "--at", "2021-05-31", "--format", "json")
    assert before.exit_code == 0, before.output
    assert statuses(before) == {"Alexander Kalashnikov": "clear"}
    after = lists("screen", names, "--at", "2021-06-01", "--format", "json")
    assert after.exit_code == 3
    assert statuses(after) == {"Alexander Kalashnikov": "match"}


def test_authority_filter_and_an_unknown_authority(lists: Sanctions, tmp_path: Path) -> None:
    names = write(tmp_path / "names.txt", "Alexander Kalashnikov\n")
    only_un = lists("screen", names, "--at", "2021-06-02", "--authority", "UN")
    assert only_un.exit_code == 0, only_un.output
    lists.refused(
        ["screen", names, "--authority", "XX"],
        "Error: unknown authority 'XX'; known: AU, CA, CH, EU, JP, NZ, UK, UN, US-BIS, "
        "US-OFAC, US-STATE (a typo here would screen against nothing)",
    )


def test_threshold_moves_a_row_between_match_possible_and_clear(
    lists: Sanctions, tmp_path: Path
) -> None:
    names = write(tmp_path / "names.txt", "Aleksandr Kalashnikof\n")  # a typo
    at = ("--at", "2021-06-02", "--format", "json")
    found = as_json(lists("screen", names, *at))[0]
    assert found["status"] == "match"
    value = found["score"]
    assert DEFAULT_THRESHOLD <= value < 1.0
    strict = lists("screen", names, *at, "--threshold", str(round(value + 0.01, 3)))
    assert strict.exit_code == 3 and statuses(strict) == {"Aleksandr Kalashnikof": "possible"}
    lenient = lists("screen", names, *at, "--threshold", "0.5")
    assert statuses(lenient) == {"Aleksandr Kalashnikof": "match"}
    lists.refused(
        ["screen", names, "--threshold", "1.5"],
        "Error: Invalid value for '--threshold': 1.5 is not in the range 0.0<x<=1.0.",
        code=2,
    )


def test_bad_rows_are_reported_by_line_and_the_others_screened(
    lists: Sanctions, tmp_path: Path
) -> None:
    names = write(
        tmp_path / "customers.csv",
        "id,name,birth_date,country,kind\n"
        "c1,Alexander Kalashnikov,1964-01-27,Russia,person\n"
        "c2,,1970-01-01,,\n"
        "c3,Jane Nobody,1970-02-30,,\n"
        "c4,Someone Else,,,spaceship\n"
        "c5,Viktor Zolotov,,,\n",
    )
    before = lists.head()
    result = lists("screen", names, "--at", "2021-06-02", "--format", "csv")
    assert result.exit_code == 1
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["line"], r["id"], r["status"]) for r in rows] == [
        ("2", "c1", "match"),
        ("3", "c2", "error"),
        ("4", "c3", "error"),
        ("5", "c4", "error"),
        ("6", "c5", "match"),  # no patronymic: Viktor Vasiliyevich Zolotov
    ]
    assert [r["error"] for r in rows[1:4]] == [
        "empty name",
        "birth_date '1970-02-30' is not a calendar date",
        "kind 'spaceship' is not one of person, organization, vessel, aircraft",
    ]
    assert rows[0]["subject_id"] == "ofac-31252"
    assert rows[4]["subject_id"] == "ofac-24326"
    assert result.stderr.strip().splitlines()[-1] == (
        "Error: 3 of 5 rows could not be screened (line 3, 4, 5); 2 rows are a match or "
        "possible; fix those rows and screen them again"
    )
    assert lists.head() == before  # screening writes nothing


def test_a_missing_names_file_is_a_usage_error(lists: Sanctions, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.csv"
    lists.refused(
        ["screen", str(missing)],
        f"Error: Invalid value for 'FILE': File '{missing}' does not exist.",
        code=2,
    )


def test_a_screening_that_fails_leaves_no_certificate(lists: Sanctions, tmp_path: Path) -> None:
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("Jane Nobody\nJos\xe9\n".encode("latin-1"))
    out = tmp_path / "out"
    out.mkdir()
    result = lists("screen", str(bad), "--certificate", str(out / "cert.json"))
    assert result.exit_code == 1
    assert list(out.iterdir()) == []  # nor a temporary file
    lists.refused(
        ["screen", str(bad), "--certificate", str(tmp_path / "no" / "cert.json")],
        f"Error: Invalid value for '--certificate': cannot write into the folder "
        f"'{tmp_path / 'no'}'",
        code=2,
    )


def test_overlong_names_and_fields_are_bad_rows(lists: Sanctions, tmp_path: Path) -> None:
    names = write(
        tmp_path / "c.csv",
        "name,id\nViktor Zolotov,a\nJane\x00Nobody,b\n"
        + "x" * 600
        + ",c\n"
        + "y" * 200_000
        + ",d\nJohn Nobody,e\n",
    )
    result = lists("screen", names, "--at", "2021-06-02", "--format", "json")
    assert result.exit_code == 1
    rows = as_json(result)
    assert [(r["line"], r["status"]) for r in rows] == [
        (2, "match"),  # Viktor Vasiliyevich Zolotov without his patronymic
        (3, "clear"),  # a NUL byte separates words like any other non-letter
        (4, "error"),
        (5, "error"),
        (6, "clear"),
    ]
    assert rows[2]["error"] == "the name has 600 characters; a name has at most 500"
    # The csv module's field limit is process-wide (importing followthemoney raises it):
    # either way, a bad row.
    assert rows[3]["error"] in (
        "not CSV: field larger than field limit (131072)",
        "the name has 200,000 characters; a name has at most 500",
    )


def test_a_blank_line_between_names_is_a_bad_row_and_blank_lines_at_the_end_are_not(
    lists: Sanctions, tmp_path: Path
) -> None:
    names = write(tmp_path / "n.txt", "Jane Nobody\n\nJohn Nobody\n\n  \n")
    result = lists("screen", names, "--format", "json")
    assert result.exit_code == 1
    assert [(r["line"], r["status"]) for r in as_json(result)] == [
        (1, "clear"),
        (2, "error"),
        (3, "clear"),
    ]


def test_standard_input_and_a_file_that_is_not_utf8(lists: Sanctions, tmp_path: Path) -> None:
    result = lists(
        "screen", "-", "--at", "2021-06-02", "--format", "json", input="Viktor Zolotov\n"
    )
    assert result.exit_code == 3
    assert as_json(result)[0]["candidates"][0]["subject_id"] == "ofac-24326"
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("Jane Nobody\nJos\xe9 M\xfcller\n".encode("latin-1"))
    result = lists("screen", str(latin1), "--format", "json")
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"Error: {latin1}: line 2 is not UTF-8 text; save the file as UTF-8 (a mis-decoded "
        "name would be screened as another name)"
    )


def test_a_kind_that_contradicts_rules_out_and_birth_date_moves_the_score(
    lists: Sanctions, tmp_path: Path
) -> None:
    names = write(
        tmp_path / "c.csv",
        "name,kind,birth_date\n"
        "Alexander Kalashnikov,vessel,\n"
        "Alexander Kalashnikov,person,1964-01-27\n"
        "Alexander Kalashnikov,person,1990-05-05\n"
        "Alexander Kalashnikov,,\n",
    )
    rows = as_json(lists("screen", names, "--at", "2021-06-02", "--format", "json"))
    assert rows[0]["status"] == "clear"
    plain = rows[3]["candidates"][0]["score"]
    same, other = rows[1]["candidates"][0], rows[2]["candidates"]
    assert same["score"] > plain and same["reasons"] == ["same birth date"]
    assert not other or other[0]["score"] < plain


def test_a_possible_listing_is_never_clear(lists: Sanctions, tmp_path: Path) -> None:
    """A name matching only a subject whose listing start is uncertain is 'possible'."""
    from projections.matching import build_index
    from projections.queries import SubjectRow
    from projections.screening import Designation, InputRow, Parameters, Screening

    def screened(certain: bool) -> str:
        # The status rule itself, apart from how issue 13 marks uncertain listings.
        listing = Designation(
            "UN", "UN DPRK", ["asset-freeze"], date(2018, 10, 29), certain, date(2016, 3, 2)
        )
        screening = Screening.__new__(Screening)
        screening.parameters = Parameters(date(2018, 1, 1), None, 1, (), DEFAULT_THRESHOLD)
        screening.designations = {"un-x": [listing]}
        screening.index = build_index(
            [SubjectRow("un-x", "KIM Jong Un", "person", [], None, None, None)]
        )
        return screening.screen(InputRow(1, None, "Kim Jong Un")).status

    assert screened(certain=True) == "match"
    assert screened(certain=False) == "possible"
    names = write(tmp_path / "n.txt", "Alexander Kalashnikov\n")
    rows = as_json(lists("screen", names, "--at", "2021-06-02", "--format", "json"))
    assert all(d["certain"] for d in rows[0]["candidates"][0]["designations"])


def test_table_shows_the_best_candidate_and_its_designations(
    lists: Sanctions, tmp_path: Path
) -> None:
    names = write(tmp_path / "n.txt", "KALASHNIKOV, Alexander\n")
    out = lists("screen", names, "--at", "2021-06-02").stdout
    assert out.splitlines() == [
        "     1  match    0.976  KALASHNIKOV, Alexander -> KALASHNIKOV, Alexander Petrovich "
        "(ofac-31252; matched 'KALASHNIKOV, Aleksandr'): US-OFAC: UKRAINE-EO13661"
    ]


# ------------------------------------------------------------------ certificates


def _certificate(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


def test_a_certificate_records_what_was_asked_and_answered(
    lists: Sanctions, tmp_path: Path
) -> None:
    names = write(tmp_path / "n.txt", "Alexander Kalashnikov\nJane Nobody\n")
    cert = tmp_path / "cert.json"
    result = lists("screen", names, "--at", "2021-06-02", "--certificate", str(cert))
    assert result.exit_code == 3
    doc = _certificate(cert)
    position, digest = lists.head()
    assert doc["parameters"] == {
        "at": "2021-06-02",
        "known_at": None,
        "known_at_position": position,
        "authorities": [],
        "threshold": DEFAULT_THRESHOLD,
    }
    assert doc["ledger"] == {"head_position": position, "head_digest": digest}
    assert doc["matcher"]["threshold"] == DEFAULT_THRESHOLD and doc["matcher"]["version"]
    assert doc["input"]["rows"] == 2
    import hashlib

    assert doc["input"]["sha256"] == hashlib.sha256(Path(names).read_bytes()).hexdigest()
    assert [r["status"] for r in doc["results"]] == ["match", "clear"]
    assert certificate_digest(doc) == doc["digest"]
    valid = lists("check-certificate", str(cert))
    assert valid.exit_code == 0, valid.output
    assert valid.stdout.startswith(f"valid: 2 rows answered alike as known at position {position}")


def test_a_retroactive_designation_leaves_the_certificate_valid_and_a_fresh_screening_finds_it(
    sanctions: Sanctions, tmp_path: Path
) -> None:
    sanctions.ok("import", str(EXAMPLE))
    sanctions.ok("subject", "add", "Jane Roe", "--id", "jane-roe", "--nationality", "Russia")
    names = write(tmp_path / "onboarding.txt", "Jane Roe\nIgor Krasnov\n")
    cert = tmp_path / "cert.json"
    screened = sanctions(
        "screen", names, "--at", "2021-03-10", "--authority", "EU", "--certificate", str(cert)
    )
    assert screened.exit_code == 3  # Krasnov
    assert [r["status"] for r in _certificate(cert)["results"]] == ["clear", "match"]
    # Learnt later: Jane Roe was listed on 5 March, before the screening date.
    sanctions.ok(
        "designate",
        "jane-roe",
        "--authority",
        "EU",
        "--regime",
        GHR,
        "--effective",
        "2021-03-05",
        "--measure",
        "asset-freeze",
    )
    still = sanctions("check-certificate", str(cert))
    assert still.exit_code == 0, still.output
    assert still.stdout.startswith("valid: 2 rows answered alike")
    fresh = sanctions(
        "screen", names, "--at", "2021-03-10", "--authority", "EU", "--format", "json"
    )
    assert fresh.exit_code == 3
    assert statuses(fresh) == {"Jane Roe": "match", "Igor Krasnov": "match"}
    # As known at the certificate's position, the fresh screening agrees with it.
    position = str(_certificate(cert)["parameters"]["known_at_position"])
    then = sanctions(
        "screen",
        names,
        "--at",
        "2021-03-10",
        "--authority",
        "EU",
        "--known-at",
        position,
        "--format",
        "json",
    )
    assert statuses(then) == {"Jane Roe": "clear", "Igor Krasnov": "match"}


def test_an_edited_certificate_is_refused(lists: Sanctions, tmp_path: Path) -> None:
    names = write(tmp_path / "n.txt", "Alexander Kalashnikov\n")
    cert = tmp_path / "cert.json"
    lists("screen", names, "--at", "2021-06-02", "--certificate", str(cert))
    doc = _certificate(cert)
    doc["results"][0]["status"] = "clear"
    cert.write_text(json.dumps(doc), encoding="utf-8")
    lists.refused(
        ["check-certificate", str(cert)],
        "Error: the certificate's digest does not match its content: it was edited after "
        "it was written",
    )
    (tmp_path / "junk.json").write_text("[1, 2", encoding="utf-8")
    result = lists("check-certificate", str(tmp_path / "junk.json"))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {tmp_path / 'junk.json'} is not a certificate")


def test_a_changed_matcher_is_named_for_each_row_it_answers_otherwise(
    lists: Sanctions, tmp_path: Path
) -> None:
    names = write(tmp_path / "n.txt", "Alexander Kalashnikov\nJane Nobody\n")
    cert = tmp_path / "cert.json"
    lists("screen", names, "--at", "2021-06-02", "--certificate", str(cert))
    doc = _certificate(cert)
    # As an older matcher would have written it: another version, another score.
    doc["matcher"]["version"] = "0"
    doc["results"][0]["candidates"][0]["score"] = 0.9
    doc["results"][0]["score"] = 0.9
    doc.pop("results_sha256")
    doc["results_sha256"] = ""
    import hashlib

    from projections.screening import canonical

    rows = hashlib.sha256(b"".join(canonical(r) + b"\n" for r in doc["results"])).hexdigest()
    doc["results_sha256"] = rows
    doc["digest"] = certificate_digest(doc)
    cert.write_text(json.dumps(doc), encoding="utf-8")
    from projections.matching import MATCHER_VERSION

    result = lists("check-certificate", str(cert))
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "line 1 'Alexander Kalashnikov': certified match (ofac-31252 0.9), now match "
        f"(ofac-31252 0.976): the matcher changed (version 0, now {MATCHER_VERSION})"
    ]
    assert result.stderr.strip() == (
        f"Error: 1 of 2 rows are answered differently as known at position "
        f"{doc['parameters']['known_at_position']}"
    )


def test_a_certificate_from_another_ledger_does_not_hold(lists: Sanctions, tmp_path: Path) -> None:
    names = write(tmp_path / "n.txt", "Alexander Kalashnikov\n")
    cert = tmp_path / "cert.json"
    lists("screen", names, "--at", "2021-06-02", "--certificate", str(cert))
    with another_ledger_like(lists.url, tmp_path / "other") as url:
        other = Sanctions(url)
        import_file(url, "ofac-sdn", OFAC_SMALL, date(2021, 6, 1))
        import_file(url, "un", UN_SMALL)  # the same lists in another order: another history
        result = other("check-certificate", str(cert))
        assert result.exit_code == 1
        assert (
            result.stderr.strip()
            .splitlines()[-1]
            .startswith(
                "Error: the ledger was rewritten: it no longer extends the certificate's head"
            )
        )


def test_the_help_states_the_default_threshold(sanctions: Sanctions) -> None:
    for command in ("screen", "search"):
        text = " ".join(sanctions.ok(command, "--help").output.split())
        assert f"default: the measured one, {DEFAULT_THRESHOLD}" in text
        assert f"from {POSSIBLE_MARGIN} below it" in text


# ------------------------------------------------------------------ a real process


def run_sanctions(url: str, *args: str, **kwargs: Any) -> subprocess.CompletedProcess[bytes]:
    """``sanctions`` as its own process (the same interpreter and code as the tests)."""
    command = [sys.executable, "-c", "from cli.main import main; main()", "--db", url, *args]
    return subprocess.run(command, timeout=120, check=False, **kwargs)


def test_a_progress_bar_on_a_terminal_and_exit_3_from_a_real_process(
    lists: Sanctions, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SANCTIONS_PROGRESS_AFTER", "0")  # shown at once, not after 2 s
    names = write(tmp_path / "n.txt", "Viktor Zolotov\n" * 50 + "Jane Nobody\n")
    leader, follower = pty.openpty()
    try:
        done = run_sanctions(
            lists.url, "screen", names, "--at", "2021-06-02", "--format", "csv",
            stdout=subprocess.PIPE, stderr=follower,
        )  # fmt: skip
        os.close(follower)
        shown = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the terminal's other end is closed: all read
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(leader)
    assert done.returncode == 3  # hits get through click's own exit handling
    assert b"Screening: " in shown and b" of 51 names (" in shown
    rows = list(csv.DictReader(io.StringIO(done.stdout.decode())))
    assert len(rows) == 51 and rows[-1]["status"] == "clear"
    piped = run_sanctions(lists.url, "screen", names, "--at", "2021-06-02", capture_output=True)
    assert piped.returncode == 3 and b"Screening" not in piped.stderr  # no bar into a pipe


# ------------------------------------------------------------------ the real lists


def test_screening_the_real_lists_with_a_certificate(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    """The real UN list (2018) and OFAC SDN (2021): scripts, spellings, unlisted names."""
    url = copy_ledger(real_ledger_template(tmp_path_factory.getbasetemp()), tmp_path / "real")
    real = Sanctions(url)
    names = write(
        tmp_path / "customers.csv",
        "id,name,kind\n"
        "1,김정은,\n"  # Kim Jong Un, in Hangul
        "2,Калашников Александр Петрович,person\n"
        "3,عبد الخالق الحوثي,\n"  # Abd al-Khaliq al-Houthi, split otherwise than listed
        "4,Aerocaribean Airlines,organization\n"
        "5,Aerocaribean Airlines,vessel\n"  # a kind that contradicts: ruled out
        "6,Maria Schneider,person\n"
        "7,Oceanic Widgets GmbH,organization\n",
    )
    cert = tmp_path / "cert.json"
    result = real(
        "screen", names, "--at", "2021-06-02", "--format", "json", "--certificate", str(cert)
    )
    assert result.exit_code == 3
    rows = as_json(result)
    best = [
        (r["status"], r["candidates"][0]["subject_id"] if r["candidates"] else None) for r in rows
    ]
    assert best == [
        ("match", "ofac-20157"),
        ("match", "ofac-31252"),
        ("match", "un-yei-001"),
        ("match", "ofac-36"),
        ("clear", None),
        ("clear", None),
        ("clear", None),
    ]
    valid = real("check-certificate", str(cert))
    assert valid.exit_code == 0 and valid.stdout.startswith("valid: 7 rows answered alike")
