"""The ledger application: opens the store, runs commands through a unit of work, reads the log.

The write path: a command (``ledger.commands``) -> its handler (``ledger.handlers``), which
loads the aggregates through a :class:`~ledger.unit_of_work.UnitOfWork` and calls their
rules (``ledger.domain``) -> the unit of work appends the new events in one transaction.
"""

from __future__ import annotations

import gc
import getpass
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import IntegrityError, JSONTranscoder, Mapper, PersistenceError
from eventsourcing.utils import Environment, EnvType

from ledger.commands import (
    COMMANDS,
    AmendDesignation,
    AmendSubject,
    Announce,
    Command,
    Delist,
    Designate,
    RecordRuling,
    RegisterAuthority,
    RegisterSubject,
    Retract,
)
from ledger.errors import CannotOpen, InvalidImport, LedgerError, ReadOnly
from ledger.mapper import LedgerMapper, register_transcodings
from ledger.records import InputRecord, check_text
from ledger.store import (
    DEFAULT_URL,
    GENESIS,
    Database,
    LedgerNotification,
    LedgerRecorderMixin,
    Restored,
    driver_errors,
)
from ledger.vocabulary import BUILTIN_AUTHORITIES

if TYPE_CHECKING:
    from ledger.adapters import DelistingLimit, ImportReport, Snapshot
    from ledger.domain import LedgerAggregate
    from ledger.unit_of_work import Follower, Receipt, ReferenceIndex, UnitOfWork

# The aggregates, handlers and unit of work load inside the methods that write (start-up
# time: a query answered from the projections never needs them).

__all__ = ["AuthorityInfo", "ImportSummary", "Ledger", "RecordedEvent", "default_user"]

IMPORT_CHUNK = 5000
"""Events an import writes at a time, inside its one transaction."""


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
        from ledger.event_data import event_data

        return event_data(self.event)


@dataclass(frozen=True)
class AuthorityInfo:
    code: str
    name: str
    builtin: bool


_NEED_SUBJECT_STATE = frozenset(
    {"subject_registered", "subject_amended", "announced", "ruling_recorded", "retracted"}
)


def _aggregates_named(r: InputRecord, registered: set[UUID]) -> list[UUID]:
    """The aggregates a record will most likely read (a hint: others load on demand)."""
    from ledger.domain import authority_uuid, designation_uuid, subject_uuid

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
        except Exception as e:
            if not (isinstance(e, (PersistenceError, *driver_errors())) and self.access.created):
                raise
            raise CannotOpen(
                f"cannot create a ledger at {self.database.display}: {e}".splitlines()[0]
            ) from None
        if not isinstance(self.recorder, LedgerRecorderMixin):  # never the in-memory default
            raise LedgerError(f"internal: unexpected event recorder {type(self.recorder)}")
        self.reference_index: ReferenceIndex | None = None
        """Set by the read side when it is open (see ``UnitOfWork.references``)."""
        self.follow: Callable[[], Follower | None] | None = None
        """Set by the read side when it is open: imports write its rows as they go (the
        bulk path, see ``UnitOfWork.follower``)."""
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
        register_transcodings(transcoder)

    @property
    def ledger_mapper(self) -> LedgerMapper:
        return cast(LedgerMapper, self.mapper)

    @property
    def ledger_recorder(self) -> LedgerRecorderMixin:
        return cast(LedgerRecorderMixin, self.recorder)

    # ------------------------------------------------------------------ running commands

    def unit_of_work(self) -> UnitOfWork:
        """A new unit of work on the ledger as it stands; refused on a read-only ledger."""
        if self.ledger_recorder.refusal:  # say so before checking what could not be written
            raise ReadOnly(self.ledger_recorder.refusal)
        return self._reader()

    def _reader(self) -> UnitOfWork:
        from ledger.unit_of_work import UnitOfWork

        head = self.recorder.max_notification_id() or 0
        return UnitOfWork(
            self.ledger_recorder,
            self.ledger_mapper,
            head=head,
            by=self.user,
            references=self.reference_index,
        )

    def execute(self, *commands: Command) -> list[Receipt]:
        """Check the commands in order and append their events, all or nothing."""
        from ledger.handlers import handle

        uow = self.unit_of_work()
        for command in commands:
            handle(uow, command)
        return uow.commit()

    def run(self, command: Command) -> Receipt:
        """One command that records one event; its receipt."""
        return self.execute(command)[0]

    # The commands as keyword methods, for scripts and tests: fields as in ledger.commands.

    def register_subject(self, name: str, **fields: Any) -> Receipt:
        return self.run(RegisterSubject(name=name, **fields))

    def amend_subject(self, subject_id: str, **fields: Any) -> Receipt:
        return self.run(AmendSubject(subject_id=subject_id, **fields))

    def register_authority(self, code: str, name: str, **fields: Any) -> Receipt:
        return self.run(RegisterAuthority(code=code, name=name, **fields))

    def designate(self, subject: str, **fields: Any) -> Receipt:
        return self.run(Designate(subject=subject, **fields))

    def amend(self, subject: str, **fields: Any) -> Receipt:
        return self.run(AmendDesignation(subject=subject, **fields))

    def delist(self, subject: str, **fields: Any) -> Receipt:
        return self.run(Delist(subject=subject, **fields))

    def announce(self, **fields: Any) -> Receipt:
        return self.run(Announce(**fields))

    def record_ruling(self, subject: str, **fields: Any) -> Receipt:
        return self.run(RecordRuling(subject=subject, **fields))

    def retract(self, position: int, **fields: Any) -> Receipt:
        return self.run(Retract(position=position, **fields))

    def authorities(self) -> list[AuthorityInfo]:
        """Built-in and registered authorities, by code."""
        from ledger.handlers import authority_names

        names = authority_names(self._reader())
        return [AuthorityInfo(code, name, builtin) for code, (name, builtin) in names.items()]

    def subject_ids(self) -> list[str]:
        """Every subject id ever registered (scans the log)."""
        return self._reader().subject_ids()

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
        from ledger.handlers import handle
        from ledger.unit_of_work import UnitOfWork, concurrent_write

        restore: bool | None = None
        follower = self._follower()
        # An import allocates millions of objects that live until their chunk is written:
        # the cyclic collector would walk them again and again (a quarter of the import's
        # CPU), so it runs once a chunk instead.
        collecting = gc.isenabled()
        gc.disable()
        try:
            mapper = self.ledger_mapper
            with (
                nullcontext(None) if follower is None else follower.transaction() as connection,
                self.ledger_recorder.appending(
                    encode=mapper.stored, connection=connection
                ) as writer,
            ):
                if follower is not None:
                    follower.started(writer)
                b = UnitOfWork(
                    self.ledger_recorder,
                    mapper,
                    writer.head,
                    self.user,
                    writer=writer,
                    references=self.reference_index,
                    follower=follower,
                )
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
                        handle(b, COMMANDS[record.type].from_data(record.data))
                    except LedgerError as e:
                        raise InvalidImport(record.line, str(e)) from None
                    if len(b.pending) >= IMPORT_CHUNK:
                        b.flush()
                        gc.collect(0)  # what this chunk allocated: older objects were seen
                    if progress is not None:
                        progress(count)
                b.flush()
                appended = writer.result()
        except IntegrityError:  # pragma: no cover - the write lock is held throughout
            raise concurrent_write() from None
        finally:
            if collecting:
                gc.enable()
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
        writing: Callable[[int, int], None] | None = None,
    ) -> ImportReport:
        """An official list snapshot as events, all or nothing (see ledger.adapters); refused
        when it would delist more than ``max_delistings`` allows; a dry run writes nothing.
        ``progress`` follows the comparison, ``writing`` the events written (done, total)."""
        from ledger.adapters.reconcile import plan_snapshot  # only import-list needs it

        uow = self.unit_of_work()
        if not dry_run:
            uow.follower = self._follower()
        report = plan_snapshot(
            uow, snapshot, progress=progress, max_delistings=max_delistings, dry_run=dry_run
        )
        if not dry_run:
            report.raise_refusal()
            report.receipts = uow.commit(writing)
        return report

    def _follower(self) -> Follower | None:
        """The read side following a bulk write, when it is open and may write."""
        return self.follow() if self.follow is not None else None

    @staticmethod
    def _prefetched(
        b: UnitOfWork, records: Iterable[InputRecord], chunk: int = 1000
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

    # ------------------------------------------------------------------ reading

    def read_log(
        self, start: int = 1, limit: int | None = None, stop: int | None = None
    ) -> Iterator[RecordedEvent]:
        """The ledger in order of record, from a position."""
        from ledger.unit_of_work import PAGE

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
        event = cast("LedgerAggregate.Event", self.mapper.to_domain_event(n))
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
