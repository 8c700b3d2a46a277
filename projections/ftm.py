"""The subjects in force as FollowTheMoney entities (the OpenSanctions format), as JSON lines.

One entity per subject with a designation in force on the date (``Person``, ``Organization``,
``Vessel``, ``Airplane``; ``LegalEntity`` for any other kind), then one ``Sanction`` per
designation in force: ``entity``, ``authority`` (the authority's full name), ``program`` (the
regime), ``reason``, ``provisions`` (the measures), ``startDate`` and ``endDate`` (the period),
``listingDate`` (the list's own listing date where an import kept it, else the start),
``summary`` (the legal act), ``sourceUrl``, and for imported lists ``authorityId`` (the list's
reference; ``unscId`` for the UN).

The entities are written without the followthemoney package (it needs PyICU, which compiles
from source): ``projections.ftm_values`` applies the package's cleaning and checks to each
value, and the ``[ftm]`` extra's tests compare every line with what the package writes. What
the package would drop silently and matters to a reader (a sanction that cannot point at its
subject, a nationality or date left out) comes back as a warning.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import IO, TYPE_CHECKING, Any

from sqlalchemy import or_, select

from ledger.adapters import SPECS
from ledger.adapters.snapshot import listed_on_of, parse_tag
from ledger.domain import designation_uuid
from ledger.errors import InvalidValue
from ledger.vocabulary import today
from projections import ftm_values as clean
from projections import parties, queries
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

# The FollowTheMoney type of each property written (the model's, for these schemata).
TYPES = {
    "name": "name",
    "alias": "name",
    "topics": "topic",
    "birthDate": "date",
    "position": "string",
    "nationality": "country",
    "country": "country",
    "entity": "entity",
    "authority": "string",
    "program": "string",
    "reason": "text",
    "summary": "text",
    "provisions": "string",
    "startDate": "date",
    "endDate": "date",
    "listingDate": "date",
    "status": "string",
    "sourceUrl": "url",
    "authorityId": "identifier",
    "unscId": "identifier",
}


@dataclass
class Entity:
    """One FollowTheMoney entity: values are cleaned on the way in and kept once each, in
    the order given, as the package's ``EntityProxy.add`` keeps them."""

    id: str
    schema: str
    properties: dict[str, list[str]] = field(default_factory=dict)
    referents: list[str] = field(default_factory=list)
    """The subject ids a party's entity stands for (as OpenSanctions' merged entities)."""

    def add(self, prop: str, values: str | date | Iterable[str] | None) -> list[str]:
        """Adds what survives cleaning; returns what was dropped (for warnings)."""
        if values is None:
            return []
        items: Iterable[str | date] = [values] if isinstance(values, (str, date)) else values
        dropped = []
        for raw in items:
            value = _clean(TYPES[prop], raw)
            if value is None:
                if str(raw).strip():
                    dropped.append(str(raw))
                continue
            kept = self.properties.setdefault(prop, [])
            if value not in kept:
                kept.append(value)
        return dropped

    def to_dict(self) -> dict[str, Any]:
        found = {"id": self.id, "schema": self.schema, "properties": self.properties}
        if self.referents:  # a subject alone is written as the package writes it
            found["referents"] = self.referents
        return found

    def first(self, prop: str) -> str | None:
        return next(iter(self.properties.get(prop, [])), None)


def _clean(kind: str, raw: str | date) -> str | None:
    if isinstance(raw, date):
        return clean.day(raw)
    text = clean.sanitize(raw)
    if text is None:
        return None
    if kind == "name":
        return clean.name(text)
    if kind == "entity":
        return clean.entity_ref(text)
    if kind == "url":
        return clean.url(text)
    if kind == "country":
        return clean.country(text)
    if kind == "topic":
        return text.lower().strip() if text.lower().strip() == "sanction" else None
    return text  # string, text, identifier: as they are


_YEARS = "FollowTheMoney takes the years 1000-2999"


@dataclass
class ExportSummary:
    subjects: int
    sanctions: int
    warnings: list[str] = field(default_factory=list)
    uncertain: int = 0
    """Designations possibly in force on the day, not written (no ``include_uncertain``)."""


class _Warnings:
    """What the export left out, one line per kind of loss with the subjects concerned."""

    def __init__(self) -> None:
        self.found: dict[str, list[str]] = {}

    def add(self, message: str, subject_id: str) -> None:
        self.found.setdefault(message, []).append(subject_id)

    def lines(self) -> list[str]:
        out = []
        for message, subjects in self.found.items():
            named = ", ".join(subjects[:3]) + (
                f" and {len(subjects) - 3} more" if len(subjects) > 3 else ""
            )
            out.append(f"{message} ({named})")
        return out


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


def subject_entity(subject: queries.SubjectRow, warnings: _Warnings | None = None) -> Entity:
    warn = warnings or _Warnings()
    schema = SCHEMATA.get(subject.kind, "LegalEntity")
    entity = Entity(subject.subject_id, schema)
    entity.add("name", subject.name)
    entity.add("alias", subject.aliases)
    entity.add("topics", "sanction")
    if schema == "Person":
        for value in entity.add("birthDate", subject.birth_date):
            warn.add(
                f"Warning: birthDate {value} is left out: {_YEARS}",
                subject.subject_id,
            )
        entity.add("position", subject.position)
        _countries(entity, "nationality", subject, warn)
    elif schema == "Organization":
        _countries(entity, "country", subject, warn)
    return entity


def party_entity(members: list[queries.SubjectRow], warnings: _Warnings) -> Entity:
    """One entity for subjects linked as one party: the first one's, with the others'
    names as aliases, their attributes, and every subject's id in ``referents``."""
    entity = subject_entity(members[0], warnings)
    if len(members) == 1:
        return entity
    for other in members[1:]:
        merged = subject_entity(other, warnings)
        for prop, values in merged.properties.items():
            entity.add("alias" if prop == "name" else prop, values)
    entity.referents = [m.subject_id for m in members]
    return entity


def _countries(entity: Entity, prop: str, subject: queries.SubjectRow, warn: _Warnings) -> None:
    for part in (subject.nationality or "").split(";") if subject.nationality else []:
        try:
            for value in entity.add(prop, part.strip()):
                warn.add(
                    f"Warning: nationality {value!r} matches no country and is left out",
                    subject.subject_id,
                )
        except clean.NotLatin:
            warn.add(
                f"Warning: nationality {part.strip()!r} is left out: only names in Latin letters "
                f"are matched to a country; amend the subject with the English name",
                subject.subject_id,
            )


def sanction_status(listing: queries.Listing) -> str | None:
    """``possibly listed: listed on some date between ...`` where the start is uncertain."""
    window = listing.window()
    if window is None:
        return None
    return f"{'listed' if listing.certain else 'possibly listed'}: start uncertain, {window}"


def sanction_entity(
    listing: queries.Listing,
    authority_name: str,
    sources: list[str],
    warnings: _Warnings | None = None,
    *,
    party: str | None = None,
) -> Entity:
    warn = warnings or _Warnings()
    digest = hashlib.sha1()
    for part in ("sanction", listing.subject_id, listing.authority, listing.regime):
        digest.update(clean.key_part(part))
    sanction = Entity(digest.hexdigest(), "Sanction")
    if sanction.add("entity", party or listing.subject_id):
        warn.add(
            "Warning: sanctions are written without their subject: FollowTheMoney ids take "
            "only letters, digits, '.' and '-'",
            listing.subject_id,
        )
    sanction.add("authority", authority_name)
    sanction.add("program", listing.regime)
    sanction.add("reason", listing.reason)
    sanction.add("summary", listing.legal_act)
    sanction.add("provisions", [PROVISIONS.get(m, m) for m in listing.measures])
    # A start the source does not date: startDate is the day it is certain from, and status
    # says so, with the window, so that no reader takes startDate for the listing date.
    sanction.add("status", sanction_status(listing))
    dates = [
        ("startDate", listing.listed_from),
        ("endDate", listing.listed_until),
        ("listingDate", listed_on_of(listing.reason) or listing.listed_from),
    ]
    for prop, value in dates:
        for lost in sanction.add(prop, value):
            warn.add(
                f"Warning: {prop} {lost} is left out: {_YEARS}",
                listing.subject_id,
            )
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
            sanction.add("sourceUrl", source)
    return sanction


def _validate(entity: Entity) -> None:
    """followthemoney's ``schema.validate``: a value too long for its type is refused."""
    for prop, values in entity.properties.items():
        kind = TYPES[prop]
        for value in values:
            if not clean.valid(kind, value):
                limit = clean.MAX_LENGTH[kind]
                subject = entity.first("entity") or entity.id
                raise InvalidValue(
                    f"{subject}: a {prop} of {len(value)} characters is longer than "
                    f"FollowTheMoney allows ({limit}); amend it to a shorter one, then export again"
                )


def entities(
    views: Views,
    *,
    at: date | None = None,
    known_at: str | KnownAt | None = None,
    warnings: _Warnings | None = None,
    include_uncertain: bool = False,
    uncertain: list[queries.Listing] | None = None,
) -> Iterator[Entity]:
    """Each party in force on ``at`` (as known at ``known_at``; a subject without links is
    a party of one), followed by the sanctions of all its subjects.

    Designations only possibly in force on ``at`` (a start the source does not date) are
    written with ``include_uncertain``, their status saying so; otherwise they are left out
    and collected in ``uncertain``, for the caller to say how many."""
    warn = warnings or _Warnings()
    day = at if at is not None else today()
    k = views.resolve_known_at(known_at)
    names = {a.code: a.name for a in views.ledger.authorities()}
    with views.engine.connect() as conn:
        listings = queries.listings(conn, at=day, k=k, include_uncertain=True)
        subjects = {s.subject_id: s for s in queries.subjects_known(conn, k=k)}
        root = parties.groups(conn, k=k)
    if not include_uncertain:
        if uncertain is not None:
            uncertain.extend(x for x in listings if not x.certain)
        listings = [x for x in listings if x.certain]
    sources = _sources(views, k)
    by_party: dict[str, list[queries.Listing]] = {}
    for listing in listings:
        by_party.setdefault(root.get(listing.subject_id, listing.subject_id), []).append(listing)
    members: dict[str, list[str]] = {}
    for sid, party in sorted(root.items()):
        members.setdefault(party, []).append(sid)
    for party in sorted(by_party):
        ids = members.get(party, [party])
        entity = party_entity([subjects[i] for i in ids], warn)
        _validate(entity)
        yield entity
        for listing in by_party[party]:
            did = str(designation_uuid(listing.subject_id, listing.authority, listing.regime))
            sanction = sanction_entity(
                listing,
                names.get(listing.authority, listing.authority),
                sources.get(did, []),
                warn,
                party=party,
            )
            _validate(sanction)
            yield sanction


def line(entity: Entity) -> str:
    """One entity as the package's ``json.dumps(proxy.to_dict(), ...)`` writes it."""
    return json.dumps(entity.to_dict(), ensure_ascii=False, sort_keys=True) + "\n"


def export(
    views: Views,
    file: IO[str],
    *,
    at: date | None = None,
    known_at: str | KnownAt | None = None,
    include_uncertain: bool = False,
) -> ExportSummary:
    """Write the entities as JSON lines; returns how many subjects and sanctions, what was
    left out, and how many designations only possibly in force were not written."""
    warnings = _Warnings()
    uncertain: list[queries.Listing] = []
    subjects = sanctions = 0
    for entity in entities(
        views,
        at=at,
        known_at=known_at,
        warnings=warnings,
        include_uncertain=include_uncertain,
        uncertain=uncertain,
    ):
        file.write(line(entity))
        if entity.schema == "Sanction":
            sanctions += 1
        else:
            subjects += 1
    return ExportSummary(subjects, sanctions, warnings.lines(), len(uncertain))


__all__ = ["Entity", "ExportSummary", "entities", "export", "sanction_entity", "subject_entity"]
