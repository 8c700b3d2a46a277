"""Links on the real lists (UN 2018 and OFAC 2021 from ../shared/data), on both stores:
every birth date kept, suggestions reviewed and imported as ``linked`` lines, and the
party's answer spanning both lists. No names from the files are written here: the test
finds its subjects in the files themselves.

Each test starts from a copy of one ledger per store with both lists imported and projected
(importing them takes a minute on PostgreSQL): the SQLite file is copied, the PostgreSQL
database made from it as a template."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from lists_support import (
    OFAC_DIR,
    OFAC_PUBLISHED,
    UN_FILE,
    copy_ledger,
    postgres_copy,
    real_ledger_template,
    real_postgres_template,
)
from support import Sanctions

from ledger.adapters import parse


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    with real_postgres_template() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def sanctions(
    request: pytest.FixtureRequest, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Sanctions]:
    """A ledger with the real UN (2018) and OFAC (2021) lists imported by "importer"."""
    if request.param == "sqlite":
        template = real_ledger_template(tmp_path_factory.getbasetemp())
        yield Sanctions(copy_ledger(template, tmp_path / "real"), init=False)
    else:
        with postgres_copy(request.getfixturevalue("postgres_template")) as url:
            yield Sanctions(url, init=False)


def test_real_lists_keep_every_birth_date_and_link_into_parties(
    sanctions: Sanctions, tmp_path: Path
) -> None:
    s = sanctions
    un = [e for e in parse("un", UN_FILE).entries]
    ofac = [e for e in parse("ofac-sdn", OFAC_DIR, published=OFAC_PUBLISHED).entries]
    # Every birth date the lists give is kept: the first and the others.
    for entries in (un, ofac):
        several = next(e for e in entries if e.alt_birth_dates)
        report = json.loads(s.ok("show", several.subject_id, "--format", "json").stdout)
        assert report["subject"]["birth_date"] == several.birth_date.isoformat()  # type: ignore[union-attr]
        assert report["subject"]["alt_birth_dates"] == [
            d.isoformat() for d in several.alt_birth_dates
        ]
    assert sum(1 for e in un if e.alt_birth_dates) >= 40
    assert sum(1 for e in ofac if e.alt_birth_dates) >= 270

    head = s.head()
    found = json.loads(
        s.ok(
            "links", "suggest", "--authority", "UN", "--with", "US-OFAC", "--format", "json"
        ).stdout
    )
    assert s.head() == head  # suggesting writes nothing
    assert len(found) > 400
    scores = [x["score"] for x in found]
    assert scores == sorted(scores, reverse=True)
    persons = [x for x in found if x["evidence"]["birth_date"] == "same"][:20]
    assert len(persons) == 20
    lines = [
        {
            "type": "linked",
            "data": {
                "subjects": [x["subject_a"], x["subject_b"]],
                "reason": f"suggested with score {x['score']}, reviewed",
            },
        }
        for x in persons
    ]
    bad = {"type": "linked", "data": {"subjects": [persons[0]["subject_a"]] * 2, "reason": "r"}}
    text = "\n".join(json.dumps(x) for x in [*lines, bad]) + "\n"
    refused = s("import", "-", input=text)
    assert refused.exit_code == 1
    assert s.head() == head  # all or nothing
    s.ok("import", "-", input="\n".join(json.dumps(x) for x in lines) + "\n")
    assert s.head()[0] == head[0] + 20

    first = persons[0]
    ours = json.loads(s.ok("show", first["subject_b"], "--format", "json").stdout)
    assert [p["subject_id"] for p in ours["party"]] == [first["subject_a"]]
    assert {d["authority"] for d in ours["designations"]} == {"UN", "US-OFAC"}
    before = json.loads(
        s.ok("show", first["subject_b"], "--known-at", str(head[0]), "--format", "json").stdout
    )
    assert {d["authority"] for d in before["designations"]} == {"US-OFAC"}

    parties = json.loads(s.ok("list", "--parties", "--authority", "UN", "--format", "json").stdout)
    linked = [p for p in parties if len(p["subjects"]) > 1]
    assert len(linked) == 20
    assert all(p["authorities"] == ["UN", "US-OFAC"] for p in linked)
    assert len(parties) == len({p["party"] for p in parties})
    un_name = next(e.name for e in un if e.subject_id == first["subject_a"])
    hits = json.loads(s.ok("search", un_name, "--format", "json").stdout)
    ids = [h["subject_id"] for h in hits]
    assert first["subject_b"] not in ids or first["subject_a"] not in ids  # the party once
    (hit,) = [h for h in hits if first["subject_a"] in [h["subject_id"], *h["party"]]]
    assert {x.split(":")[0] for x in hit["sanctions"]} == {"UN", "US-OFAC"}
    history = json.loads(s.ok("history", first["subject_a"], "--format", "json").stdout)
    assert history[-1]["type"] == "linked"

    out = tmp_path / "entities.json"
    s.ok("export-ftm", str(out))
    entities = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    merged = [e for e in entities if "referents" in e]
    assert len(merged) == 20
    assert all(e["id"] == min(e["referents"]) for e in merged)

    suggested_again = json.loads(
        s.ok(
            "links", "suggest", "--authority", "UN", "--with", "US-OFAC", "--format", "json"
        ).stdout
    )
    again = {(x["subject_a"], x["subject_b"]) for x in suggested_again}
    assert not again & {(x["subject_a"], x["subject_b"]) for x in persons}


def test_real_lists_refuse_bad_links_warn_of_namesakes_and_answer_per_party_everywhere(
    sanctions: Sanctions,
) -> None:
    """The other bullets on the real files: refusals (kinds, birth dates, --despite), the
    registration warning, screen returning the party once, unlink from its record time on,
    and the HTTP API answering as ``show``."""
    from fastapi.testclient import TestClient

    from web.app import create_app

    s = sanctions
    un = [e for e in parse("un", UN_FILE).entries]
    ofac = [e for e in parse("ofac-sdn", OFAC_DIR, published=OFAC_PUBLISHED).entries]
    born: dict[object, list[object]] = {}
    for o in ofac:
        if o.kind == "person" and o.birth_date:
            born.setdefault(o.birth_date, []).append(o)
    # A UN person and an OFAC person born the same day (whoever they are: the link needs only
    # the same kind and a birth date in common).
    person = next(u for u in un if u.kind == "person" and u.birth_date in born)
    twin = born[person.birth_date][0]
    other = next(
        o
        for o in ofac
        if o.kind == "person"
        and o.birth_date
        and person.birth_date is not None
        and not {o.birth_date, *o.alt_birth_dates} & {person.birth_date, *person.alt_birth_dates}
    )
    vessel = next(o for o in ofac if o.kind == "vessel")
    head = s.head()
    s.refused(
        ["link", person.subject_id, vessel.subject_id, "--reason", "r"],
        f"Error: cannot link {person.subject_id} (person) and {vessel.subject_id} (vessel): "
        "a party is of one kind",
    )
    refused = s("link", person.subject_id, other.subject_id, "--reason", "r")
    assert refused.exit_code == 1
    assert "no birth date in common" in refused.output
    assert s.head() == head
    s.ok("link", person.subject_id, other.subject_id, "--reason", "r", "--despite", "typo")
    assert s.events()[-1].data["despite"] == "typo"
    s.ok("unlink", person.subject_id, other.subject_id, "--reason", "not him after all")

    # Registering the UN person again by hand warns, naming the listed subject.
    added = s.ok(
        "subject",
        "add",
        person.name,
        "--id",
        "by-hand",
        "--birth-date",
        person.birth_date.isoformat(),  # type: ignore[union-attr]
    )
    assert f"Warning: by-hand may be {person.subject_id} (" in added.stderr
    before_link = s.head()[0]
    s.ok("link", person.subject_id, twin.subject_id, "--reason", "born the same day")

    result = s("screen", "-", "--format", "json", input=f"name\n{person.name}\n")
    assert result.exit_code == 3, result.output
    (row,) = json.loads(result.stdout)
    ids = [c["subject_id"] for c in row["candidates"]]
    assert len(ids) == len(set(ids))
    (cand,) = [c for c in row["candidates"] if person.subject_id in [c["subject_id"], *c["party"]]]
    assert twin.subject_id in [cand["subject_id"], *cand["party"]]
    assert twin.subject_id not in ids or person.subject_id not in ids  # the party once

    linked = json.loads(s.ok("show", person.subject_id, "--format", "json").stdout)
    assert {d["subject_id"] for d in linked["designations"]} == {
        person.subject_id,
        twin.subject_id,
    }
    with TestClient(create_app(s.url)) as client:
        api = client.get(f"/api/subjects/{person.subject_id}").json()
        page = client.get(f"/subjects/{person.subject_id}").text
    assert api == linked
    assert twin.subject_id in page

    s.ok("unlink", twin.subject_id, person.subject_id, "--reason", "two men")
    alone = json.loads(s.ok("show", person.subject_id, "--format", "json").stdout)
    assert {d["subject_id"] for d in alone["designations"]} == {person.subject_id}
    as_known = json.loads(
        s.ok(
            "show", person.subject_id, "--known-at", str(before_link + 1), "--format", "json"
        ).stdout
    )
    assert as_known == linked
