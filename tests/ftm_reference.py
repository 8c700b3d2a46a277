"""The followthemoney package as the reference for ``export-ftm`` (needs the ``[ftm]`` extra).

``package_subject`` and ``package_sanction`` build entities exactly as ``projections/ftm.py``
did with the package before it wrote them itself; the tests compare the two line by line.
``python tests/ftm_reference.py`` rebuilds ``projections/ftm_countries.json`` from the
installed rigour (the names and codes its country lookup uses, in its order).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, cast

from followthemoney import EntityProxy, model

from ledger.adapters import SPECS
from ledger.adapters.snapshot import listed_on_of, parse_tag
from projections import queries
from projections.ftm import PROVISIONS, SCHEMATA, sanction_status

COUNTRIES = Path(__file__).resolve().parent.parent / "projections" / "ftm_countries.json"


def package_subject(subject: queries.SubjectRow) -> EntityProxy:
    entity = model.make_entity(SCHEMATA.get(subject.kind, "LegalEntity"))
    entity.id = subject.subject_id
    entity.add("name", subject.name)
    entity.add("alias", list(subject.aliases))
    entity.add("topics", "sanction")
    if entity.schema.is_a("Person"):
        entity.add("birthDate", subject.birth_date)
        entity.add("position", subject.position)
        if subject.nationality:
            for part in subject.nationality.split(";"):
                entity.add("nationality", part.strip(), quiet=True, fuzzy=True)
    elif subject.nationality and entity.schema.is_a("Organization"):
        for part in subject.nationality.split(";"):
            entity.add("country", part.strip(), quiet=True, fuzzy=True)
    return entity


def package_sanction(
    listing: queries.Listing, entity_id: str, authority_name: str, sources: list[str]
) -> EntityProxy:
    sanction = model.make_entity("Sanction")
    sanction.make_id("sanction", listing.subject_id, listing.authority, listing.regime)
    sanction.add("entity", entity_id)
    sanction.add("authority", authority_name)
    sanction.add("program", listing.regime)
    sanction.add("reason", listing.reason)
    sanction.add("summary", listing.legal_act)
    sanction.add("provisions", [PROVISIONS.get(m, m) for m in listing.measures])
    sanction.add("startDate", listing.listed_from)
    sanction.add("endDate", listing.listed_until)
    sanction.add("listingDate", listed_on_of(listing.reason) or listing.listed_from)
    sanction.add("status", sanction_status(listing))
    for source in sources:
        tag = parse_tag(source)
        if tag is not None:
            spec = SPECS.get(tag[0])
            if spec is not None:
                sanction.add("sourceUrl", spec.url)
            sanction.add("authorityId", tag[2])
            if listing.authority == "UN":
                sanction.add("unscId", tag[2])
        elif source.startswith(("http://", "https://")):
            sanction.add("sourceUrl", source, quiet=True)
    return sanction


def package_valid(entity: EntityProxy) -> bool:
    """The package's own check, as the export ran it before writing each entity."""
    from followthemoney.exc import InvalidData

    try:
        entity.schema.validate(cast(Any, entity.to_dict()))
    except InvalidData:
        return False
    return True


def package_line(entity: EntityProxy) -> str:
    return json.dumps(entity.to_dict(), ensure_ascii=False, sort_keys=True) + "\n"


def country_table() -> dict[str, dict[str, str | None]]:
    """rigour's territory codes and normalized names -> FollowTheMoney country (or None)."""
    from rigour.territories.lookup import _get_identifier_map, _get_territory_names

    return {
        "codes": {k: t.ftm_country for k, t in _get_identifier_map().items()},
        "names": {k: t.ftm_country for k, t in _get_territory_names().items() if _reachable(k)},
    }


def _reachable(key: str) -> bool:
    """Whether an ASCII name can match the key, exactly or within the fuzzy search's 30%:
    that needs its non-ASCII characters to be at most 0.3 / 0.7 of its length (the query
    is at most len / 0.7 long and each such character costs one edit). projections'
    lookup only ever asks with ASCII, so the others would never be read."""
    foreign = sum(1 for c in key if not c.isascii())
    return foreign * 7 <= len(key) * 3


def country_json() -> str:
    """One entry a line, so that a change of rigour's data reads as a small diff."""
    table = country_table()
    parts = []
    for section, entries in table.items():
        body = ",\n".join(
            f"  {json.dumps(k, ensure_ascii=False)}: {json.dumps(v)}" for k, v in entries.items()
        )
        parts.append(f'"{section}": {{\n{body}\n}}')
    return "{\n" + ",\n".join(parts) + "\n}\n"


if __name__ == "__main__":
    COUNTRIES.write_text(country_json(), encoding="utf-8")
    sys.stdout.write(f"wrote {COUNTRIES}\n")


def package_export(views: Any, *, at: Any, known_at: str | None = None) -> str:
    """The whole export as projections/ftm.py wrote it with the package (its loop, as it was)."""
    from ledger.domain import designation_uuid
    from projections.ftm import _sources

    k = views.resolve_known_at(known_at)
    names = {a.code: a.name for a in views.ledger.authorities()}
    with views.engine.connect() as conn:
        listings = queries.listings(conn, at=at, k=k)
        subjects = {s.subject_id: s for s in queries.subjects_known(conn, k=k)}
    sources = _sources(views, k)
    by_subject: dict[str, list[queries.Listing]] = {}
    for listing in listings:
        by_subject.setdefault(listing.subject_id, []).append(listing)
    out = []
    for subject_id in sorted(by_subject):
        entity = package_subject(subjects[subject_id])
        assert package_valid(entity)
        out.append(package_line(entity))
        for listing in by_subject[subject_id]:
            did = str(designation_uuid(subject_id, listing.authority, listing.regime))
            sanction = package_sanction(
                listing,
                subject_id,
                names.get(listing.authority, listing.authority),
                sources.get(did, []),
            )
            assert package_valid(sanction)
            out.append(package_line(sanction))
    return "".join(out)
