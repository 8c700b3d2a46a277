"""Links on the real lists (UN 2018 and OFAC 2021 from ../shared/data), on both stores:
every birth date kept, suggestions reviewed and imported as ``linked`` lines, and the
party's answer spanning both lists. No names from the files are written here: the test
finds its subjects in the files themselves."""

from __future__ import annotations

import json
from pathlib import Path

from lists_support import OFAC_DIR, OFAC_PUBLISHED, UN_FILE, import_file, need
from support import Sanctions

from ledger.adapters import parse


def test_real_lists_keep_every_birth_date_and_link_into_parties(
    sanctions: Sanctions, tmp_path: Path
) -> None:
    s = sanctions
    un = [e for e in parse("un", need(UN_FILE)).entries]
    ofac = [e for e in parse("ofac-sdn", need(OFAC_DIR), published=OFAC_PUBLISHED).entries]
    import_file(s.url, "un", UN_FILE)
    import_file(s.url, "ofac-sdn", OFAC_DIR, OFAC_PUBLISHED)
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
