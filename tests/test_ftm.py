"""``export-ftm``: FollowTheMoney entities and Sanctions, read back with followthemoney."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from followthemoney import EntityProxy, model
from lists_support import (
    FTM_SAMPLE,
    OFAC_SMALL,
    UN_SMALL,
    import_file,
    need,
    real_ledger_template,
)
from support import EXAMPLE, Sanctions


def read_back(text: str) -> list[EntityProxy]:
    """Each line as followthemoney reads it, checked against its schema."""
    found = []
    for line in text.splitlines():
        data: dict[str, Any] = json.loads(line)
        entity = model.get_proxy(data, cleaned=False)
        entity.schema.validate(entity.to_dict())  # type: ignore[arg-type]
        assert entity.to_dict()["properties"] == data["properties"]  # nothing was dropped
        found.append(entity)
    return found


def test_the_example_history_as_entities(sanctions: Sanctions, tmp_path: Path) -> None:
    sanctions.ok("import", str(EXAMPLE))
    target = tmp_path / "out.ftm.json"
    result = sanctions.ok("export-ftm", "--at", "2021-03-03", str(target))
    entities = read_back(target.read_text(encoding="utf-8"))
    sanctions_ = [e for e in entities if e.schema.name == "Sanction"]
    subjects = {e.id: e for e in entities if e.schema.name != "Sanction"}
    assert f"Exported {len(subjects)} subjects and {len(sanctions_)} sanctions" in result.output
    krasnov = subjects["igor-krasnov"]
    assert krasnov.schema.name == "Person" and krasnov.get("name") == ["Igor Krasnov"]
    by_authority = {
        (s.first("authority"), s.first("program")): s
        for s in sanctions_
        if s.first("entity") == "igor-krasnov"
    }
    eu = by_authority["European Union (Council of the European Union)",
                      "EU Global Human Rights Sanctions Regime"]  # fmt: skip
    assert eu.get("startDate") == ["2021-03-02"]
    assert sorted(eu.get("provisions")) == [
        "Asset freeze",
        "Prohibition to make funds available",
        "Travel ban",
    ]
    assert all(s.first("entity") in subjects for s in sanctions_)
    institute = [e for e in entities if e.schema.name == "Organization"]
    assert institute  # the State Scientific Research Institute
    # On 1 March 2021 Krasnov was not yet sanctioned by the US: no OFAC sanction then.
    earlier = read_back(sanctions.ok("export-ftm", "--at", "2021-03-01").output)
    assert not [
        e
        for e in earlier
        if e.schema.name == "Sanction"
        and e.first("entity") == "igor-krasnov"
        and "Foreign Assets Control" in (e.first("authority") or "")
    ]


def test_imported_lists_carry_their_references(db_url: str) -> None:
    import_file(db_url, "un", UN_SMALL)
    import_file(db_url, "ofac-sdn", OFAC_SMALL, date(2021, 6, 1))
    entities = read_back(Sanctions(db_url).ok("export-ftm", "--at", "2021-06-01").output)
    schemata = sorted({e.schema.name for e in entities})
    assert schemata == ["Organization", "Person", "Sanction", "Vessel"]
    saddam = next(e for e in entities if e.id == "un-iqi-001")
    assert saddam.get("birthDate") == ["1937-04-28"] and saddam.get("nationality") == ["iq"]
    un = next(
        e for e in entities if e.schema.name == "Sanction" and e.first("entity") == "un-iqi-001"
    )
    assert un.get("unscId") == ["IQi.001"] and un.get("authorityId") == ["IQi.001"]
    assert un.get("listingDate") == ["2003-06-27"] and un.get("provisions") == ["Asset freeze"]
    assert un.get("summary") == ["UNSC Resolution 1518 (2003)"]
    assert un.get("sourceUrl") == ["https://scsanctions.un.org/resources/xml/en/consolidated.xml"]
    bortnikov = [
        e.first("program")
        for e in entities
        if e.schema.name == "Sanction" and e.first("entity") == "ofac-31126"
    ]
    assert sorted(bortnikov) == ["NPWMD", "UKRAINE-EO13661"]  # type: ignore[type-var]
    # Known before the OFAC import: only the UN list.
    early = read_back(
        Sanctions(db_url).ok("export-ftm", "--at", "2021-06-01", "--known-at", "13").output
    )
    assert {e.id for e in early if e.schema.name != "Sanction"} == {
        "un-cde-001",
        "un-iqi-001",
        "un-kpi-033",
        "un-kpi-037",
        "un-qde-131",
        "un-qdi-290",
    }


def test_the_opensanctions_sample_reads_the_same_way() -> None:
    """Our reader takes the real OpenSanctions output too, and our Sanctions use its fields."""
    text = need(FTM_SAMPLE).read_text(encoding="utf-8")
    entities = [model.get_proxy(json.loads(line)) for line in text.splitlines() if line.strip()]
    sample = [e for e in entities if e.schema.name == "Sanction"]
    assert len(sample) == 41
    used = {p for e in sample for p in e.properties}
    assert {"entity", "authority", "program", "startDate"} <= used


def test_the_real_lists_export(tmp_path_factory: pytest.TempPathFactory) -> None:
    real = real_ledger_template(tmp_path_factory.getbasetemp())
    s = Sanctions(f"sqlite:///{real / 'ledger.db'}")
    lines = s.ok("export-ftm", "--at", "2021-06-01").output.splitlines()
    read_back("\n".join(lines[::40]))  # a sample through followthemoney: the rest is alike
    kinds: dict[str, int] = {}
    for line in lines:
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
