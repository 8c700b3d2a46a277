"""The JSON API of ``sanctions serve`` on a real ledger (SQLite file and PostgreSQL): the
same rows as the CLI's --format json, paging, errors, read-only, staying current."""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg import sql
from support import EXAMPLE, FIXTURES, POSTGRES_ENV, Sanctions, sqlite_url_in

from web.app import create_app

GHR = "EU Global Human Rights Sanctions Regime"


@pytest.fixture
def example(sanctions: Sanctions) -> Sanctions:
    sanctions.ok("import", str(EXAMPLE))
    return sanctions


@pytest.fixture
def client(example: Sanctions) -> Iterator[TestClient]:
    with TestClient(create_app(example.url)) as c:
        yield c


def cli_json(sanctions: Sanctions, *args: str) -> Any:
    return json.loads(sanctions.ok(*args, "--format", "json").stdout)


def all_items(client: TestClient, path: str) -> list[Any]:
    """Every row of a paged answer, following ``next``."""
    items: list[Any] = []
    url: str | None = path
    while url is not None:
        response = client.get(url)
        assert response.status_code == 200, response.text
        page = response.json()
        items += page["items"]
        url = page["next"]
    return items


@pytest.mark.parametrize(
    ("path", "command"),
    [
        ("/api/designations?authority=EU&at=2021-03-03",
         "list --authority EU --at 2021-03-03"),
        ("/api/designations?at=2021-03-01&known_at=40", "list --at 2021-03-01 --known-at 40"),
        ("/api/subjects/igor-krasnov/history", "history igor-krasnov"),
        ("/api/diff?from=2021-03-01&to=2021-03-31&authority=EU",
         "diff 2021-03-01 2021-03-31 --authority EU"),
        ("/api/announcements", "announcements"),
        ("/api/rulings?subject=alexei-navalny", "rulings --subject alexei-navalny"),
        ("/api/search?q=Aleksandr%20Kalashnikov&at=2021-03-03",
         "search Aleksandr_Kalashnikov --at 2021-03-03"),
        ("/api/subjects", "subject list"),
        ("/api/log?from=30&limit=5", "log --from 30 --limit 5"),
    ],
)  # fmt: skip
def test_api_rows_are_the_cli_json_rows(
    example: Sanctions, client: TestClient, path: str, command: str
) -> None:
    expected = cli_json(example, *(word.replace("_", " ") for word in command.split()))
    assert expected, "the comparison must not be of two empty answers"
    page = client.get(path).json()
    assert page["items"] == expected
    assert (page["next"] is None) == ("limit=5" not in path)


def test_the_log_pages_by_position(client: TestClient) -> None:
    page = client.get("/api/log?from=30&limit=5").json()
    assert page["next"] == "http://testserver/api/log?from=35&limit=5"
    assert [line["position"] for line in all_items(client, "/api/log?from=30&limit=5")] == list(
        range(30, 42)
    )


def test_one_subject_is_the_cli_show_object(example: Sanctions, client: TestClient) -> None:
    got = client.get("/api/subjects/igor-krasnov?at=2021-03-03").json()
    assert got == cli_json(example, "show", "igor-krasnov", "--at", "2021-03-03")
    assert {(d["authority"], d["listed_from"]) for d in got["designations"]} == {
        ("EU", "2021-03-02"),
        ("US-OFAC", "2021-03-02"),
    }


def test_head_is_the_cli_head(example: Sanctions, client: TestClient) -> None:
    position, digest = example.head()
    assert client.get("/api/head").json() == {"position": position, "digest": digest}
    assert example.ok("head").stdout.strip() == f"{position} {digest}"


def test_long_answers_are_paged_and_next_pins_the_date_and_known_at(
    example: Sanctions, client: TestClient
) -> None:
    full = cli_json(example, "list", "--at", "2021-03-03")
    first = client.get("/api/designations?at=2021-03-03&limit=4").json()
    assert len(first["items"]) == 4
    assert "known_at=41" in first["next"] and "offset=4" in first["next"]
    # An event appended between two pages does not leak into the pages after it.
    example.ok(
        "designate",
        "pavel-popov",
        "--authority",
        "UK",
        "--regime",
        "Global HR",
        "--effective",
        "2021-03-01",
        "--measure",
        "asset-freeze",
    )
    assert all_items(client, "/api/designations?at=2021-03-03&limit=4") != full  # now current
    rest = all_items(client, first["next"])
    assert first["items"] + rest == full


def test_page_size_is_capped(client: TestClient) -> None:
    response = client.get("/api/designations?limit=1001")
    assert response.status_code == 400
    assert response.json()["parameter"] == "limit"


@pytest.mark.parametrize(
    ("query", "parameter", "error"),
    [
        ("/api/designations?at=2021-02-30", "at", "at '2021-02-30' is not a calendar date"),
        ("/api/designations?at=3/3/2021", "at", "at '3/3/2021' is not a date: write YYYY-MM-DD"),
        ("/api/designations?known_at=yesterday", "known_at",
         "known_at 'yesterday' is not a position, a timestamp or a date "
         "(e.g. 42, 2021-03-10T12:00:00Z, 2021-03-10)"),
        ("/api/designations?measure=freeze", "measure", None),
        ("/api/diff?from=2021-03-31&to=2021-03-01", "to",
         "the end date 2021-03-01 is before the start date 2021-03-31"),
        ("/api/diff?from=2021-03-31", "to", None),
        ("/api/log?from=0", "from", None),
        ("/api/search?q=%21%21", "q", "q '!!' has no letters or digits to search for; give a name"),
    ],
)  # fmt: skip
def test_a_bad_parameter_is_a_400_naming_it(
    client: TestClient, query: str, parameter: str, error: str | None
) -> None:
    response = client.get(query)
    assert response.status_code == 400
    body = response.json()
    assert body["parameter"] == parameter
    if error is not None:
        assert body["error"] == error


def test_a_mistyped_authority_is_a_400_not_an_empty_list(client: TestClient) -> None:
    for path in (
        "/api/designations?authority=EUR",
        "/api/diff?from=2021-01-01&to=2021-12-31&authority=EUR",
    ):
        response = client.get(path)
        assert response.status_code == 400, path
        assert response.json() == {
            "error": "unknown authority 'EUR'; did you mean: EU, UN, UK?",
            "parameter": None,
        }
    assert client.get("/designations?authority=EUR").status_code == 400
    assert client.get("/api/rulings?subject=alexei-navalni").status_code == 400
    assert client.get("/api/announcements?subject=alexei-navalny").json()["items"] == []
    assert client.get("/api/designations?authority=EU&at=2019-01-01").json()["items"] == []


def test_an_unknown_subject_is_a_404_with_the_nearest_ids(client: TestClient) -> None:
    response = client.get("/api/subjects/igor-krasnow")
    assert response.status_code == 404
    assert response.json() == {
        "error": "unknown subject 'igor-krasnow'; did you mean: igor-krasnov, gosniiokht, "
        "sergei-kiriyenko?",
        "parameter": None,
    }
    assert client.get("/api/subjects/igor-krasnow/history").status_code == 404
    assert client.get("/subjects/igor-krasnow").status_code == 404


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize(
    "path",
    ["/api/designations", "/api/head", "/api/subjects/igor-krasnov", "/subjects/igor-krasnov", "/"],
)
def test_write_methods_are_refused_and_write_nothing(
    example: Sanctions, client: TestClient, method: str, path: str
) -> None:
    before = example.head()
    response = client.request(method, path, json={"type": "retracted", "data": {"position": 1}})
    assert response.status_code == 405
    assert example.head() == before


def test_known_at_before_the_events_were_recorded_hides_them(
    example: Sanctions, client: TestClient
) -> None:
    day_before = "2000-01-01"
    listed = client.get(f"/api/designations?at=2021-03-03&known_at={day_before}").json()
    assert listed["items"] == []
    assert client.get(f"/api/subjects/igor-krasnov?known_at={day_before}").status_code == 404
    registered = next(e.position for e in example.events() if e.data.get("id") == "igor-krasnov")
    got = client.get(f"/api/subjects/igor-krasnov?at=2021-03-03&known_at={registered}").json()
    assert got["designations"] == []
    timeline = client.get(f"/api/subjects/igor-krasnov/timeline?known_at={registered}").json()
    assert timeline["lanes"] == []
    now = client.get("/api/subjects/igor-krasnov/timeline").json()
    assert [(lane["authority"], lane["stretches"][0]["valid_from"]) for lane in now["lanes"]] == [
        ("EU", "2021-03-02"),
        ("US-OFAC", "2021-03-02"),
    ]


def test_events_appended_by_the_cli_show_up_on_the_next_request(
    example: Sanctions, client: TestClient
) -> None:
    assert client.get("/api/subjects/igor-krasnov?at=2021-03-03").json()["designations"]
    example.ok(
        "delist", "igor-krasnov", "--authority", "EU", "--regime", GHR, "--effective", "2021-03-03"
    )
    after = client.get("/api/subjects/igor-krasnov?at=2021-03-03").json()
    assert [d["authority"] for d in after["designations"]] == ["US-OFAC"]
    assert client.get("/api/head").json()["position"] == 42


def test_every_response_carries_a_policy_allowing_only_the_servers_own_resources(
    client: TestClient,
) -> None:
    for path in ["/", "/api/head", "/subjects/igor-krasnov", "/static/style.css", "/nowhere"]:
        policy = client.get(path).headers["content-security-policy"]
        assert "default-src 'none'" in policy
        assert "script-src 'self'" in policy and "style-src 'self'" in policy
        assert "http" not in policy and "unsafe" not in policy


def test_openapi_describes_every_endpoint_and_no_page_loads_from_a_cdn(
    client: TestClient,
) -> None:
    schema = client.get("/openapi.json").json()
    assert set(schema["paths"]) == {
        "/api/head", "/api/search", "/api/subjects", "/api/subjects/{subject_id}",
        "/api/subjects/{subject_id}/timeline", "/api/subjects/{subject_id}/history",
        "/api/designations", "/api/diff", "/api/announcements", "/api/rulings", "/api/log",
    }  # fmt: skip
    for path in schema["paths"].values():
        assert set(path) == {"get"}
        assert "400" in path["get"]["responses"]
    assert client.get("/docs").status_code == 404
    assert client.get("/redoc").status_code == 404


def test_a_script_in_a_subject_name_is_shown_as_text(sanctions: Sanctions, tmp_path: Any) -> None:
    name = "<script>alert(1)</script>"
    events = tmp_path / "hostile.jsonl"
    events.write_text(
        json.dumps({"type": "subject_registered", "data": {
            "id": "hostile", "name": name, "aliases": ['"><img src=x onerror=alert(2)>'],
            "sources": ["javascript:alert(3)"]}}) + "\n"
        + json.dumps({"type": "designated", "data": {
            "subject": "hostile", "authority": "EU", "regime": "</text><script>alert(4)</script>",
            "effective": "2021-03-02", "measures": ["asset-freeze"]}}) + "\n"
    )  # fmt: skip
    sanctions.ok("import", str(events))
    with TestClient(create_app(sanctions.url)) as client:
        for path in [
            "/subjects/hostile",
            "/?q=script",
            "/designations?at=2021-03-03",
            "/diff?from=2021-03-01&to=2021-03-31",
            "/log",
        ]:
            page = client.get(path)
            assert page.status_code == 200, path
            assert "<script" not in page.text and "<img" not in page.text, path
            assert 'href="javascript:' not in page.text, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in client.get("/subjects/hostile").text
        assert client.get("/api/subjects/hostile").json()["subject"]["name"] == name


def test_the_csv_download_is_the_cli_csv(example: Sanctions, client: TestClient) -> None:
    response = client.get("/designations.csv?authority=EU&at=2021-03-03")
    assert response.headers["content-type"].startswith("text/csv")
    expected = example.ok("list", "--authority", "EU", "--at", "2021-03-03", "--format", "csv")
    assert response.text == expected.stdout
    assert response.text.count("\n") == 12


@pytest.mark.postgres
def test_a_role_that_may_only_select_still_gets_answers(postgres_url: str) -> None:
    example = Sanctions(postgres_url)
    example.ok("import", str(EXAMPLE))
    base = os.environ[POSTGRES_ENV].split("?")[0]
    schema = example.url.rsplit("schema=", 1)[1]
    role = f"reader_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
        conn.execute(
            sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(
                sql.Identifier(schema), sql.Identifier(role)
            )
        )
        conn.execute(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(
            sql.Identifier(schema), sql.Identifier(role)))  # fmt: skip
    try:
        reader_url = example.url.replace("postgres@", f"{role}@", 1)
        assert reader_url != example.url
        with TestClient(create_app(reader_url)) as client:
            got = client.get("/api/subjects/igor-krasnov?at=2021-03-03")
            assert got.status_code == 200
            assert len(got.json()["designations"]) == 2
            assert client.get("/subjects/igor-krasnov").status_code == 200
            # An event the projections cannot take in: an error, never a stale "not listed".
            example.ok(
                "delist",
                "igor-krasnov",
                "--authority",
                "EU",
                "--regime",
                GHR,
                "--effective",
                "2021-03-03",
            )
            with psycopg.connect(base, autocommit=True) as conn:  # undo the CLI's catch-up
                conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
                conn.execute("UPDATE view_tracking SET position = 41")
            stale = client.get("/api/subjects/igor-krasnov?at=2021-03-04")
            assert stale.status_code == 503
            assert stale.json()["error"] == (
                "the projections are 1 event behind the log and this ledger is read-only here "
                f"(the role {role} may not insert into {schema}.ledger_events); "
                "'sanctions rebuild' with write access brings them up to date"
            )
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def test_the_timeline_marks_amendments_delistings_rulings_and_annulments(
    example: Sanctions, client: TestClient
) -> None:
    example.ok(
        "amend",
        "igor-krasnov",
        "--authority",
        "EU",
        "--regime",
        GHR,
        "--effective",
        "2022-03-01",
        "--remove-measure",
        "travel-ban",
    )
    example.ok(
        "ruling",
        "igor-krasnov",
        "--court",
        "EU General Court",
        "--date",
        "2023-06-01",
        "--outcome",
        "annulled",
        "--annuls",
        "--authority",
        "EU",
        "--regime",
        GHR,
    )
    example.ok("delist", "igor-krasnov", "--authority", "US-OFAC", "--regime", "EO 13661",
               "--effective", "2024-01-01")  # fmt: skip
    page = client.get("/subjects/igor-krasnov?at=2022-06-01").text
    for mark in [
        "mark-amended",
        "mark-annulled",
        "mark-annulment",
        "mark-delisted",
        "mark-announcement",
    ]:
        assert f'class="mark {mark}"' in page, mark
    timeline = client.get("/api/subjects/igor-krasnov/timeline").json()
    eu = next(lane for lane in timeline["lanes"] if lane["authority"] == "EU")
    assert [(s["valid_from"], s["valid_to"], s["ended_by"]) for s in eu["stretches"]] == [
        ("2021-03-02", "2022-02-28", None),
        ("2022-03-01", "2023-05-31", "annulled"),
    ]
    # As known before those three events: one open stretch per lane again.
    before = client.get("/api/subjects/igor-krasnov/timeline?known_at=41").json()
    assert [len(lane["stretches"]) for lane in before["lanes"]] == [1, 1]
    assert 'class="mark mark-annulled"' not in client.get("/subjects/igor-krasnov?known_at=41").text


def test_an_uncertain_start_is_in_the_timeline_and_shaded_on_the_page(tmp_path: Path) -> None:
    """OFAC gives no listing date: ofac-31252 is possibly listed from 2021-06-02 (the day
    after the snapshot without it) and certainly from 2021-07-07."""
    ledger = tmp_path / "old"
    ledger.mkdir()
    shutil.copyfile(FIXTURES / "ledger-with-list-imports-before-issue-13.db", ledger / "ledger.db")
    with TestClient(create_app(sqlite_url_in(ledger))) as c:
        timeline = c.get("/api/subjects/ofac-31252/timeline").json()
        (lane,) = timeline["lanes"]
        first = lane["stretches"][0]
        assert (first["period_start"], first["listed_after"], first["start_unknown"]) == (
            "2021-07-07",
            "2021-06-01",
            False,
        )
        page = c.get("/subjects/ofac-31252").text
        assert "possibly listed from 2021-06-02 before 2021-07-07" in page
