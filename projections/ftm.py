"""The subjects in force as FollowTheMoney entities (the OpenSanctions format), as JSON lines.

One entity per subject with a designation in force on the date (``Person``, ``Organization``,
``Vessel``, ``Airplane``; ``LegalEntity`` for any other kind), then one ``Sanction`` per
designation in force: ``entity``, ``authority`` (the authority's full name), ``program`` (the
regime), ``reason``, ``provisions`` (the measures), ``startDate`` and ``endDate`` (the period),
``listingDate`` (the list's own listing date where an import kept it, else the start),
``summary`` (the legal act), ``sourceUrl``, and for imported lists ``authorityId`` (the list's
reference; ``unscId`` for the UN). Entities are built and validated with ``followthemoney``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import IO, TYPE_CHECKING, Any, cast

from followthemoney import EntityProxy, model
from sqlalchemy import or_, select

from ledger.adapters import SPECS
from ledger.adapters.snapshot import listed_on_of, parse_tag
from ledger.domain import designation_uuid
from ledger.vocabulary import today
from projections import queries
from projections.tables import log

if TYPE_CHECKING:
    from projections.time import KnownAt
    from projections.views import Views

SCHEMATA = {
    "person": "Person",
    "organization": "Organization",
    "vessel": "Vessel",
    "aircraft": "Airplane",
}

PROVISIONS = {
    "asset-freeze": "Asset freeze",
    "travel-ban": "Travel ban",
    "funds-prohibition": "Prohibition to make funds available",
    "arms-embargo": "Arms embargo",
    "export-ban": "Export ban",
    "import-ban": "Import ban",
    "investment-ban": "Investment ban",
    "services-ban": "Services ban",
    "other": "Other restrictive measures",
}


@dataclass(frozen=True)
class ExportSummary:
    subjects: int
    sanctions: int


def _sources(views: Views, k: int) -> dict[str, list[str]]:
    """Designation id -> sources of its latest standing 'designated' event known at k."""
    found: dict[str, list[str]] = {}
    stmt = (
        select(log.c.aggregate_id, log.c.data)
        .where(
            log.c.type == "designated",
            log.c.position <= k,
            or_(log.c.retracted_by.is_(None), log.c.retracted_by > k),
        )
        .order_by(log.c.position)
    )
    with views.engine.connect() as conn:
        for row in conn.execute(stmt):
            found[row.aggregate_id] = list(row.data.get("sources", []))
    return found


def _subject_entity(subject: queries.SubjectRow) -> EntityProxy:
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


def _sanction(
    listing: queries.Listing,
    entity: EntityProxy,
    authority_name: str,
    sources: list[str],
) -> EntityProxy:
    sanction = model.make_entity("Sanction")
    sanction.make_id("sanction", listing.subject_id, listing.authority, listing.regime)
    sanction.add("entity", entity.id)
    sanction.add("authority", authority_name)
    sanction.add("program", listing.regime)
    sanction.add("reason", listing.reason)
    sanction.add("summary", listing.legal_act)
    sanction.add("provisions", [PROVISIONS.get(m, m) for m in listing.measures])
    sanction.add("startDate", listing.listed_from)
    sanction.add("endDate", listing.listed_until)
    sanction.add("listingDate", listed_on_of(listing.reason) or listing.listed_from)
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


def entities(
    views: Views, *, at: date | None = None, known_at: str | KnownAt | None = None
) -> Iterator[EntityProxy]:
    """Each subject in force on ``at`` (as known at ``known_at``), followed by its sanctions."""
    day = at if at is not None else today()
    k = views.resolve_known_at(known_at)
    names = {a.code: a.name for a in views.ledger.authorities()}
    with views.engine.connect() as conn:
        listings = queries.listings(conn, at=day, k=k)
        subjects = {s.subject_id: s for s in queries.subjects_known(conn, k=k)}
    sources = _sources(views, k)
    by_subject: dict[str, list[queries.Listing]] = {}
    for listing in listings:
        by_subject.setdefault(listing.subject_id, []).append(listing)
    for subject_id in sorted(by_subject):
        entity = _subject_entity(subjects[subject_id])
        _validate(entity)
        yield entity
        for listing in by_subject[subject_id]:
            did = str(designation_uuid(subject_id, listing.authority, listing.regime))
            sanction = _sanction(
                listing,
                entity,
                names.get(listing.authority, listing.authority),
                sources.get(did, []),
            )
            _validate(sanction)
            yield sanction


def _validate(entity: EntityProxy) -> None:
    entity.schema.validate(cast(Any, entity.to_dict()))


def export(
    views: Views,
    file: IO[str],
    *,
    at: date | None = None,
    known_at: str | KnownAt | None = None,
) -> ExportSummary:
    """Write the entities as JSON lines; returns how many subjects and sanctions."""
    subjects = sanctions = 0
    for entity in entities(views, at=at, known_at=known_at):
        data: dict[str, Any] = entity.to_dict()
        file.write(json.dumps(data, ensure_ascii=False, sort_keys=True) + "\n")
        if entity.schema.name == "Sanction":
            sanctions += 1
        else:
            subjects += 1
    return ExportSummary(subjects, sanctions)


__all__ = ["ExportSummary", "entities", "export"]
