"""One handler per command: check the values, load the aggregates, call them, collect.

A handler normalizes what the command carries (trimmed text, known vocabulary, dates in
range), resolves names against the ledger (the subject and authority exist), and leaves the
rules about state (already designated, not in force, date order, duplicates) to the
aggregate's method. The new events wait in the :class:`UnitOfWork` until it is committed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any, TypeVar
from uuid import UUID

from ledger.commands import (
    AmendDesignation,
    AmendSubject,
    Announce,
    Command,
    Delist,
    Designate,
    Link,
    RecordListImport,
    RecordRuling,
    RegisterAuthority,
    RegisterSubject,
    Retract,
    Unlink,
)
from ledger.domain import (
    Announcement,
    Authority,
    Designation,
    LedgerAggregate,
    OfficialList,
    Ruling,
    Subject,
    authority_uuid,
    describe,
    designation_uuid,
    fact_uuid,
    list_uuid,
    not_designated,
    subject_uuid,
)
from ledger.errors import (
    AuthorityExists,
    CannotRetract,
    Conflict,
    InvalidValue,
    NotDesignated,
    UnknownAuthority,
    UnknownPosition,
    UnknownSubject,
)
from ledger.links import Link as LinkAggregate
from ledger.links import link_uuid, not_linked
from ledger.records import check_date, check_text
from ledger.unit_of_work import UnitOfWork
from ledger.vocabulary import (
    AUTHORITY_CODE,
    BUILTIN_AUTHORITIES,
    MEASURES,
    SUBJECT_ID,
    SUBJECT_KINDS,
    nearest,
    slugify,
)

C = TypeVar("C", bound=Command)
LIST_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")
Handler = Callable[[UnitOfWork, Any], None]
HANDLERS: dict[type[Command], Handler] = {}


def handles(cls: type[C]) -> Callable[[Callable[[UnitOfWork, C], None]], Handler]:
    def register(handler: Callable[[UnitOfWork, C], None]) -> Handler:
        HANDLERS[cls] = handler
        return handler

    return register


def handle(uow: UnitOfWork, command: Command) -> None:
    """Check one command against the ledger as the unit of work has it, and collect its
    events; raises the ledger's errors and collects nothing when refused."""
    HANDLERS[type(command)](uow, command)


# ---------------------------------------------------------------------- values


def texts(values: Iterable[str], name: str) -> list[str]:
    """Checked texts, duplicates dropped, in order."""
    result: list[str] = []
    for v in values:
        v = check_text(v, name)
        if v not in result:
            result.append(v)
    return result


def optional(value: str | None, name: str) -> str | None:
    return None if value is None else check_text(value, name)


def measures(values: Iterable[str]) -> list[str]:
    result: list[str] = []
    for m in values:
        m = m.strip().lower()
        if m not in MEASURES:
            raise InvalidValue(f"unknown measure {m!r}; measures: {', '.join(MEASURES)}")
        if m not in result:
            result.append(m)
    return sorted(result)


def other_births(values: Iterable[date], first: date | None) -> list[date]:
    """Checked other birth dates, sorted, without the first one or repeats."""
    found = {check_date(d, "birth date") for d in values}
    if first is not None:
        found.discard(first)
    return sorted(found)


def kind_of(kind: str) -> str:
    kind = kind.strip().lower()
    if kind not in SUBJECT_KINDS:
        raise InvalidValue(f"unknown kind {kind!r}; kinds: {', '.join(SUBJECT_KINDS)}")
    return kind


# ---------------------------------------------------------------------- names


def registered_subject(uow: UnitOfWork, subject_id: str) -> Subject:
    """The subject standing under this id; refused (with near ids) when there is none."""
    subject_id = check_text(subject_id, "subject")
    agg = uow.get(subject_uuid(subject_id), Subject)
    if agg is not None and agg.state() is not None:
        if len(uow.registered) < 1_000_000:  # bounded, like the aggregate cache
            uow.registered.add(agg.id)
        return agg
    # The log also holds ids whose registration was retracted: suggest standing ones.
    near = nearest(subject_id, uow.subject_ids(), n=10)
    hint = [s for s in near if is_registered(uow, s)][:3]
    raise UnknownSubject(
        f"unknown subject {subject_id!r}" + (f"; did you mean: {', '.join(hint)}?" if hint else "")
    )


def is_registered(uow: UnitOfWork, subject_id: str) -> bool:
    agg = uow.get(subject_uuid(subject_id), Subject)
    return agg is not None and agg.state() is not None


def require_subject(uow: UnitOfWork, subject_id: str) -> str:
    subject_id = check_text(subject_id, "subject")
    if subject_uuid(subject_id) not in uow.registered:
        registered_subject(uow, subject_id)
    return subject_id


def authority_names(uow: UnitOfWork) -> dict[str, tuple[str, bool]]:
    """Code -> (name, built in) of every authority standing."""
    found = {c: (n, True) for c, n in BUILTIN_AUTHORITIES.items()}
    for code in uow.authority_codes():
        agg = uow.get(authority_uuid(code), Authority)
        name = agg.name() if agg else None
        if name is not None:
            found[code] = (name, False)
    return dict(sorted(found.items()))


def known_authority(uow: UnitOfWork, code: str) -> str:
    code = check_text(code, "authority").upper()
    if code in BUILTIN_AUTHORITIES:
        return code
    agg = uow.get(authority_uuid(code), Authority) if AUTHORITY_CODE.match(code) else None
    if agg is not None and agg.name() is not None:
        return code
    raise UnknownAuthority(
        f"unknown authority {code!r}; known: {', '.join(authority_names(uow))} "
        "(register another with 'sanctions authority add')"
    )


def designation_key(uow: UnitOfWork, subject: str, authority: str, regime: str) -> dict[str, Any]:
    subject = require_subject(uow, subject)
    return {
        "subject": subject,
        "authority": known_authority(uow, authority),
        "regime": check_text(regime, "regime"),
    }


def free_fact_id(
    uow: UnitOfWork, kind: str, key: tuple[object, ...], cls: type[LedgerAggregate]
) -> UUID:
    """The id for a new fact; the same fact standing already is refused."""
    occurrence = 0
    while True:
        agg_id = fact_uuid(kind, key, occurrence)
        agg = uow.get(agg_id, cls)
        if agg is None:
            return agg_id
        if agg.standing():
            raise Conflict(f"this {kind} is already recorded")
        occurrence += 1


# ---------------------------------------------------------------------- subjects, authorities


@handles(RegisterSubject)
def register_subject(uow: UnitOfWork, c: RegisterSubject) -> None:
    name = check_text(c.name, "name")
    if c.subject_id is None:
        sid = slugify(name)
        if not sid:
            raise InvalidValue(f"cannot make an id from the name {name!r}: give one with --id")
    else:
        sid = check_text(c.subject_id, "subject id")
    if not SUBJECT_ID.match(sid):
        raise InvalidValue(
            f"subject id {sid!r} must be lower-case letters, digits and dashes (e.g. igor-krasnov)"
        )
    kind = kind_of(c.kind or "person")
    fields: dict[str, Any] = {
        "subject_id": sid,
        "name": name,
        "kind": kind,
        "aliases": texts(c.aliases, "alias"),
        "birth_date": check_date(c.birth_date, "birth date") if c.birth_date else None,
        "nationality": optional(c.nationality, "nationality"),
        "position": optional(c.position, "position"),
        "recorded_by": uow.by,
        "sources": texts(c.sources, "source"),
    }
    fields["alt_birth_dates"] = other_births(c.alt_birth_dates, fields["birth_date"])
    agg = uow.get(subject_uuid(sid), Subject)
    if agg is None:
        agg = Subject.register(**fields)
    else:
        agg.register_again(**fields)
    uow.collect(agg, f"registered subject {sid} ({name}, {kind})")


@handles(AmendSubject)
def amend_subject(uow: UnitOfWork, c: AmendSubject) -> None:
    agg = registered_subject(uow, c.subject_id)
    state = agg.state()
    assert state is not None
    agg.amend(
        subject_id=state.subject_id,
        name=optional(c.name, "name"),
        kind=None if c.kind is None else kind_of(c.kind),
        add_aliases=texts(c.add_aliases, "alias"),
        remove_aliases=texts(c.remove_aliases, "alias"),
        birth_date=check_date(c.birth_date, "birth date") if c.birth_date else None,
        alt_birth_dates=None
        if c.alt_birth_dates is None
        else other_births(c.alt_birth_dates, c.birth_date or state.birth_date),
        nationality=optional(c.nationality, "nationality"),
        position=optional(c.position, "position"),
        recorded_by=uow.by,
        sources=texts(c.sources, "source"),
    )
    uow.collect(agg, f"amended subject {state.subject_id}")


@handles(RegisterAuthority)
def register_authority(uow: UnitOfWork, c: RegisterAuthority) -> None:
    code = check_text(c.code, "code").upper()
    if not AUTHORITY_CODE.match(code):
        raise InvalidValue(
            f"authority code {code!r} must be upper-case letters and digits, "
            "parts joined by '-' (e.g. US-DOJ)"
        )
    if code in BUILTIN_AUTHORITIES:
        raise AuthorityExists(f"authority {code} is built in ({BUILTIN_AUTHORITIES[code]})")
    fields = {
        "code": code,
        "name": check_text(c.name, "name"),
        "recorded_by": uow.by,
        "sources": texts(c.sources, "source"),
    }
    agg = uow.get(authority_uuid(code), Authority)
    if agg is None:
        agg = Authority.register(**fields)
    else:
        agg.register_again(**fields)
    uow.collect(agg, f"registered authority {code} ({fields['name']})")


# ---------------------------------------------------------------------- designations


@handles(Designate)
def designate(uow: UnitOfWork, c: Designate) -> None:
    fields = designation_key(uow, c.subject, c.authority, c.regime)
    fields.update(
        effective=check_date(c.effective, "effective date"),
        measures=measures(c.measures),
        until=None if c.until is None else check_date(c.until, "end date"),
        legal_act=optional(c.legal_act, "legal act"),
        reason=optional(c.reason, "reason"),
        listed_after=(
            None if c.listed_after is None else check_date(c.listed_after, "listed-after date")
        ),
        start_unknown=c.start_unknown,
        recorded_by=uow.by,
        sources=texts(c.sources, "source"),
    )
    key = designation_uuid(fields["subject"], fields["authority"], fields["regime"])
    agg = uow.get(key, Designation)
    if agg is None:
        agg = Designation.designate(**fields)
    else:
        agg.designate_again(**fields)
    measures_text = ", ".join(fields["measures"]) or "no measures"
    uow.collect(agg, f"designated {describe(fields)} from {fields['effective']} ({measures_text})")


def _designation(uow: UnitOfWork, fields: dict[str, Any], doing: str) -> Designation:
    key = designation_uuid(fields["subject"], fields["authority"], fields["regime"])
    agg = uow.get(key, Designation)
    if agg is None:
        raise not_designated(fields, doing)
    return agg


@handles(AmendDesignation)
def amend(uow: UnitOfWork, c: AmendDesignation) -> None:
    check_date(c.effective, "effective date")
    fields = designation_key(uow, c.subject, c.authority, c.regime)
    fields["effective"] = c.effective
    agg = _designation(uow, fields, "amend")
    agg.in_force_on(fields, "amend")
    fields.update(
        add_measures=measures(c.add_measures),
        remove_measures=measures(c.remove_measures),
        until=None if c.until is None else check_date(c.until, "end date"),
        legal_act=optional(c.legal_act, "legal act"),
        reason=optional(c.reason, "reason"),
        recorded_by=uow.by,
        sources=texts(c.sources, "source"),
    )
    agg.amend(**fields)
    uow.collect(agg, f"amended {describe(fields)} from {c.effective}")


@handles(Delist)
def delist(uow: UnitOfWork, c: Delist) -> None:
    check_date(c.effective, "effective date")
    fields = designation_key(uow, c.subject, c.authority, c.regime)
    fields["effective"] = c.effective
    agg = _designation(uow, fields, "delist")
    agg.in_force_on(fields, "delist")
    fields.update(
        reason=optional(c.reason, "reason"),
        legal_act=optional(c.legal_act, "legal act"),
        recorded_by=uow.by,
        sources=texts(c.sources, "source"),
    )
    agg.delist(**fields)
    uow.collect(agg, f"delisted {describe(fields)} from {c.effective}")


# ---------------------------------------------------------------------- announcements, rulings


@handles(Announce)
def announce(uow: UnitOfWork, c: Announce) -> None:
    title = check_text(c.title, "title")
    day = check_date(c.date, "date")
    if not c.authorities:
        raise InvalidValue("an announcement needs at least one --authority")
    codes: list[str] = []
    for a in c.authorities:
        code = known_authority(uow, a)
        if code not in codes:
            codes.append(code)
    ids: list[str] = []
    for s in c.subjects:
        state = registered_subject(uow, s).state()
        assert state is not None
        if state.subject_id not in ids:
            ids.append(state.subject_id)
    agg_id = free_fact_id(uow, "announcement", (day, title, *codes), Announcement)
    agg = Announcement._create(
        Announcement.Announced,
        id=agg_id,
        title=title,
        date=day,
        authorities=codes,
        subjects=ids,
        recorded_by=uow.by,
        sources=texts(c.sources, "source"),
    )
    others = f" in coordination with {', '.join(codes[1:])}" if len(codes) > 1 else ""
    uow.collect(agg, f"announced {title!r} by {codes[0]}{others} on {day}")


@handles(RecordRuling)
def record_ruling(uow: UnitOfWork, c: RecordRuling) -> None:
    state = registered_subject(uow, c.subject).state()
    assert state is not None
    fields: dict[str, Any] = {
        "subject": state.subject_id,
        "court": check_text(c.court, "court"),
        "date": check_date(c.date, "date"),
        "outcome": check_text(c.outcome, "outcome"),
        "summary": optional(c.summary, "summary"),
        "recorded_by": uow.by,
        "sources": texts(c.sources, "source"),
    }
    court, day = fields["court"], c.date
    if not c.annuls:
        if c.authority is not None or c.regime is not None:
            raise InvalidValue("--authority and --regime go with --annuls")
        fact = (state.subject_id, court, day, fields["outcome"])
        ruling = Ruling._create(
            Ruling.Recorded, id=free_fact_id(uow, "ruling", fact, Ruling), **fields
        )
        summary = f"about {state.subject_id}: {fields['outcome']}"
        uow.collect(ruling, f"recorded ruling of {court} on {day} {summary}")
        return
    if c.authority is None or c.regime is None:
        raise InvalidValue("--annuls needs --authority and --regime")
    key_fields = designation_key(uow, state.subject_id, c.authority, c.regime)
    key = designation_uuid(state.subject_id, key_fields["authority"], key_fields["regime"])
    agg = uow.get(key, Designation)
    if agg is None:
        raise NotDesignated(f"{describe(key_fields)} has no designation to annul")
    agg.annul(authority=key_fields["authority"], regime=key_fields["regime"], **fields)
    uow.collect(agg, f"recorded ruling of {court} on {day} annulling {describe(key_fields)}")


# ---------------------------------------------------------------------- retractions


@handles(Retract)
def retract(uow: UnitOfWork, c: Retract) -> None:
    reason = check_text(c.reason, "reason")
    total = uow.next_position() - 1
    located = uow.locate(c.position) if 1 <= c.position <= total else None
    if located is None:
        raise UnknownPosition(f"no event at position {c.position}; the ledger has {total} events")
    agg_id, version = located
    agg = uow.get(agg_id, LedgerAggregate)
    assert agg is not None
    target = agg.history[version]
    if version not in agg.retractions:
        # A registration stands while events about the subject or by the authority do.
        if isinstance(target, Subject.Registered | Subject.Reregistered):
            standing = references(uow, subject=target.subject_id)
            if standing:
                raise CannotRetract(
                    f"event {c.position} registers subject {target.subject_id!r}, and "
                    f"{len(standing)} event(s) about it still stand (first at position "
                    f"{standing[0]}); retract those first"
                )
        if isinstance(target, Authority.Registered | Authority.Reregistered):
            standing = references(uow, authority=target.code)
            if standing:
                raise CannotRetract(
                    f"event {c.position} registers authority {target.code}, and "
                    f"{len(standing)} event(s) by it still stand; retract those first"
                )
    agg.retract(
        position=c.position,
        version=version,
        reason=reason,
        recorded_by=uow.by,
        sources=texts(c.sources, "source"),
    )
    uow.collect(agg, f"retracted event {c.position}")


def references(
    uow: UnitOfWork, *, subject: str | None = None, authority: str | None = None
) -> list[int]:
    """Aggregates with standing events about a subject or by an authority, by position.

    Looked up in the read side's index when it is at hand (``uow.references``), scanning
    only the log after what it covers; without one, the whole log is scanned (an index on
    the write side would cost every append).
    """

    def about(fields: dict[str, Any]) -> bool:
        if subject is not None:
            if fields.get("subject") == subject or subject in fields.get("subjects", []):
                return True
            if fields.get("subject_id") == subject:
                return True
        if authority is not None:
            return fields.get("authority") == authority or authority in fields.get(
                "authorities", []
            )
        return False

    found: dict[UUID, int] = {}
    start = 1
    if uow.references is not None:
        covered, found = uow.references.referencing(subject=subject, authority=authority)
        found, start = dict(found), covered + 1
    for n, event in uow.events(None, start):
        if about(vars(event)):
            found.setdefault(event.originator_id, n.id)
    for position, p in uow.pending_positions():
        if about(vars(p.event)):
            found.setdefault(p.event.originator_id, position)
    positions: list[int] = []
    for agg_id, pos in found.items():
        agg = uow.get(agg_id, LedgerAggregate)
        if agg is None:
            continue
        standing = agg.standing()
        if isinstance(agg, Subject):  # the registration itself does not count
            standing = [e for e in standing if isinstance(e, Subject.Amended)]
        if standing:
            positions.append(pos)
    return sorted(positions)


# ---------------------------------------------------------------------- links


def _pair(uow: UnitOfWork, subjects: Iterable[str]) -> tuple[Subject, Subject]:
    ids = [check_text(s, "subjects") for s in subjects]
    if len(ids) != 2:
        raise InvalidValue(f"a link names two subjects, not {len(ids)}")
    return registered_subject(uow, ids[0]), registered_subject(uow, ids[1])


@handles(Link)
def link(uow: UnitOfWork, c: Link) -> None:
    fields = {  # the values first: a bad one is named before any lookup
        "reason": check_text(c.reason, "reason"),
        "despite": optional(c.despite, "despite"),
        "recorded_by": uow.by,
        "sources": texts(c.sources, "source"),
    }
    a, b = (agg.state() for agg in _pair(uow, c.subjects))
    assert a is not None and b is not None
    agg = LinkAggregate.link(
        uow.get(link_uuid(a.subject_id, b.subject_id), LinkAggregate), a, b, **fields
    )
    uow.collect(agg, f"linked {a.subject_id} and {b.subject_id} as one party")


@handles(Unlink)
def unlink(uow: UnitOfWork, c: Unlink) -> None:
    reason, sources = check_text(c.reason, "reason"), texts(c.sources, "source")
    a, b = (agg.state() for agg in _pair(uow, c.subjects))
    assert a is not None and b is not None
    agg = uow.get(link_uuid(a.subject_id, b.subject_id), LinkAggregate)
    if agg is None:
        raise not_linked(a.subject_id, b.subject_id)
    agg.unlink(a.subject_id, b.subject_id, reason=reason, recorded_by=uow.by, sources=sources)
    uow.collect(agg, f"unlinked {a.subject_id} and {b.subject_id}")


# ---------------------------------------------------------------------- official lists


@handles(RecordListImport)
def record_list_import(uow: UnitOfWork, c: RecordListImport) -> None:
    list_name = check_text(c.list_name, "list")
    if not LIST_NAME.match(list_name):
        raise InvalidValue(f"list name {list_name!r} must be lower-case letters, digits, dashes")
    code = known_authority(uow, c.authority)
    check_date(c.published, "publication date")
    digest = check_text(c.digest, "digest").lower()
    if not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise InvalidValue("digest must be 64 hexadecimal characters (SHA-256)")
    if c.entries < 0:
        raise InvalidValue("entries must not be negative")
    agg = OfficialList.record(
        uow.get(list_uuid(list_name), OfficialList),
        list_name=list_name,
        authority=code,
        published=c.published,
        digest=digest,
        entries=c.entries,
        summary=check_text(c.summary, "summary"),
        recorded_by=uow.by,
        sources=texts(c.sources, "source"),
    )
    uow.collect(agg, f"imported the {list_name} snapshot of {c.published} ({c.entries} entries)")
