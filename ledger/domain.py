"""Aggregates and their past-tense events.

Module paths and class names here are stored with every event (``ledger.domain:Designation.
Designated``): never move or rename them without ``register_topic``. Change an event's fields
only through ``class_version`` and ``upcast_*``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any, ClassVar, cast
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate

from ledger.errors import (
    AlreadyDesignated,
    AlreadyRetracted,
    AuthorityExists,
    CannotRetract,
    InvalidValue,
    LedgerError,
    NotDesignated,
    SnapshotConflict,
    SubjectExists,
)
from ledger.facts import WINDOW_FIELDS, ListEntry, entry_of, upcast_entry, upcast_window
from ledger.timeline import UNKNOWN_START, Segment, Step, in_force, segments

UNSTAMPED = datetime(1970, 1, 1, tzinfo=UTC)
"""The timestamp of an event not yet recorded."""

NAMESPACE = UUID("6f1d2a4e-5c3b-4f0e-9a57-2b8c1d7e9f30")
"""Fixed forever: every aggregate id is uuid5(NAMESPACE, natural key)."""

_SEP = "\x1f"


@lru_cache(maxsize=65536)
def subject_uuid(subject_id: str) -> UUID:
    return uuid5(NAMESPACE, f"subject{_SEP}{subject_id}")


@lru_cache(maxsize=65536)
def authority_uuid(code: str) -> UUID:
    return uuid5(NAMESPACE, f"authority{_SEP}{code}")


@lru_cache(maxsize=65536)
def designation_uuid(subject_id: str, authority: str, regime: str) -> UUID:
    return uuid5(NAMESPACE, f"designation{_SEP}{subject_id}{_SEP}{authority}{_SEP}{regime}")


def list_uuid(list_name: str) -> UUID:
    """One official list (``un-consolidated``, ``ofac-sdn``): the snapshots imported from it."""
    return uuid5(NAMESPACE, f"list{_SEP}{list_name}")


def fact_uuid(kind: str, key: tuple[object, ...], occurrence: int) -> UUID:
    """Announcements and rulings: natural key plus how many times it was recorded before."""
    text = _SEP.join(str(k) for k in (kind, *key, occurrence))
    return uuid5(NAMESPACE, text)


class LedgerAggregate(Aggregate):
    """Keeps every event; state is a fold over the events that still stand."""

    class Event(Aggregate.Event):
        recorded_by: str
        sources: list[str]
        type_name: ClassVar[str] = ""

        @staticmethod
        def create_timestamp() -> datetime:
            # Not a record time: the store's appender reads the ledger's clock while holding
            # the write lock and has the mapper encode the event with it (ledger.mapper).
            return UNSTAMPED

        def stored_form(self, state: dict[str, Any]) -> int:
            """Take out of ``state`` what this event's stored form leaves to its upcasters
            (``ledger.facts``); the class version that form is written in."""
            return getattr(type(self), "class_version", 1)

        def apply(self, aggregate: Any) -> None:
            agg = cast(LedgerAggregate, aggregate)
            agg.history[self.originator_version] = self
            agg.entries.append(self)

    class Retracted(Event):
        """An earlier event of this aggregate, named by its ledger position, no longer stands."""

        position: int
        target_version: int
        reason: str
        type_name: ClassVar[str] = "retracted"

        def apply(self, aggregate: Any) -> None:
            agg = cast(LedgerAggregate, aggregate)
            agg.history[self.originator_version] = self
            agg.retractions[self.target_version] = self

    def __init__(self) -> None:
        self.history: dict[int, LedgerAggregate.Event] = {}
        self.entries: list[LedgerAggregate.Event] = []
        self.retractions: dict[int, LedgerAggregate.Retracted] = {}

    def standing(self) -> list[LedgerAggregate.Event]:
        """Events not retracted, in the order they were recorded."""
        return [e for e in self.entries if e.originator_version not in self.retractions]

    def retract(
        self, *, position: int, version: int, reason: str, recorded_by: str, sources: list[str]
    ) -> None:
        target = self.history[version]
        if isinstance(target, LedgerAggregate.Retracted):
            raise CannotRetract(
                f"event {position} is a retraction and cannot be retracted; "
                "to undo it, record the retracted event again"
            )
        if version in self.retractions:
            raise AlreadyRetracted(f"event {position} is already retracted")
        self.trigger_event(
            self.Retracted,
            position=position,
            target_version=version,
            reason=reason,
            recorded_by=recorded_by,
            sources=sources,
        )


class FromList(LedgerAggregate.Event):
    """An event that a list import may have made: of a subject or a designation."""

    list_entry: ListEntry | None
    """The list entry it comes from, None when entered by hand. Stored as the tag that
    ``sources`` cites (the form of events before version 2 and of JSON Lines)."""
    class_version: ClassVar[int] = 2

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        upcast_entry(state)

    def stored_form(self, state: dict[str, Any]) -> int:
        if state.pop("list_entry") != entry_of(state["sources"]):
            raise LedgerError("internal: an event's list entry must be the one its sources cite")
        return 1


# --------------------------------------------------------------------------- subjects


@dataclass(frozen=True)
class SubjectState:
    subject_id: str
    name: str
    kind: str
    aliases: tuple[str, ...]
    birth_date: date | None
    nationality: str | None
    position: str | None
    alt_birth_dates: tuple[date, ...] = ()  # other birth dates the sources give ("alt. DOB")


def alt_births_unset(event: Any) -> list[date] | None:
    """``alt_birth_dates`` saying nothing: stored and exported as before (version 1)."""
    return None if isinstance(event, Subject.Amended) else []


def _subject_stored_form(event: FromList, state: dict[str, Any]) -> int:
    """A subject event's stored form: version 1 (no list entry, no other birth dates: the
    bytes every ledger wrote before) when it has no other birth dates, else version 2 (with
    them); the list entry is always left to ``upcast_v2_v3``, which reads it from sources.

    Versions: 2 added ``alt_birth_dates``, 3 ``list_entry``."""
    FromList.stored_form(event, state)
    if state["alt_birth_dates"] == alt_births_unset(event):
        del state["alt_birth_dates"]
        return 1
    return 2


class Subject(LedgerAggregate):
    class Registered(FromList, Aggregate.Created):
        subject_id: str
        name: str
        kind: str
        aliases: list[str]
        birth_date: date | None
        nationality: str | None
        position: str | None
        alt_birth_dates: list[date]
        type_name: ClassVar[str] = "subject_registered"
        class_version: ClassVar[int] = 3

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["alt_birth_dates"] = []  # stored before they were kept

        upcast_v2_v3 = staticmethod(upcast_entry)

        def stored_form(self, state: dict[str, Any]) -> int:
            return _subject_stored_form(self, state)

    class Reregistered(FromList):
        """Registered again after the first registration was retracted."""

        subject_id: str
        name: str
        kind: str
        aliases: list[str]
        birth_date: date | None
        nationality: str | None
        position: str | None
        alt_birth_dates: list[date]
        type_name: ClassVar[str] = "subject_registered"
        class_version: ClassVar[int] = 3

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["alt_birth_dates"] = []  # stored before they were kept

        upcast_v2_v3 = staticmethod(upcast_entry)

        def stored_form(self, state: dict[str, Any]) -> int:
            return _subject_stored_form(self, state)

    class Amended(FromList):
        subject_id: str
        name: str | None
        kind: str | None
        add_aliases: list[str]
        remove_aliases: list[str]
        birth_date: date | None
        nationality: str | None
        position: str | None
        alt_birth_dates: list[date] | None  # all the other birth dates; None: unchanged
        type_name: ClassVar[str] = "subject_amended"
        class_version: ClassVar[int] = 3

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["alt_birth_dates"] = None

        upcast_v2_v3 = staticmethod(upcast_entry)

        def stored_form(self, state: dict[str, Any]) -> int:
            return _subject_stored_form(self, state)

    def state(self) -> SubjectState | None:
        return fold_subject(self.standing())

    @classmethod
    def register(cls, **fields: Any) -> Subject:
        key, entry = subject_uuid(fields["subject_id"]), entry_of(fields["sources"])
        return cls._create(cls.Registered, id=key, list_entry=entry, **fields)

    def register_again(self, **fields: Any) -> None:
        """Registered again: only after the registration standing was retracted."""
        state = self.state()
        if state is not None:
            raise SubjectExists(
                f"subject id {state.subject_id!r} is already taken ({state.name}); "
                "choose another with --id"
            )
        self.trigger_event(self.Reregistered, list_entry=entry_of(fields["sources"]), **fields)

    def amend(self, **fields: Any) -> None:
        """Change some attributes; an alias removed must be one it has."""
        state = self.state()
        assert state is not None  # the handler found it registered
        missing = [a for a in fields["remove_aliases"] if a not in state.aliases]
        if missing:
            raise InvalidValue(f"{state.subject_id} has no alias {missing[0]!r}")
        if not any(v or (k, v) == (_ALT, []) for k, v in fields.items() if k not in _NOT_CHANGES):
            raise InvalidValue(
                "nothing to amend: give --name, --kind, --alias, --remove-alias, "
                "--birth-date, --nationality or --position"
            )
        self.trigger_event(self.Amended, list_entry=entry_of(fields["sources"]), **fields)


_NOT_CHANGES = frozenset({"subject_id", "recorded_by", "sources"})
_ALT = "alt_birth_dates"  # [] clears them: a change


def fold_subject(events: list[LedgerAggregate.Event]) -> SubjectState | None:
    """A subject's attributes from its standing events (None when not registered)."""
    state: SubjectState | None = None
    for e in events:
        if isinstance(e, Subject.Registered | Subject.Reregistered):
            state = SubjectState(
                e.subject_id,
                e.name,
                e.kind,
                tuple(e.aliases),
                e.birth_date,
                e.nationality,
                e.position,
                tuple(e.alt_birth_dates),
            )
        elif isinstance(e, Subject.Amended) and state is not None:
            aliases = [a for a in state.aliases if a not in e.remove_aliases]
            aliases += [a for a in e.add_aliases if a not in aliases]
            state = SubjectState(
                state.subject_id,
                e.name if e.name is not None else state.name,
                e.kind if e.kind is not None else state.kind,
                tuple(aliases),
                e.birth_date if e.birth_date is not None else state.birth_date,
                e.nationality if e.nationality is not None else state.nationality,
                e.position if e.position is not None else state.position,
                tuple(e.alt_birth_dates)
                if e.alt_birth_dates is not None
                else state.alt_birth_dates,
            )
    return state


# --------------------------------------------------------------------------- authorities


class Authority(LedgerAggregate):
    class Registered(LedgerAggregate.Event, Aggregate.Created):
        code: str
        name: str
        type_name: ClassVar[str] = "authority_registered"

    class Reregistered(LedgerAggregate.Event):
        code: str
        name: str
        type_name: ClassVar[str] = "authority_registered"

    def name(self) -> str | None:
        names = [
            e.name
            for e in self.standing()
            if isinstance(e, Authority.Registered | Authority.Reregistered)
        ]
        return names[-1] if names else None

    @classmethod
    def register(cls, **fields: Any) -> Authority:
        return cls._create(cls.Registered, id=authority_uuid(fields["code"]), **fields)

    def register_again(self, **fields: Any) -> None:
        """Registered again: only after the registration standing was retracted."""
        name = self.name()
        if name is not None:
            raise AuthorityExists(f"authority {fields['code']} is already registered ({name})")
        self.trigger_event(self.Reregistered, **fields)


# --------------------------------------------------------------------------- designations


class _Designated(FromList):
    """Designated, first or again: the window is a field since version 2, the list entry
    since version 3. One without a window of its own (none, or read from its reason) is
    stored in version 1 form, as ledgers wrote it before windows were data, so that
    restoring an older export reproduces its digests."""

    subject: str
    authority: str
    regime: str
    effective: date
    measures: list[str]
    until: date | None
    legal_act: str | None
    reason: str | None
    listed_after: date | None
    """Certain from ``effective``, possibly listed since the day after this one (the
    previous snapshot of the list that did not carry the entry)."""
    start_unknown: bool
    """Certain from ``effective``, possibly listed on any day before it."""
    type_name: ClassVar[str] = "designated"
    window_in_reason: ClassVar[bool] = False
    """True on an event stored in version 1, whose window the upcast read from its
    reason: it is exported and stored again as it was (``stored_form``)."""
    class_version: ClassVar[int] = 3

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        upcast_window(state)

    @staticmethod
    def upcast_v2_v3(state: dict[str, Any]) -> None:
        upcast_entry(state)

    def stored_form(self, state: dict[str, Any]) -> int:
        super().stored_form(state)
        if state.pop("window_in_reason", False) or (
            state["listed_after"] is None and not state["start_unknown"]
        ):
            for name in WINDOW_FIELDS:
                del state[name]
            return 1
        return 2


class Designation(LedgerAggregate):
    """One subject listed by one authority under one regime, over any number of periods."""

    class Designated(_Designated, Aggregate.Created):
        """Designated for the first time under this key."""

    class Redesignated(_Designated):
        """Designated again (after a delisting, an expiry or a retraction)."""

    class Amended(FromList):
        subject: str
        authority: str
        regime: str
        effective: date
        add_measures: list[str]
        remove_measures: list[str]
        until: date | None
        legal_act: str | None
        reason: str | None
        type_name: ClassVar[str] = "amended"

    class Delisted(FromList):
        subject: str
        authority: str
        regime: str
        effective: date
        reason: str | None
        legal_act: str | None
        type_name: ClassVar[str] = "delisted"

    class Annulled(LedgerAggregate.Event):
        """A court ruling that annuls this designation from the ruling's date."""

        subject: str
        authority: str
        regime: str
        court: str
        date: date
        outcome: str
        summary: str | None
        type_name: ClassVar[str] = "ruling_recorded"

    @classmethod
    def designate(cls, **fields: Any) -> Designation:
        """The first designation under this key."""
        check_designation_dates(fields)
        key = designation_uuid(fields["subject"], fields["authority"], fields["regime"])
        return cls._create(cls.Designated, id=key, list_entry=entry_of(fields["sources"]), **fields)

    def designate_again(self, **fields: Any) -> None:
        """Designated again: only on a day it is not in force."""
        check_designation_dates(fields)
        seg = in_force(self.segments(), fields["effective"])
        if seg is not None:
            raise AlreadyDesignated(
                f"{describe(fields)} is already designated on {fields['effective']} "
                f"(since {seg.period_start})"
            )
        self.trigger_event(self.Redesignated, list_entry=entry_of(fields["sources"]), **fields)

    def in_force_on(self, fields: dict[str, Any], doing: str) -> Segment:
        """The period in force on the effective date; refused when there is none."""
        seg = in_force(self.segments(), fields["effective"])
        if seg is None:
            raise not_designated(fields, doing)
        return seg

    def amend(self, **fields: Any) -> None:
        """Change the period in force on the effective date: measures, end, legal act."""
        seg = self.in_force_on(fields, "amend")
        effective, until = fields["effective"], fields["until"]
        if until is not None and until < effective:
            raise InvalidValue(f"the end date {until} is before the effective date {effective}")
        adding, removing = fields["add_measures"], fields["remove_measures"]
        absent = [m for m in removing if m not in seg.measures]
        if absent:
            raise InvalidValue(
                f"cannot remove {absent[0]!r}: the measures on {effective} are "
                f"{', '.join(seg.measures) or 'none'}"
            )
        both = set(adding) & set(removing)
        if both:
            raise InvalidValue(f"{sorted(both)[0]!r} is both added and removed")
        if not (adding or removing or until or fields["legal_act"] or fields["reason"]):
            raise InvalidValue(
                "nothing to amend: give --add-measure, --remove-measure, --until, "
                "--legal-act or --reason"
            )
        self.trigger_event(self.Amended, list_entry=entry_of(fields["sources"]), **fields)

    def delist(self, **fields: Any) -> None:
        """End the period in force on the effective date."""
        self.in_force_on(fields, "delist")
        self.trigger_event(self.Delisted, list_entry=entry_of(fields["sources"]), **fields)

    def annul(self, **fields: Any) -> None:
        """A ruling ends the designation from its date; there must be one standing."""
        if not self.has_standing_events():
            raise NotDesignated(f"{describe(fields)} has no designation to annul")
        self.trigger_event(self.Annulled, **fields)

    def has_standing_events(self) -> bool:
        return bool(self.standing())

    def segments(self) -> list[Segment]:
        # Asked several times per command and per projected event: computed once a version.
        cached = self.__dict__.get("_segments")
        if cached is None or cached[0] != self.version:
            known: dict[int, Step | None] = self.__dict__.setdefault("_steps", {})
            steps = []
            for e in self.standing():
                v = e.originator_version
                if v not in known:
                    known[v] = step_of(e, v)
                step = known[v]
                if step is not None:
                    steps.append(step)
            cached = (self.version, segments(steps))
            self.__dict__["_segments"] = cached
        return cached[1]


def describe(fields: dict[str, Any]) -> str:
    """A designation's key in words: ``igor-krasnov by EU under 'EU Global ...'``."""
    return f"{fields['subject']} by {fields['authority']} under {fields['regime']!r}"


def not_designated(fields: dict[str, Any], doing: str) -> NotDesignated:
    return NotDesignated(
        f"{describe(fields)} is not designated on {fields['effective']}; nothing to {doing}"
    )


def check_designation_dates(fields: dict[str, Any]) -> None:
    """An end not before the start; a window (``listed_after``) before the start."""
    effective, until = fields["effective"], fields["until"]
    listed_after = fields["listed_after"]
    if until is not None and until < effective:
        raise InvalidValue(f"the end date {until} is before the effective date {effective}")
    if listed_after is not None:
        if fields["start_unknown"]:
            raise InvalidValue("give either a listed-after date or an unknown start, not both")
        if listed_after >= effective:
            raise InvalidValue(
                f"the listed-after date {listed_after} is not before the effective date "
                f"{effective}; give the last date on which it was known not listed"
            )


def window_of(event: LedgerAggregate.Event) -> tuple[date | None, bool] | None:
    """(listed_after, start_unknown) of a designation whose start is uncertain, else None."""
    if not isinstance(event, Designation.Designated | Designation.Redesignated):
        return None
    if event.listed_after is None and not event.start_unknown:
        return None
    return event.listed_after, event.start_unknown


def possible_from(listed_after: date | None, start_unknown: bool) -> date | None:
    """The first day a designation with this window may have been in force."""
    if listed_after is not None:
        return listed_after + timedelta(days=1)
    return UNKNOWN_START if start_unknown else None


def step_of(event: LedgerAggregate.Event, order: int) -> Step | None:
    """What one designation event means in valid time (None for other events)."""
    if isinstance(event, Designation.Designated | Designation.Redesignated):
        return Step(
            "designated",
            event.effective,
            order,
            measures=frozenset(event.measures),
            until=event.until,
            legal_act=event.legal_act,
            reason=event.reason,
            possible_from=possible_from(event.listed_after, event.start_unknown),
        )
    if isinstance(event, Designation.Amended):
        return Step(
            "amended",
            event.effective,
            order,
            add_measures=frozenset(event.add_measures),
            remove_measures=frozenset(event.remove_measures),
            until=event.until,
            legal_act=event.legal_act,
            reason=event.reason,
        )
    if isinstance(event, Designation.Delisted):
        return Step("delisted", event.effective, order)
    if isinstance(event, Designation.Annulled):
        return Step("annulled", event.date, order)
    return None


# --------------------------------------------------------------------------- announcements, rulings


class Announcement(LedgerAggregate):
    class Announced(LedgerAggregate.Event, Aggregate.Created):
        title: str
        date: date
        authorities: list[str]
        subjects: list[str]
        type_name: ClassVar[str] = "announced"


class Ruling(LedgerAggregate):
    class Recorded(LedgerAggregate.Event, Aggregate.Created):
        subject: str
        court: str
        date: date
        outcome: str
        summary: str | None
        type_name: ClassVar[str] = "ruling_recorded"


# --------------------------------------------------------------------------- official lists


class OfficialList(LedgerAggregate):
    """The snapshots of one official list imported so far (ledger.adapters makes the rest).

    One event per imported snapshot, recorded in the same batch as the subject and
    designation events the snapshot turned into: its publication date, the digest of the
    file(s), and counts. The designations themselves carry the list's reference in their
    ``sources`` (``un-consolidated@2018-10-29/QDi.001``).
    """

    class Imported(LedgerAggregate.Event, Aggregate.Created):
        list_name: str
        authority: str
        published: date
        digest: str
        entries: int
        summary: str
        type_name: ClassVar[str] = "list_imported"

    class ImportedAgain(LedgerAggregate.Event):
        """A later snapshot of the same list (or the first again, after a retraction)."""

        list_name: str
        authority: str
        published: date
        digest: str
        entries: int
        summary: str
        type_name: ClassVar[str] = "list_imported"

    def imported(self) -> dict[date, str]:
        """Publication date -> digest of every standing import, oldest first."""
        found = {
            e.published: e.digest
            for e in self.standing()
            if isinstance(e, OfficialList.Imported | OfficialList.ImportedAgain)
        }
        return dict(sorted(found.items()))

    @classmethod
    def record(cls, agg: OfficialList | None, **fields: Any) -> OfficialList:
        """Record an imported snapshot: a new publication date, later than those before."""
        list_name, published = fields["list_name"], fields["published"]
        imported = agg.imported() if agg is not None else {}
        if imported.get(published) == fields["digest"]:
            raise SnapshotConflict(f"the {list_name} snapshot of {published} is already imported")
        check_snapshot_order(list_name, published, fields["digest"], imported)
        if agg is None:
            return cls._create(cls.Imported, id=list_uuid(list_name), **fields)
        agg.trigger_event(cls.ImportedAgain, **fields)
        return agg


def check_snapshot_order(
    list_name: str, published: date, digest: str, imported: dict[date, str]
) -> None:
    """Snapshots of a list are imported once per publication date, in order of publication."""
    if published in imported:
        raise SnapshotConflict(
            f"a different {list_name} snapshot of {published} is already imported "
            f"(digest {imported[published][:12]}..., this file {digest[:12]}...); "
            "a publication date is imported once"
        )
    latest = max(imported) if imported else None
    if latest is not None and published < latest:
        raise SnapshotConflict(
            f"the {list_name} snapshot of {published} is older than the latest imported "
            f"({latest}); import snapshots in order of publication"
        )
