"""One party, many lists: links between subjects as events, and the answers per party.

Every test runs on SQLite and PostgreSQL (``sanctions`` / ``db_url``) and reopens the store
to check what was (not) written.
"""

from __future__ import annotations

import json
from datetime import date

import pytest
from support import Sanctions

from ledger import Ledger
from projections import Views, queries, showing

GHR = "EU Global Human Rights Sanctions Regime"


@pytest.fixture
def two_lists(sanctions: Sanctions) -> Sanctions:
    """Igor Krasnov twice, as two lists would bring him: the EU's (1, 3) and OFAC's (2, 4)."""
    sanctions.ok(
        "subject", "add", "Igor Krasnov", "--id", "eu-krasnov", "--birth-date", "1975-12-24"
    )
    sanctions.ok(
        "subject",
        "add",
        "KRASNOV, Igor",
        "--id",
        "ofac-1",
        "--birth-date",
        "1975-12-25",
        "--alt-birth-date",
        "1975-12-24",
        "--quiet",
    )
    sanctions.ok(
        "designate", "eu-krasnov", "--authority", "EU", "--regime", GHR, "--effective", "2021-03-02"
    )
    sanctions.ok(
        "designate",
        "ofac-1",
        "--authority",
        "US-OFAC",
        "--regime",
        "EO 13661",
        "--effective",
        "2021-03-02",
    )
    return sanctions


def show(s: Sanctions, subject: str, *extra: str) -> dict[str, object]:
    out = s.ok("show", subject, "--at", "2021-03-03", "--format", "json", *extra).stdout
    return json.loads(out)  # type: ignore[no-any-return]


def authorities(report: dict[str, object]) -> list[tuple[str, str]]:
    rows = report["designations"]
    assert isinstance(rows, list)
    return sorted((r["subject_id"], r["authority"]) for r in rows)


def test_a_link_makes_one_party_whose_answer_spans_both_lists(two_lists: Sanctions) -> None:
    s = two_lists
    result = s.ok("link", "eu-krasnov", "ofac-1", "--reason", "same name and birth date")
    assert result.stdout == "Recorded at position 5: linked eu-krasnov and ofac-1 as one party\n"
    event = s.events()[-1]
    assert (event.type, event.data["subjects"], event.data["despite"]) == (
        "linked",
        ["eu-krasnov", "ofac-1"],
        None,
    )
    for who in ("eu-krasnov", "ofac-1"):
        report = show(s, who)
        assert authorities(report) == [("eu-krasnov", "EU"), ("ofac-1", "US-OFAC")]
        links = report["links"]
        assert isinstance(links, list)
        assert [(x["position"], x["reason"]) for x in links] == [(5, "same name and birth date")]
    table = s.ok("show", "ofac-1", "--at", "2021-03-03").stdout
    assert "One party with 1 other subject(s):\n  eu-krasnov: Igor Krasnov" in table
    assert "same name and birth date" in table


def test_as_known_before_the_link_each_subject_answers_alone(two_lists: Sanctions) -> None:
    s = two_lists
    before = {who: show(s, who) for who in ("eu-krasnov", "ofac-1")}
    s.ok("link", "eu-krasnov", "ofac-1", "--reason", "same man")
    for who in ("eu-krasnov", "ofac-1"):
        assert show(s, who, "--known-at", "4") == before[who]
        assert show(s, who, "--known-at", "4")["party"] == []


def test_unlink_parts_them_from_its_record_time_on(two_lists: Sanctions) -> None:
    s = two_lists
    s.ok("link", "eu-krasnov", "ofac-1", "--reason", "same man")
    result = s.ok("unlink", "ofac-1", "eu-krasnov", "--reason", "another man of that name")
    assert result.stdout == "Recorded at position 6: unlinked ofac-1 and eu-krasnov\n"
    assert authorities(show(s, "eu-krasnov")) == [("eu-krasnov", "EU")]
    assert authorities(show(s, "eu-krasnov", "--known-at", "5")) == [
        ("eu-krasnov", "EU"),
        ("ofac-1", "US-OFAC"),
    ]
    # Linked again: the same answer as after the first link.
    s.ok("link", "eu-krasnov", "ofac-1", "--reason", "it was him after all")
    assert authorities(show(s, "ofac-1")) == authorities(show(s, "ofac-1", "--known-at", "5"))


def test_a_retracted_link_stops_counting_from_the_retraction_on(two_lists: Sanctions) -> None:
    s = two_lists
    s.ok("link", "eu-krasnov", "ofac-1", "--reason", "same man")
    s.ok("retract", "5", "--reason", "linked by mistake")
    assert authorities(show(s, "ofac-1")) == [("ofac-1", "US-OFAC")]
    assert len(authorities(show(s, "ofac-1", "--known-at", "5"))) == 2


def test_links_are_transitive(two_lists: Sanctions) -> None:
    s = two_lists
    s.ok(
        "subject", "add", "Igor V. Krasnov", "--id", "uk-9", "--birth-date", "1975-12-24", "--quiet"
    )
    s.ok(
        "designate", "uk-9", "--authority", "UK", "--regime", "Russia", "--effective", "2021-03-05"
    )
    s.ok("link", "eu-krasnov", "ofac-1", "--reason", "a")
    s.ok("link", "ofac-1", "uk-9", "--reason", "b")
    report = show(s, "eu-krasnov", "--at", "2021-03-06")
    assert [x["subject_id"] for x in report["party"]] == ["ofac-1", "uk-9"]  # type: ignore[union-attr,index]
    assert {a for _, a in authorities(report)} == {"EU", "US-OFAC", "UK"}
    s.refused(
        ["unlink", "eu-krasnov", "uk-9", "--reason", "x"],
        "Error: no link between eu-krasnov and uk-9 stands; unlink names two subjects linked "
        "directly ('sanctions show eu-krasnov' lists its links)",
    )


def test_parties_and_designations_of_many_at_once_are_each_ones(two_lists: Sanctions) -> None:
    """``search`` reads its hits' parties and designations together (``showing.parties``,
    ``designations_of``): the same as one subject at a time, at every position and date."""
    s = two_lists
    s.ok("subject", "add", "Igor V. Krasnov", "--id", "uk-9", "--quiet")
    s.ok("subject", "add", "Olga Lone", "--id", "lone-1", "--quiet")
    for subject, authority, regime, extra in [
        ("uk-9", "UK", "Russia", ["--effective", "2021-03-05"]),
        ("uk-9", "UK", "Belarus", ["--effective", "2021-06-01", "--listed-after", "2021-02-01"]),
        ("lone-1", "UK", "Russia", ["--effective", "2021-04-01", "--start-unknown"]),
        ("ofac-1", "UK", "Russia", ["--effective", "2021-03-04", "--until", "2021-03-20"]),
    ]:
        s.ok("designate", subject, "--authority", authority, "--regime", regime, *extra)
    s.ok("link", "eu-krasnov", "ofac-1", "--reason", "a")
    s.ok("link", "ofac-1", "uk-9", "--reason", "b")
    s.ok("unlink", "eu-krasnov", "ofac-1", "--reason", "c")
    s.ok("link", "eu-krasnov", "uk-9", "--reason", "d", "--despite", "no birth date")
    ids = ["eu-krasnov", "lone-1", "ofac-1", "uk-9", "nobody"]
    days = [date(2021, 3, 3), date(2021, 3, 10), date(2021, 3, 25), date(2021, 5, 1)]
    ledger = Ledger(s.url)
    views = Views(ledger)
    try:
        views.catch_up()
        with views.engine.connect() as conn:
            run = queries.runner(conn)
            for k in range(1, views.position() + 1):
                each = {i: showing.members(run, i, k) for i in ids}
                assert showing.parties(run, ids, k) == each, k
                for day in days:
                    alone = {i: showing.designations(run, i, day, k) for i in ids}
                    assert showing.designations_of(run, ids, day, k) == alone, (k, day)
            head = showing.parties(run, ids, k)
            assert head["lone-1"] == ["lone-1"]
            assert head["ofac-1"] == ["ofac-1", "eu-krasnov", "uk-9"]
            found = showing.designations_of(run, ids, date(2021, 3, 10), k)
            assert [(x.regime, x.certain) for x in found["uk-9"]] == [
                ("Russia", True),
                ("Belarus", False),
            ]
    finally:
        views.close()
        ledger.close()


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["eu-krasnov", "eu-krasnov"], "Error: cannot link eu-krasnov to itself"),
        (["eu-krasnov", "ofac-2"], "Error: unknown subject 'ofac-2'; did you mean: ofac-1?"),
        (
            ["eu-krasnov", "vessel-1"],
            "Error: cannot link eu-krasnov (person) and vessel-1 (vessel): a party is of one kind",
        ),
        (
            ["eu-krasnov", "namesake"],
            "Error: eu-krasnov and namesake have no birth date in common (1975-12-24 / "
            "1960-01-01); if they are one party all the same, say why with --despite TEXT",
        ),
    ],
    ids=["itself", "unknown", "kinds", "birth dates"],
)
def test_a_link_that_cannot_be_is_refused_and_nothing_is_written(
    two_lists: Sanctions, args: list[str], error: str
) -> None:
    s = two_lists
    s.ok("subject", "add", "Vessel One", "--id", "vessel-1", "--kind", "vessel")
    s.ok(
        "subject",
        "add",
        "Igor Krasnov",
        "--id",
        "namesake",
        "--birth-date",
        "1960-01-01",
        "--quiet",
    )
    s.refused(["link", *args, "--reason", "r"], error)


def test_despite_links_subjects_whose_birth_dates_differ_and_is_kept(two_lists: Sanctions) -> None:
    s = two_lists
    s.ok(
        "subject",
        "add",
        "Igor Krasnov",
        "--id",
        "namesake",
        "--birth-date",
        "1960-01-01",
        "--quiet",
    )
    s.ok("link", "eu-krasnov", "namesake", "--reason", "r", "--despite", "the list has a typo")
    assert s.events()[-1].data["despite"] == "the list has a typo"
    s.refused(
        ["link", "namesake", "eu-krasnov", "--reason", "again"],
        "Error: namesake and eu-krasnov are already linked",
    )


def test_other_birth_dates_count_as_in_common(two_lists: Sanctions) -> None:
    """ofac-1 was born 1975-12-25, alt. 1975-12-24: the link needs no --despite."""
    s = two_lists
    s.ok("link", "eu-krasnov", "ofac-1", "--reason", "alt. DOB in common")
    report = show(s, "ofac-1")
    assert report["subject"]["alt_birth_dates"] == ["1975-12-24"]  # type: ignore[index]
    assert "born: 1975-12-25, or 1975-12-24" in s.ok("show", "ofac-1").stdout


def test_history_includes_the_link_events(two_lists: Sanctions) -> None:
    s = two_lists
    s.ok("link", "eu-krasnov", "ofac-1", "--reason", "same man")
    s.ok("unlink", "eu-krasnov", "ofac-1", "--reason", "not him")
    for who in ("eu-krasnov", "ofac-1"):
        rows = json.loads(s.ok("history", who, "--format", "json").stdout)
        assert [(r["position"], r["type"]) for r in rows][-2:] == [(5, "linked"), (6, "unlinked")]
        assert rows[-2]["effective_date"] is None


def test_registering_a_namesake_born_the_same_day_warns_and_registers(
    two_lists: Sanctions,
) -> None:
    s = two_lists
    result = s.ok("subject", "add", "Krasnov Igor", "--id", "uk-1", "--birth-date", "1975-12-24")
    assert (
        result.stdout == "Recorded at position 5: registered subject uk-1 (Krasnov Igor, person)\n"
    )
    assert result.stderr.splitlines() == [
        "Warning: uk-1 may be eu-krasnov (Igor Krasnov, born 1975-12-24); if they are one "
        'party: sanctions link uk-1 eu-krasnov --reason "..." (--quiet silences this)',
        "Warning: uk-1 may be ofac-1 (KRASNOV, Igor, born 1975-12-24, 1975-12-25); "
        'if they are one party: sanctions link uk-1 ofac-1 --reason "..." (--quiet silences '
        "this)",
    ]
    quiet = s.ok(
        "subject", "add", "Krasnov Igor", "--id", "uk-2", "--birth-date", "1975-12-24", "--quiet"
    )
    assert quiet.stderr == ""
    other_day = s.ok("subject", "add", "Krasnov Igor", "--id", "uk-3", "--birth-date", "1980-01-01")
    assert other_day.stderr == ""
    assert s.head()[0] == 7


def test_list_parties_gives_one_row_per_party_with_all_its_authorities(
    two_lists: Sanctions,
) -> None:
    s = two_lists
    s.ok("subject", "add", "Viktor Zolotov", "--quiet")
    s.ok(
        "designate",
        "viktor-zolotov",
        "--authority",
        "EU",
        "--regime",
        GHR,
        "--effective",
        "2021-03-02",
    )
    s.ok("link", "eu-krasnov", "ofac-1", "--reason", "same man")
    args = ["list", "--parties", "--at", "2021-03-03", "--format", "json"]
    rows = json.loads(s.ok(*args).stdout)
    assert [(r["party"], r["subjects"], r["authorities"]) for r in rows] == [
        ("eu-krasnov", ["eu-krasnov", "ofac-1"], ["EU", "US-OFAC"]),
        ("viktor-zolotov", ["viktor-zolotov"], ["EU"]),
    ]
    only_us = json.loads(s.ok(*args, "--authority", "US-OFAC").stdout)
    assert [(r["party"], r["authorities"]) for r in only_us] == [("eu-krasnov", ["EU", "US-OFAC"])]
    before = json.loads(s.ok(*args, "--known-at", "6").stdout)
    assert [r["party"] for r in before] == ["eu-krasnov", "ofac-1", "viktor-zolotov"]
    csv = s.ok("list", "--parties", "--at", "2021-03-03", "--format", "csv").stdout
    assert csv.splitlines()[0] == "party,subjects,names,authorities,regimes"


def test_search_and_screen_return_a_party_once(two_lists: Sanctions, tmp_path: object) -> None:
    s = two_lists
    s.ok("link", "eu-krasnov", "ofac-1", "--reason", "same man")
    hits = json.loads(
        s.ok("search", "Igor Krasnov", "--at", "2021-03-03", "--format", "json").stdout
    )
    assert [(h["subject_id"], h["party"]) for h in hits] == [("eu-krasnov", ["ofac-1"])]
    assert hits[0]["sanctions"] == [f"EU: {GHR}", "US-OFAC: EO 13661"]
    before = json.loads(
        s.ok("search", "Igor Krasnov", "--known-at", "4", "--format", "json").stdout
    )
    assert sorted(h["subject_id"] for h in before) == ["eu-krasnov", "ofac-1"]
    result = s(
        "screen", "-", "--at", "2021-03-03", "--format", "json", input="name\nIgor Krasnov\n"
    )
    assert result.exit_code == 3, result.output
    (row,) = json.loads(result.stdout)
    assert [(c["subject_id"], c["party"]) for c in row["candidates"]] == [
        ("eu-krasnov", ["ofac-1"])
    ]
    assert {d["authority"] for d in row["candidates"][0]["designations"]} == {"EU", "US-OFAC"}


def test_import_of_linked_lines_is_all_or_nothing(two_lists: Sanctions) -> None:
    s = two_lists
    good = {"type": "linked", "data": {"subjects": ["eu-krasnov", "ofac-1"], "reason": "r"}}
    bad = {"type": "linked", "data": {"subjects": ["eu-krasnov", "nobody"], "reason": "r"}}
    lines = "\n".join(json.dumps(x) for x in (good, bad)) + "\n"
    result = s("import", "-", input=lines)
    assert result.exit_code == 1
    assert s.head()[0] == 4
    result = s("import", "-", input=json.dumps(good) + "\n")
    assert result.exit_code == 0, result.output
    assert authorities(show(s, "ofac-1")) == [("eu-krasnov", "EU"), ("ofac-1", "US-OFAC")]


def test_links_and_other_birth_dates_export_and_restore_to_the_same_bytes(
    two_lists: Sanctions, tmp_path: object
) -> None:
    from pathlib import Path

    s = two_lists
    s.ok("link", "eu-krasnov", "ofac-1", "--reason", "same man", "--source", "https://x.test/1")
    s.ok("unlink", "eu-krasnov", "ofac-1", "--reason", "not him")
    s.ok("subject", "amend", "ofac-1", "--alt-birth-date", "1975-12-23")
    exported = s.ok("export").stdout
    assert '"alt_birth_dates": ["1975-12-24"]' in exported
    folder = Path(str(tmp_path)) / "restored"
    folder.mkdir()
    other = Sanctions(f"sqlite:///{folder / 'r.db'}")
    other.ok("import", "-", input=exported)
    assert other.ok("export").stdout == exported
    assert other.head() == s.head()


def test_suggestions_list_candidates_best_first_and_write_nothing(two_lists: Sanctions) -> None:
    s = two_lists
    s.ok(
        "subject",
        "add",
        "Igor Krasnov",
        "--id",
        "namesake",
        "--birth-date",
        "1960-01-01",
        "--quiet",
    )
    head = s.head()
    out = s.ok("links", "suggest", "--authority", "EU", "--with", "US-OFAC", "--format", "json")
    (found,) = json.loads(out.stdout)
    assert (found["subject_a"], found["subject_b"]) == ("eu-krasnov", "ofac-1")
    assert found["evidence"]["birth_date"] == "same"
    assert found["score"] >= 0.9
    # The namesake scores below the best pair of eu-krasnov: left out while that pair is open.
    everyone = json.loads(s.ok("links", "suggest", "--min-score", "0.5", "--format", "json").stdout)
    assert [(x["subject_a"], x["subject_b"]) for x in everyone] == [("eu-krasnov", "ofac-1")]
    assert s.head() == head
    s.ok("link", "eu-krasnov", "ofac-1", "--reason", "reviewed")
    after = json.loads(s.ok("links", "suggest", "--min-score", "0.5", "--format", "json").stdout)
    assert [(x["subject_a"], x["evidence"]["birth_date"]) for x in after] == [
        ("eu-krasnov", "differs")
    ]
    assert after[0]["subject_b"] == "namesake"
    assert after[0]["score"] < 0.9
    s.refused(
        ["links", "suggest", "--authority", "EU", "--with", "US-OFAK"],
        "Error: unknown authority 'US-OFAK'; did you mean: US-OFAC, US-STATE, US-BIS?",
    )
    csv = s.ok("links", "suggest", "--format", "csv").stdout.splitlines()
    assert csv[0] == (
        "score,subject_a,name_a,authorities_a,subject_b,name_b,authorities_b,name_score,"
        "birth_date,nationality,kind"
    )


def test_an_unlinked_pair_is_not_suggested_again(two_lists: Sanctions) -> None:
    s = two_lists
    s.ok("link", "eu-krasnov", "ofac-1", "--reason", "r")
    s.ok("unlink", "eu-krasnov", "ofac-1", "--reason", "two men")
    assert json.loads(s.ok("links", "suggest", "--format", "json").stdout) == []
    s.refused(
        ["links", "suggest", "--min-score", "1.5"],
        "Error: --min-score 1.5 is not a score: give one in (0, 1]",
    )


def test_export_ftm_writes_one_entity_per_party_with_its_referents(
    two_lists: Sanctions, tmp_path: object
) -> None:
    from pathlib import Path

    s = two_lists
    out = Path(str(tmp_path)) / "party.ftm.json"
    s.ok("link", "eu-krasnov", "ofac-1", "--reason", "same man")
    s.ok("export-ftm", "--at", "2021-03-03", str(out))
    entities = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    people = [e for e in entities if e["schema"] == "Person"]
    assert [(p["id"], p["referents"]) for p in people] == [("eu-krasnov", ["eu-krasnov", "ofac-1"])]
    assert "KRASNOV, Igor" in people[0]["properties"]["alias"]
    sanctions = [e for e in entities if e["schema"] == "Sanction"]
    assert sorted(x["properties"]["program"][0] for x in sanctions) == ["EO 13661", GHR]
    assert {x["properties"]["entity"][0] for x in sanctions} == {"eu-krasnov"}
    s.ok("export-ftm", "--at", "2021-03-03", "--known-at", "4", str(out))
    apart = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert sorted(e["id"] for e in apart if e["schema"] == "Person") == ["eu-krasnov", "ofac-1"]
    assert all("referents" not in e for e in apart)


def test_the_http_api_and_page_show_the_party(two_lists: Sanctions) -> None:
    from fastapi.testclient import TestClient

    from web.app import create_app

    s = two_lists
    s.ok("link", "eu-krasnov", "ofac-1", "--reason", "same man on both lists")
    with TestClient(create_app(s.url)) as client:
        api = client.get("/api/subjects/ofac-1", params={"at": "2021-03-03"}).json()
        page = client.get("/subjects/ofac-1", params={"at": "2021-03-03"}).text
    assert api == show(s, "ofac-1")
    assert "One party with 1 other subject(s)" in page
    assert "same man on both lists" in page
    assert "<td>eu-krasnov</td><td>EU</td>" in page


def test_a_subject_without_other_birth_dates_is_stored_as_before_they_were_kept(
    sqlite_url: str,
) -> None:
    """The old form (no field, no class_version): old ledgers' bytes and digests hold, and
    a subject with other birth dates is version 2, read back as written."""
    import sqlite3

    s = Sanctions(sqlite_url, init=False)
    s.ok("subject", "add", "Plain Person", "--birth-date", "1970-01-01", "--quiet")
    s.ok(
        "subject",
        "add",
        "Two Births",
        "--birth-date",
        "1970-01-01",
        "--alt-birth-date",
        "1971-02-03",
        "--quiet",
    )
    s.ok("subject", "amend", "plain-person", "--position", "Clerk")
    s.ok("subject", "amend", "two-births", "--alt-birth-date", "1972-03-04")
    path = sqlite_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        states = [
            json.loads(r[0])
            for r in db.execute("SELECT state FROM ledger_events ORDER BY position")
        ]
    assert "alt_birth_dates" not in states[0] and "class_version" not in states[0]
    iso = {"_type_": "date_iso", "_data_": "1971-02-03"}
    assert states[1]["alt_birth_dates"] == [iso] and states[1]["class_version"] == 2
    assert "alt_birth_dates" not in states[2] and "class_version" not in states[2]
    assert states[3]["alt_birth_dates"] == [{**iso, "_data_": "1972-03-04"}]
    report = show(s, "two-births")
    assert report["subject"]["alt_birth_dates"] == ["1972-03-04"]  # type: ignore[index]
    assert s.ok("verify").exit_code == 0
