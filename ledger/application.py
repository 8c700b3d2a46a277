"""The ledger application: one method per command, each validated and saved atomically."""

from __future__ import annotations

import getpass
import itertools
import json
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

import psycopg
from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import (
    IntegrityError,
    JSONTranscoder,
    Mapper,
    PersistenceError,
    StoredEvent,
    Transcoding,
)
from eventsourcing.utils import Environment, EnvType, get_topic

from ledger.domain import (
    WINDOW_FIELDS,
    Announcement,
    Authority,
    Designation,
    LedgerAggregate,
    Ruling,
    Subject,
    authority_uuid,
    designation_uuid,
    event_data,
    fact_uuid,
    subject_uuid,
)
from ledger.errors import (
    AlreadyDesignated,
    AuthorityExists,
    CannotOpen,
    CannotRetract,
    ConcurrentWrite,
    Conflict,
    InvalidImport,
    InvalidValue,
    LedgerError,
    NotDesignated,
    ReadOnly,
    SubjectExists,
    UnknownAuthority,
    UnknownPosition,
    UnknownSubject,
)
from ledger.records import InputRecord, check_date, check_text
from ledger.store import (
    DEFAULT_URL,
    GENESIS,
    Appender,
    Database,
    LedgerNotification,
    LedgerRecorderMixin,
    Restored,
)
from ledger.timeline import in_force
from ledger.vocabulary import (
    AUTHORITY_CODE,
    BUILTIN_AUTHORITIES,
    MEASURES,
    SUBJECT_ID,
    SUBJECT_KINDS,
    nearest,
    slugify,
)

if TYPE_CHECKING:
    from ledger.adapters import DelistingLimit, ImportReport, Snapshot

A = TypeVar("A", bound=LedgerAggregate)
PAGE = 2000
IMPORT_CHUNK = 5000
"""Events an import writes at a time, inside its one transaction."""
CACHE_AGGREGATES = 10000
"""Aggregates an import keeps in memory; others are read again when needed."""


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class LedgerMapper(Mapper[UUID]):
    """The library's mapper, except that a designation without a window of its own is
    stored in version 1 form (no window fields, no class_version): the bytes that ledgers
    wrote before windows were data, so that restoring an older export reproduces its
    digests, and a certain designation is stored as it always was."""

    def to_stored_event(self, domain_event: DomainEventProtocol[UUID]) -> StoredEvent:
        if isinstance(domain_event, Designation.Designated | Designation.Redesignated) and (
            domain_event.window_in_reason
            or (domain_event.listed_after is None and not domain_event.start_unknown)
        ):
            state = dict(vars(domain_event))
            originator_id = state.pop("originator_id")
            originator_version = state.pop("originator_version")
            for name in (*WINDOW_FIELDS, "window_in_reason"):
                state.pop(name, None)
            return StoredEvent(
                originator_id=originator_id,
                originator_version=originator_version,
                topic=get_topic(type(domain_event)),
                state=self.transcoder.encode(state),
            )
        return super().to_stored_event(domain_event)


def default_user() -> str:
    """Who records: ``$SANCTIONS_USER``, else the login name."""
    user = os.environ.get("SANCTIONS_USER")
    if user:
        return user
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "unknown"


@dataclass(frozen=True)
class Receipt:
    """What one command recorded."""

    position: int
    type: str
    summary: str
    recorded_at: datetime


@dataclass(frozen=True)
class ImportSummary:
    count: int
    first: int
    last: int
    restore: bool


@dataclass(frozen=True)
class RecordedEvent:
    """One event as the ledger holds it: position, record time, digest and content."""

    position: int
    type: str
    aggregate_id: UUID
    version: int
    topic: str
    recorded_at: datetime
    recorded_by: str
    digest: str
    event: LedgerAggregate.Event

    @property
    def data(self) -> dict[str, Any]:
        return event_data(self.event)


@dataclass(frozen=True)
class AuthorityInfo:
    code: str
    name: str
    builtin: bool


@dataclass
class _Pending:
    event: LedgerAggregate.Event
    summary: str
    restored: Restored | None


@dataclass
class _Batch:
    """A unit of work: aggregates loaded once, new events kept in command order."""

    ledger: Ledger
    head: int
    loaded: dict[UUID, LedgerAggregate | None] = field(default_factory=dict)
    pending: list[_Pending] = field(default_factory=list)
    located: dict[int, tuple[UUID, int]] = field(default_factory=dict)
    predicted_positions_used: bool = False
    by: str = ""
    restored: Restored | None = None
    writer: Appender | None = None
    """Set while an import holds the write transaction: reads go through it."""
    written: int = 0
    registered: set[UUID] = field(default_factory=set)
    """Subjects found registered in this batch and not changed since: most events of an
    import only need to know that, and re-reading evicted subjects for it dominated."""

    def next_position(self) -> int:
        return self.head + self.written + len(self.pending) + 1

    def get(self, aggregate_id: UUID, cls: type[A]) -> A | None:
        if aggregate_id not in self.loaded:
            if self.writer is not None:
                self.prefetch([aggregate_id])
            else:
                try:
                    self.loaded[aggregate_id] = self.ledger.repository.get(aggregate_id)
                except AggregateNotFoundError:
                    self.loaded[aggregate_id] = None
        agg = self.loaded[aggregate_id]
        if agg is not None and not isinstance(agg, cls):
            raise LedgerError(f"internal: aggregate {aggregate_id} is not a {cls.__name__}")
        return agg

    def prefetch(self, ids: Iterable[UUID]) -> None:
        """Load many aggregates with one query (an import asks for thousands)."""
        wanted = [i for i in dict.fromkeys(ids) if i not in self.loaded]
        if not wanted:
            return
        found: dict[UUID, LedgerAggregate] = {}
        if self.head + self.written > 0:  # an empty store has nothing to load
            mapper = self.ledger.mapper
            rows = (
                self.writer.events_of(wanted)
                if self.writer is not None
                else self.ledger.ledger_recorder.select_events_many(wanted)
            )
            for stored in rows:
                event = mapper.to_domain_event(stored)
                key = UUID(str(stored.originator_id))
                found[key] = cast(LedgerAggregate, event.mutate(found.get(key)))  # type: ignore[attr-defined]
        for i in wanted:
            self.loaded[i] = found.get(i)

    def collect(self, agg: LedgerAggregate, summary: str) -> None:
        self.registered.discard(agg.id)  # changed: check it again when asked
        self.loaded.pop(agg.id, None)
        self.loaded[agg.id] = agg  # most recently used last: evicted last
        for event in agg.collect_events():
            position = self.next_position()
            self.located[position] = (agg.id, event.originator_version)
            pending = _Pending(cast(LedgerAggregate.Event, event), summary, self.restored)
            self.pending.append(pending)

    def locate(self, position: int) -> tuple[UUID, int] | None:
        if position in self.located:
            self.predicted_positions_used = True
            return self.located[position]
        found = (
            self.writer.scan(position, 1)
            if self.writer is not None
            else self.ledger.recorder.select_notifications(start=position, limit=1)
        )
        if not found or found[0].id != position:
            return None
        return UUID(str(found[0].originator_id)), found[0].originator_version

    def scan(self, topics: Sequence[str] | None) -> Iterator[LedgerNotification]:
        """Every stored event (of these topics), including those this import wrote."""
        if self.writer is None:
            yield from self.ledger._scan(topics)
            return
        position = 1
        while page := self.writer.scan(position, PAGE, topics or ()):
            yield from page
            position = page[-1].id + 1

    def pending_positions(self) -> Iterator[tuple[int, _Pending]]:
        first = self.head + self.written + 1
        for i, p in enumerate(self.pending):
            yield first + i, p

    def flush(self) -> None:
        """Write the pending events inside the held transaction; forget what is not needed."""
        assert self.writer is not None
        mapper = self.ledger.mapper
        self.writer.write([(mapper.to_stored_event(p.event), p.restored) for p in self.pending])
        self.written += len(self.pending)
        self.pending.clear()
        self.located.clear()
        # Bounded memory: the least recently used aggregates are read again if needed.
        excess = len(self.loaded) - CACHE_AGGREGATES
        if excess > 0:
            for key in list(itertools.islice(self.loaded, excess)):
                del self.loaded[key]


_NEED_SUBJECT_STATE = frozenset(
    {"subject_registered", "subject_amended", "announced", "ruling_recorded", "retracted"}
)


def _aggregates_named(r: InputRecord, registered: set[UUID]) -> list[UUID]:
    """The aggregates a record will most likely read (a hint: others load on demand)."""
    d = r.data
    ids: list[UUID] = []
    subject = d.get("subject") or (d.get("id") if r.type.startswith("subject_") else None)
    if isinstance(subject, str):
        sid = subject_uuid(subject.strip())
        if r.type in _NEED_SUBJECT_STATE or sid not in registered:
            ids.append(sid)
    authority, regime = d.get("authority"), d.get("regime")
    if isinstance(subject, str) and isinstance(authority, str) and isinstance(regime, str):
        code = authority.strip().upper()
        ids.append(designation_uuid(subject.strip(), code, regime.strip()))
        if code not in BUILTIN_AUTHORITIES:
            ids.append(authority_uuid(code))
    for s in d.get("subjects") or ():
        if isinstance(s, str):
            ids.append(subject_uuid(s.strip()))
    return ids


class Ledger(Application[UUID]):
    """The sanctions ledger. One instance per ``--db`` URL."""

    name = "SanctionsLedger"

    def __init__(
        self, url: str = DEFAULT_URL, *, user: str | None = None, create: bool = False
    ) -> None:
        """Open the ledger at ``url``; there must be one unless ``create`` (see :meth:`init`).

        Opening writes nothing: a ledger that this process may only read answers queries,
        and refuses appends (:attr:`read_only` says why).
        """
        self.database = Database.parse(url)
        self.user = check_text(user, "--by") if user else default_user()
        self.access = self.database.open(create=create)
        try:
            super().__init__(env=self.database.eventsourcing_env(self.access))
        except (PersistenceError, psycopg.Error, sqlite3.Error) as e:
            if not self.access.created:
                raise
            raise CannotOpen(
                f"cannot create a ledger at {self.database.display}: {e}".splitlines()[0]
            ) from None
        if not isinstance(self.recorder, LedgerRecorderMixin):  # never the in-memory default
            raise LedgerError(f"internal: unexpected event recorder {type(self.recorder)}")
        if self.access.read_only:
            self.ledger_recorder.refusal = (
                f"the ledger at {self.database.display} is read-only here "
                f"({self.access.read_only}); nothing was written"
            )

    @classmethod
    def init(cls, url: str = DEFAULT_URL, *, user: str | None = None) -> Ledger:
        """Open the ledger at ``url``, creating an empty one first if there is none.

        :attr:`created` says which; an existing ledger is left exactly as it was.
        """
        return cls(url, user=user, create=True)

    @property
    def created(self) -> bool:
        """This instance created the (empty) ledger."""
        return self.access.created

    @property
    def read_only(self) -> str:
        """Why this process may only read the ledger; empty when it may append."""
        return self.access.read_only

    def construct_env(self, name: str, env: EnvType | None = None) -> Environment:
        # Only our settings: a stray PERSISTENCE_MODULE or CIPHER_TOPIC in the shell
        # environment must not redirect or transform the store.
        return Environment(name, dict(env or {}))

    def construct_mapper(self) -> Mapper[UUID]:
        return LedgerMapper(transcoder=self.construct_transcoder())

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    @property
    def ledger_recorder(self) -> LedgerRecorderMixin:
        return cast(LedgerRecorderMixin, self.recorder)

    # ------------------------------------------------------------------ running commands

    def _run(self, command: Callable[[_Batch], None]) -> list[Receipt]:
        batch = self._new_batch()
        command(batch)
        return self._commit(batch)

    def _new_batch(self) -> _Batch:
        if self.ledger_recorder.refusal:  # say so before checking what could not be written
            raise ReadOnly(self.ledger_recorder.refusal)
        return _Batch(self, head=self.recorder.max_notification_id() or 0, by=self.user)

    def _commit(self, batch: _Batch, chunk: int = 5000) -> list[Receipt]:
        if not batch.pending:
            return []
        mapper = self.mapper

        def chunks() -> Iterator[list[tuple[StoredEvent, Restored | None]]]:
            for i in range(0, len(batch.pending), chunk):
                yield [
                    (mapper.to_stored_event(p.event), p.restored)
                    for p in batch.pending[i : i + chunk]
                ]

        restoring = any(p.restored is not None for p in batch.pending[:1])
        expect = batch.head if (batch.predicted_positions_used or restoring) else None
        try:
            appended = self.ledger_recorder.append(chunks(), expect_head=expect)
        except IntegrityError:
            raise ConcurrentWrite(
                "another writer changed the same record at the same time; nothing was "
                "written, try again"
            ) from None
        assert appended.recorded_at is not None
        return [
            Receipt(appended.first + i, p.event.type_name, p.summary, appended.recorded_at)
            for i, p in enumerate(batch.pending)
        ]

    # ------------------------------------------------------------------ validation helpers

    def _require_subject(self, b: _Batch, subject_id: str) -> None:
        """Refuse an unknown subject (or one whose registration was retracted)."""
        if subject_uuid(check_text(subject_id, "subject")) not in b.registered:
            self._subject(b, subject_id)

    def _subject(self, b: _Batch, subject_id: str) -> Subject:
        subject_id = check_text(subject_id, "subject")
        agg = b.get(subject_uuid(subject_id), Subject)
        if agg is not None and agg.state() is not None:
            if len(b.registered) < 1_000_000:  # bounded, like the aggregate cache
                b.registered.add(agg.id)
        else:
            # The log also holds ids whose registration was retracted: suggest standing ones.
            near = nearest(subject_id, self.subject_ids(b), n=10)
            hint = [s for s in near if self._is_registered(b, s)][:3]
            raise UnknownSubject(
                f"unknown subject {subject_id!r}"
                + (f"; did you mean: {', '.join(hint)}?" if hint else "")
            )
        return agg

    @staticmethod
    def _is_registered(b: _Batch, subject_id: str) -> bool:
        agg = b.get(subject_uuid(subject_id), Subject)
        return agg is not None and agg.state() is not None

    def _authority(self, b: _Batch, code: str) -> str:
        code = check_text(code, "authority").upper()
        if code in BUILTIN_AUTHORITIES:
            return code
        agg = b.get(authority_uuid(code), Authority) if AUTHORITY_CODE.match(code) else None
        if agg is not None and agg.name() is not None:
            return code
        known = ", ".join(a.code for a in self.authorities(b))
        raise UnknownAuthority(
            f"unknown authority {code!r}; known: {known} "
            "(register another with 'sanctions authority add')"
        )

    @staticmethod
    def _measures(measures: Iterable[str]) -> list[str]:
        result: list[str] = []
        for m in measures:
            m = m.strip().lower()
            if m not in MEASURES:
                raise InvalidValue(f"unknown measure {m!r}; measures: {', '.join(MEASURES)}")
            if m not in result:
                result.append(m)
        return sorted(result)

    @staticmethod
    def _texts(values: Iterable[str], name: str) -> list[str]:
        result: list[str] = []
        for v in values:
            v = check_text(v, name)
            if v not in result:
                result.append(v)
        return result

    @staticmethod
    def _opt(value: str | None, name: str) -> str | None:
        return None if value is None else check_text(value, name)

    def _designation_key(
        self, b: _Batch, subject: str, authority: str, regime: str
    ) -> tuple[str, str, str]:
        self._require_subject(b, subject)
        return subject.strip(), self._authority(b, authority), check_text(regime, "regime")

    @staticmethod
    def _describe(subject: str, authority: str, regime: str) -> str:
        return f"{subject} by {authority} under {regime!r}"

    # ------------------------------------------------------------------ subjects

    def register_subject(
        self,
        name: str,
        *,
        subject_id: str | None = None,
        kind: str = "person",
        aliases: Sequence[str] = (),
        birth_date: date | None = None,
        nationality: str | None = None,
        position: str | None = None,
        sources: Sequence[str] = (),
    ) -> Receipt:
        """Register a subject; its id defaults to a slug of the name (``igor-krasnov``)."""
        return self._run(
            lambda b: self._register_subject(
                b, name, subject_id, kind, aliases, birth_date, nationality, position, sources
            )
        )[0]

    def _register_subject(
        self,
        b: _Batch,
        name: str,
        subject_id: str | None,
        kind: str | None,
        aliases: Sequence[str],
        birth_date: date | None,
        nationality: str | None,
        position: str | None,
        sources: Sequence[str],
    ) -> None:
        name = check_text(name, "name")
        if subject_id is None:
            sid = slugify(name)
            if not sid:
                raise InvalidValue(f"cannot make an id from the name {name!r}: give one with --id")
        else:
            sid = check_text(subject_id, "subject id")
        if not SUBJECT_ID.match(sid):
            raise InvalidValue(
                f"subject id {sid!r} must be lower-case letters, digits and dashes "
                "(e.g. igor-krasnov)"
            )
        kind = (kind or "person").strip().lower()
        if kind not in SUBJECT_KINDS:
            raise InvalidValue(f"unknown kind {kind!r}; kinds: {', '.join(SUBJECT_KINDS)}")
        fields: dict[str, Any] = {
            "subject_id": sid,
            "name": name,
            "kind": kind,
            "aliases": self._texts(aliases, "alias"),
            "birth_date": check_date(birth_date, "birth date") if birth_date else None,
            "nationality": self._opt(nationality, "nationality"),
            "position": self._opt(position, "position"),
            "recorded_by": b.by,
            "sources": self._texts(sources, "source"),
        }
        agg = b.get(subject_uuid(sid), Subject)
        if agg is None:
            agg = Subject._create(Subject.Registered, id=subject_uuid(sid), **fields)
        else:
            state = agg.state()
            if state is not None:
                raise SubjectExists(
                    f"subject id {sid!r} is already taken ({state.name}); choose another with --id"
                )
            agg.register_again(**fields)
        b.collect(agg, f"registered subject {sid} ({name}, {kind})")

    def amend_subject(
        self,
        subject_id: str,
        *,
        name: str | None = None,
        kind: str | None = None,
        add_aliases: Sequence[str] = (),
        remove_aliases: Sequence[str] = (),
        birth_date: date | None = None,
        nationality: str | None = None,
        position: str | None = None,
        sources: Sequence[str] = (),
    ) -> Receipt:
        """Change a subject's name, kind, aliases or attributes."""
        return self._run(
            lambda b: self._amend_subject(
                b,
                subject_id,
                name,
                kind,
                add_aliases,
                remove_aliases,
                birth_date,
                nationality,
                position,
                sources,
            )
        )[0]

    def _amend_subject(
        self,
        b: _Batch,
        subject_id: str,
        name: str | None,
        kind: str | None,
        add_aliases: Sequence[str],
        remove_aliases: Sequence[str],
        birth_date: date | None,
        nationality: str | None,
        position: str | None,
        sources: Sequence[str],
    ) -> None:
        agg = self._subject(b, subject_id)
        state = agg.state()
        assert state is not None
        if kind is not None:
            kind = kind.strip().lower()
            if kind not in SUBJECT_KINDS:
                raise InvalidValue(f"unknown kind {kind!r}; kinds: {', '.join(SUBJECT_KINDS)}")
        removing = self._texts(remove_aliases, "alias")
        missing = [a for a in removing if a not in state.aliases]
        if missing:
            raise InvalidValue(f"{state.subject_id} has no alias {missing[0]!r}")
        fields: dict[str, Any] = {
            "subject_id": state.subject_id,
            "name": self._opt(name, "name"),
            "kind": kind,
            "add_aliases": self._texts(add_aliases, "alias"),
            "remove_aliases": removing,
            "birth_date": check_date(birth_date, "birth date") if birth_date else None,
            "nationality": self._opt(nationality, "nationality"),
            "position": self._opt(position, "position"),
        }
        if not any(v for k, v in fields.items() if k != "subject_id"):
            raise InvalidValue(
                "nothing to amend: give --name, --kind, --alias, --remove-alias, "
                "--birth-date, --nationality or --position"
            )
        agg.amend(**fields, recorded_by=b.by, sources=self._texts(sources, "source"))
        b.collect(agg, f"amended subject {state.subject_id}")

    def subject_ids(self, b: _Batch | None = None) -> list[str]:
        """Every registered subject id (for hints; scans the log)."""
        topics = [get_topic(Subject.Registered), get_topic(Subject.Reregistered)]
        scanned = b.scan(topics) if b is not None else self._scan(topics)
        ids = {str(json.loads(n.state)["subject_id"]) for n in scanned}
        if b is not None:
            ids |= {
                p.event.subject_id
                for p in b.pending
                if isinstance(p.event, Subject.Registered | Subject.Reregistered)
            }
        return sorted(ids)

    # ------------------------------------------------------------------ authorities

    def register_authority(self, code: str, name: str, *, sources: Sequence[str] = ()) -> Receipt:
        """Register an authority beyond the built-in table (``sanctions authority list``)."""
        return self._run(lambda b: self._register_authority(b, code, name, sources))[0]

    def _register_authority(self, b: _Batch, code: str, name: str, sources: Sequence[str]) -> None:
        code = check_text(code, "code").upper()
        if not AUTHORITY_CODE.match(code):
            raise InvalidValue(
                f"authority code {code!r} must be upper-case letters and digits, "
                "parts joined by '-' (e.g. US-DOJ)"
            )
        if code in BUILTIN_AUTHORITIES:
            raise AuthorityExists(f"authority {code} is built in ({BUILTIN_AUTHORITIES[code]})")
        fields = {
            "code": code,
            "name": check_text(name, "name"),
            "recorded_by": b.by,
            "sources": self._texts(sources, "source"),
        }
        agg = b.get(authority_uuid(code), Authority)
        if agg is None:
            agg = Authority._create(Authority.Registered, id=authority_uuid(code), **fields)
        elif agg.name() is not None:
            raise AuthorityExists(f"authority {code} is already registered ({agg.name()})")
        else:
            agg.register_again(**fields)
        b.collect(agg, f"registered authority {code} ({fields['name']})")

    def authorities(self, b: _Batch | None = None) -> list[AuthorityInfo]:
        """Built-in and registered authorities, by code."""
        found = {c: AuthorityInfo(c, n, True) for c, n in BUILTIN_AUTHORITIES.items()}
        topics = [get_topic(Authority.Registered), get_topic(Authority.Reregistered)]
        scanned = b.scan(topics) if b is not None else self._scan(topics)
        codes = {str(json.loads(n.state)["code"]) for n in scanned}
        if b is not None:
            codes |= {
                p.event.code
                for p in b.pending
                if isinstance(p.event, Authority.Registered | Authority.Reregistered)
            }
        batch = b or self._new_batch()
        for code in codes:
            agg = batch.get(authority_uuid(code), Authority)
            name = agg.name() if agg else None
            if name is not None:
                found[code] = AuthorityInfo(code, name, False)
        return sorted(found.values(), key=lambda a: a.code)

    # ------------------------------------------------------------------ designations

    def designate(
        self,
        subject: str,
        *,
        authority: str,
        regime: str,
        effective: date,
        measures: Sequence[str] = (),
        until: date | None = None,
        legal_act: str | None = None,
        reason: str | None = None,
        sources: Sequence[str] = (),
        listed_after: date | None = None,
        start_unknown: bool = False,
    ) -> Receipt:
        """List a subject by an authority under a regime from an effective date.

        ``listed_after`` / ``start_unknown``: the source gives no listing date; the subject
        is certainly listed from ``effective`` and possibly since the day after
        ``listed_after`` (or since any earlier day).
        """
        return self._run(
            lambda b: self._designate(
                b,
                subject,
                authority,
                regime,
                effective,
                measures,
                until,
                legal_act,
                reason,
                sources,
                listed_after,
                start_unknown,
            )
        )[0]

    def _designate(
        self,
        b: _Batch,
        subject: str,
        authority: str,
        regime: str,
        effective: date,
        measures: Sequence[str],
        until: date | None,
        legal_act: str | None,
        reason: str | None,
        sources: Sequence[str],
        listed_after: date | None = None,
        start_unknown: bool = False,
    ) -> None:
        subject, authority, regime = self._designation_key(b, subject, authority, regime)
        check_date(effective, "effective date")
        if until is not None and check_date(until, "end date") < effective:
            raise InvalidValue(f"the end date {until} is before the effective date {effective}")
        if listed_after is not None:
            if start_unknown:
                raise InvalidValue(
                    "give either a listed-after date or an unknown start, not both"
                )
            if check_date(listed_after, "listed-after date") >= effective:
                raise InvalidValue(
                    f"the listed-after date {listed_after} is not before the effective date "
                    f"{effective}; give the last date on which it was known not listed"
                )
        fields: dict[str, Any] = {
            "subject": subject,
            "authority": authority,
            "regime": regime,
            "effective": effective,
            "measures": self._measures(measures),
            "until": until,
            "legal_act": self._opt(legal_act, "legal act"),
            "reason": self._opt(reason, "reason"),
            "listed_after": listed_after,
            "start_unknown": start_unknown,
            "recorded_by": b.by,
            "sources": self._texts(sources, "source"),
        }
        key = designation_uuid(subject, authority, regime)
        agg = b.get(key, Designation)
        if agg is None:
            agg = Designation._create(Designation.Designated, id=key, **fields)
        else:
            seg = in_force(agg.segments(), effective)
            if seg is not None:
                raise AlreadyDesignated(
                    f"{self._describe(subject, authority, regime)} is already designated on "
                    f"{effective} (since {seg.period_start})"
                )
            agg.designate_again(**fields)
        measures_text = ", ".join(fields["measures"]) or "no measures"
        b.collect(
            agg,
            f"designated {self._describe(subject, authority, regime)} from {effective} "
            f"({measures_text})",
        )

    def _in_force_designation(
        self, b: _Batch, subject: str, authority: str, regime: str, day: date, doing: str
    ) -> tuple[Designation, str, str, str]:
        subject, authority, regime = self._designation_key(b, subject, authority, regime)
        agg = b.get(designation_uuid(subject, authority, regime), Designation)
        if agg is None or in_force(agg.segments(), day) is None:
            raise NotDesignated(
                f"{self._describe(subject, authority, regime)} is not designated on {day}; "
                f"nothing to {doing}"
            )
        return agg, subject, authority, regime

    def amend(
        self,
        subject: str,
        *,
        authority: str,
        regime: str,
        effective: date,
        add_measures: Sequence[str] = (),
        remove_measures: Sequence[str] = (),
        until: date | None = None,
        legal_act: str | None = None,
        reason: str | None = None,
        sources: Sequence[str] = (),
    ) -> Receipt:
        """Change a designation in force: measures added or removed, end date, legal act."""
        return self._run(
            lambda b: self._amend(
                b,
                subject,
                authority,
                regime,
                effective,
                add_measures,
                remove_measures,
                until,
                legal_act,
                reason,
                sources,
            )
        )[0]

    def _amend(
        self,
        b: _Batch,
        subject: str,
        authority: str,
        regime: str,
        effective: date,
        add_measures: Sequence[str],
        remove_measures: Sequence[str],
        until: date | None,
        legal_act: str | None,
        reason: str | None,
        sources: Sequence[str],
    ) -> None:
        check_date(effective, "effective date")
        agg, subject, authority, regime = self._in_force_designation(
            b, subject, authority, regime, effective, "amend"
        )
        adding, removing = self._measures(add_measures), self._measures(remove_measures)
        if until is not None and check_date(until, "end date") < effective:
            raise InvalidValue(f"the end date {until} is before the effective date {effective}")
        seg = in_force(agg.segments(), effective)
        assert seg is not None
        absent = [m for m in removing if m not in seg.measures]
        if absent:
            raise InvalidValue(
                f"cannot remove {absent[0]!r}: the measures on {effective} are "
                f"{', '.join(seg.measures) or 'none'}"
            )
        both = set(adding) & set(removing)
        if both:
            raise InvalidValue(f"{sorted(both)[0]!r} is both added and removed")
        fields: dict[str, Any] = {
            "add_measures": adding,
            "remove_measures": removing,
            "until": until,
            "legal_act": self._opt(legal_act, "legal act"),
            "reason": self._opt(reason, "reason"),
        }
        if not any(fields.values()):
            raise InvalidValue(
                "nothing to amend: give --add-measure, --remove-measure, --until, "
                "--legal-act or --reason"
            )
        agg.amend(
            subject=subject,
            authority=authority,
            regime=regime,
            effective=effective,
            recorded_by=b.by,
            sources=self._texts(sources, "source"),
            **fields,
        )
        b.collect(agg, f"amended {self._describe(subject, authority, regime)} from {effective}")

    def delist(
        self,
        subject: str,
        *,
        authority: str,
        regime: str,
        effective: date,
        reason: str | None = None,
        legal_act: str | None = None,
        sources: Sequence[str] = (),
    ) -> Receipt:
        """End a designation from an effective date (its last day is the day before)."""
        return self._run(
            lambda b: self._delist(
                b, subject, authority, regime, effective, reason, legal_act, sources
            )
        )[0]

    def _delist(
        self,
        b: _Batch,
        subject: str,
        authority: str,
        regime: str,
        effective: date,
        reason: str | None,
        legal_act: str | None,
        sources: Sequence[str],
    ) -> None:
        check_date(effective, "effective date")
        agg, subject, authority, regime = self._in_force_designation(
            b, subject, authority, regime, effective, "delist"
        )
        agg.delist(
            subject=subject,
            authority=authority,
            regime=regime,
            effective=effective,
            reason=self._opt(reason, "reason"),
            legal_act=self._opt(legal_act, "legal act"),
            recorded_by=b.by,
            sources=self._texts(sources, "source"),
        )
        b.collect(agg, f"delisted {self._describe(subject, authority, regime)} from {effective}")

    # ------------------------------------------------------------------ announcements, rulings

    def announce(
        self,
        *,
        title: str,
        date: date,
        authorities: Sequence[str],
        subjects: Sequence[str] = (),
        sources: Sequence[str] = (),
    ) -> Receipt:
        """Record a coordination announcement: the first authority acts with the others."""
        return self._run(lambda b: self._announce(b, title, date, authorities, subjects, sources))[
            0
        ]

    def _announce(
        self,
        b: _Batch,
        title: str,
        day: date,
        authorities: Sequence[str],
        subjects: Sequence[str],
        sources: Sequence[str],
    ) -> None:
        title = check_text(title, "title")
        check_date(day, "date")
        if not authorities:
            raise InvalidValue("an announcement needs at least one --authority")
        codes: list[str] = []
        for a in authorities:
            code = self._authority(b, a)
            if code not in codes:
                codes.append(code)
        ids: list[str] = []
        for s in subjects:
            sid = self._subject(b, s).state()
            assert sid is not None
            if sid.subject_id not in ids:
                ids.append(sid.subject_id)
        agg_id = self._free_fact_id(b, "announcement", (day, title, *codes), Announcement)
        agg = Announcement._create(
            Announcement.Announced,
            id=agg_id,
            title=title,
            date=day,
            authorities=codes,
            subjects=ids,
            recorded_by=b.by,
            sources=self._texts(sources, "source"),
        )
        others = f" in coordination with {', '.join(codes[1:])}" if len(codes) > 1 else ""
        b.collect(agg, f"announced {title!r} by {codes[0]}{others} on {day}")

    def _free_fact_id(
        self, b: _Batch, kind: str, key: tuple[object, ...], cls: type[LedgerAggregate]
    ) -> UUID:
        """The id for a new fact; the same fact standing already is refused."""
        occurrence = 0
        while True:
            agg_id = fact_uuid(kind, key, occurrence)
            agg = b.get(agg_id, cls)
            if agg is None:
                return agg_id
            if agg.standing():
                raise Conflict(f"this {kind} is already recorded")
            occurrence += 1

    def record_ruling(
        self,
        subject: str,
        *,
        court: str,
        date: date,
        outcome: str,
        summary: str | None = None,
        annuls: bool = False,
        authority: str | None = None,
        regime: str | None = None,
        sources: Sequence[str] = (),
    ) -> Receipt:
        """Record a court ruling; with ``annuls`` it ends a designation from its date."""
        return self._run(
            lambda b: self._record_ruling(
                b, subject, court, date, outcome, summary, annuls, authority, regime, sources
            )
        )[0]

    def _record_ruling(
        self,
        b: _Batch,
        subject: str,
        court: str,
        day: date,
        outcome: str,
        summary: str | None,
        annuls: bool,
        authority: str | None,
        regime: str | None,
        sources: Sequence[str],
    ) -> None:
        state = self._subject(b, subject).state()
        assert state is not None
        fields: dict[str, Any] = {
            "subject": state.subject_id,
            "court": check_text(court, "court"),
            "date": check_date(day, "date"),
            "outcome": check_text(outcome, "outcome"),
            "summary": self._opt(summary, "summary"),
            "recorded_by": b.by,
            "sources": self._texts(sources, "source"),
        }
        if not annuls:
            if authority is not None or regime is not None:
                raise InvalidValue("--authority and --regime go with --annuls")
            agg_id = self._free_fact_id(
                b, "ruling", (state.subject_id, fields["court"], day, fields["outcome"]), Ruling
            )
            ruling = Ruling._create(Ruling.Recorded, id=agg_id, **fields)
            b.collect(
                ruling,
                f"recorded ruling of {fields['court']} on {day} about {state.subject_id}: "
                f"{fields['outcome']}",
            )
            return
        if authority is None or regime is None:
            raise InvalidValue("--annuls needs --authority and --regime")
        _, code, regime = self._designation_key(b, state.subject_id, authority, regime)
        agg = b.get(designation_uuid(state.subject_id, code, regime), Designation)
        if agg is None or not agg.has_standing_events():
            raise NotDesignated(
                f"{self._describe(state.subject_id, code, regime)} has no designation to annul"
            )
        agg.annul(authority=code, regime=regime, **fields)
        b.collect(
            agg,
            f"recorded ruling of {fields['court']} on {day} annulling "
            f"{self._describe(state.subject_id, code, regime)}",
        )

    # ------------------------------------------------------------------ retractions

    def retract(self, position: int, *, reason: str, sources: Sequence[str] = ()) -> Receipt:
        """Retract the event at a ledger position; it stays in the store, without effect."""
        return self._run(lambda b: self._retract(b, position, reason, sources))[0]

    def _retract(self, b: _Batch, position: int, reason: str, sources: Sequence[str]) -> None:
        reason = check_text(reason, "reason")
        total = b.next_position() - 1
        located = b.locate(position) if 1 <= position <= total else None
        if located is None:
            raise UnknownPosition(f"no event at position {position}; the ledger has {total} events")
        agg_id, version = located
        agg = b.get(agg_id, LedgerAggregate)
        assert agg is not None
        target = agg.history[version]
        if isinstance(target, Subject.Registered | Subject.Reregistered) and (
            version not in agg.retractions
        ):
            standing = self._references(b, subject=target.subject_id)
            if standing:
                raise CannotRetract(
                    f"event {position} registers subject {target.subject_id!r}, and "
                    f"{len(standing)} event(s) about it still stand (first at position "
                    f"{standing[0]}); retract those first"
                )
        if isinstance(target, Authority.Registered | Authority.Reregistered) and (
            version not in agg.retractions
        ):
            standing = self._references(b, authority=target.code)
            if standing:
                raise CannotRetract(
                    f"event {position} registers authority {target.code}, and "
                    f"{len(standing)} event(s) by it still stand; retract those first"
                )
        agg.retract(
            position=position,
            version=version,
            reason=reason,
            recorded_by=b.by,
            sources=self._texts(sources, "source"),
        )
        b.collect(agg, f"retracted event {position}")

    def _references(
        self, b: _Batch, *, subject: str | None = None, authority: str | None = None
    ) -> list[int]:
        """Aggregates with standing events about a subject or by an authority, by position.

        Scans the log: retracting a registration is rare, and keeping an index of references
        on the write side would cost every append.
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
        for n in b.scan(None):
            if about(json.loads(n.state)):
                found.setdefault(UUID(str(n.originator_id)), n.id)
        for position, p in b.pending_positions():
            if about(vars(p.event)):
                found.setdefault(p.event.originator_id, position)
        positions: list[int] = []
        for agg_id, pos in found.items():
            agg = b.get(agg_id, LedgerAggregate)
            if agg is None:
                continue
            standing = agg.standing()
            if isinstance(agg, Subject):  # the registration itself does not count
                standing = [e for e in standing if isinstance(e, Subject.Amended)]
            if standing:
                positions.append(pos)
        return sorted(positions)

    # ------------------------------------------------------------------ import

    def import_events(
        self,
        records: Iterable[InputRecord],
        *,
        progress: Callable[[int], None] | None = None,
    ) -> ImportSummary:
        """Check and append every record in one transaction: all of them, or nothing.

        The file is streamed: records are checked in order against the ledger as it stands
        with the records before them, and written in chunks inside one write transaction
        that holds the write lock; a bad record rolls everything back. Memory stays bounded
        (chunks of pending events, a bounded cache of aggregates).

        Records with positions are a restore: the ledger must be empty and positions run
        1..n; record times and recorders are reproduced, and digests, where given, checked.
        """
        restore: bool | None = None
        try:
            with self.ledger_recorder.appending() as writer:
                b = _Batch(self, head=writer.head, by=self.user, writer=writer)
                for count, record in enumerate(self._prefetched(b, records), start=1):
                    is_restore = record.position is not None
                    if restore is None:
                        restore = is_restore
                        if restore and b.head != 0:
                            raise InvalidImport(
                                record.line,
                                "a file with positions is a restore and needs an empty "
                                f"ledger; this one has {b.head} events",
                            )
                    elif restore != is_restore:
                        raise InvalidImport(
                            record.line,
                            "the file mixes restore lines (with position) and new events (without)",
                        )
                    if record.position is not None:
                        expected = b.next_position()
                        if record.position != expected:
                            raise InvalidImport(
                                record.line,
                                f"expected position {expected}, found {record.position}",
                            )
                        assert record.recorded_at is not None and record.recorded_by is not None
                        b.by = record.recorded_by
                        b.restored = Restored(record.position, record.recorded_at, record.digest)
                    try:
                        self.apply_record(b, record)
                    except InvalidImport:
                        raise
                    except LedgerError as e:
                        raise InvalidImport(record.line, str(e)) from None
                    if len(b.pending) >= IMPORT_CHUNK:
                        b.flush()
                    if progress is not None:
                        progress(count)
                b.flush()
                appended = writer.result()
        except IntegrityError:  # pragma: no cover - the write lock is held throughout
            raise ConcurrentWrite(
                "another writer changed the same record at the same time; nothing was "
                "written, try again"
            ) from None
        if appended.count == 0:
            return ImportSummary(0, 0, 0, bool(restore))
        return ImportSummary(appended.count, appended.first, appended.last, bool(restore))

    def import_snapshot(
        self,
        snapshot: Snapshot,
        *,
        progress: Callable[[int, int], None] | None = None,
        max_delistings: DelistingLimit | None = None,
        dry_run: bool = False,
    ) -> ImportReport:
        """An official list snapshot as events, all or nothing (see ledger.adapters); refused
        when it would delist more than ``max_delistings`` allows; a dry run writes nothing."""
        from ledger.adapters.reconcile import import_snapshot

        return import_snapshot(
            self, snapshot, progress=progress, max_delistings=max_delistings, dry_run=dry_run
        )

    @staticmethod
    def _prefetched(
        b: _Batch, records: Iterable[InputRecord], chunk: int = 1000
    ) -> Iterator[InputRecord]:
        """The records, with the aggregates each chunk of them names loaded in one query."""
        buffer: list[InputRecord] = []

        def flush() -> Iterator[InputRecord]:
            b.prefetch(i for r in buffer for i in _aggregates_named(r, b.registered))
            yield from buffer
            buffer.clear()

        for record in records:
            buffer.append(record)
            if len(buffer) >= chunk:
                yield from flush()
        yield from flush()

    def apply_record(self, b: _Batch, r: InputRecord) -> None:
        """One JSON Lines record as the command it stands for."""
        d = r.data
        if r.type == "subject_registered":
            self._register_subject(
                b,
                d["name"],
                d["id"],
                d["kind"],
                d["aliases"],
                d["birth_date"],
                d["nationality"],
                d["position"],
                d["sources"],
            )
        elif r.type == "subject_amended":
            self._amend_subject(
                b,
                d["id"],
                d["name"],
                d["kind"],
                d["add_aliases"],
                d["remove_aliases"],
                d["birth_date"],
                d["nationality"],
                d["position"],
                d["sources"],
            )
        elif r.type == "authority_registered":
            self._register_authority(b, d["code"], d["name"], d["sources"])
        elif r.type == "designated":
            self._designate(
                b,
                d["subject"],
                d["authority"],
                d["regime"],
                d["effective"],
                d["measures"],
                d["until"],
                d["legal_act"],
                d["reason"],
                d["sources"],
                d["listed_after"],
                d["start_unknown"],
            )
        elif r.type == "amended":
            self._amend(
                b,
                d["subject"],
                d["authority"],
                d["regime"],
                d["effective"],
                d["add_measures"],
                d["remove_measures"],
                d["until"],
                d["legal_act"],
                d["reason"],
                d["sources"],
            )
        elif r.type == "delisted":
            self._delist(
                b,
                d["subject"],
                d["authority"],
                d["regime"],
                d["effective"],
                d["reason"],
                d["legal_act"],
                d["sources"],
            )
        elif r.type == "announced":
            self._announce(b, d["title"], d["date"], d["authorities"], d["subjects"], d["sources"])
        elif r.type == "ruling_recorded":
            self._record_ruling(
                b,
                d["subject"],
                d["court"],
                d["date"],
                d["outcome"],
                d["summary"],
                d["annuls"],
                d["authority"],
                d["regime"],
                d["sources"],
            )
        elif r.type == "retracted":
            self._retract(b, d["position"], d["reason"], d["sources"])
        elif r.type == "list_imported":
            from ledger.adapters.reconcile import record_import

            record_import(self, b, **d)
        else:  # pragma: no cover - records are checked against SCHEMAS
            raise InvalidValue(f"unknown event type {r.type!r}")

    # ------------------------------------------------------------------ reading

    def _scan(self, topics: Sequence[str] | None, start: int = 1) -> Iterator[LedgerNotification]:
        position = start
        while True:
            page = self.recorder.select_notifications(
                start=position, limit=PAGE, topics=topics or ()
            )
            if not page:
                return
            for n in page:
                yield cast(LedgerNotification, n)
            position = page[-1].id + 1

    def read_log(
        self, start: int = 1, limit: int | None = None, stop: int | None = None
    ) -> Iterator[RecordedEvent]:
        """The ledger in order of record, from a position."""
        position = max(start, 1)
        remaining = limit
        while remaining is None or remaining > 0:
            size = PAGE if remaining is None else min(PAGE, remaining)
            page = self.recorder.select_notifications(start=position, limit=size, stop=stop)
            if not page:
                return
            for n in page:
                yield self.decode(cast(LedgerNotification, n))
            position = page[-1].id + 1
            if remaining is not None:
                remaining -= len(page)

    def decode(self, n: LedgerNotification) -> RecordedEvent:
        event = cast(LedgerAggregate.Event, self.mapper.to_domain_event(n))
        return RecordedEvent(
            position=n.id,
            type=event.type_name,
            aggregate_id=event.originator_id,
            version=n.originator_version,
            topic=n.topic,
            recorded_at=n.recorded_at,
            recorded_by=event.recorded_by,
            digest=n.digest,
            event=event,
        )

    def head(self) -> tuple[int, str]:
        """The last position and its digest (0 and the genesis digest when empty)."""
        position = self.recorder.max_notification_id() or 0
        if position == 0:
            return 0, GENESIS
        n = cast(LedgerNotification, self.recorder.select_notifications(position, 1)[0])
        return position, n.digest

    def committed_by_last_write(self) -> tuple[int, int] | None:
        """The positions (first, last) that this object's last write committed, read back
        from the database; None when it committed nothing.

        For an interrupted command: a commit may complete between the signal and its handling,
        so only the stored rows tell. The write held the lock from its head on, so its last
        position holding the digest it computed proves the whole write was committed.
        """
        appender = self.ledger_recorder.last_appender
        if appender is None or appender.position <= appender.head:
            return None
        found = self.recorder.select_notifications(appender.position, 1)
        if not found or found[0].id != appender.position:
            return None
        if cast(LedgerNotification, found[0]).digest != appender.digest:
            return None
        return appender.head + 1, appender.position

    def close(self) -> None:
        self.factory.close()
