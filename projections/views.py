"""The read side's one entry point: open, catch up, rebuild, answer."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from functools import cached_property
from typing import cast
from uuid import UUID

from sqlalchemy import Connection, Engine, func, insert, select
from sqlalchemy.exc import SQLAlchemyError

from ledger import Ledger
from ledger.errors import InvalidValue, ProjectionsBehind, ReadOnly
from ledger.store import format_time
from ledger.vocabulary import today
from projections import parties, queries
from projections.catchup import (
    BATCH,
    CACHE_SIZE,
    TRACKING_NAME,
    ProgressFn,
    Projector,
    set_tracked,
    tracked_position,
)
from projections.dialect import dialect_of, ledger_engine
from projections.tables import SCHEMA_VERSION, VIEW_TABLES, log, metadata, tracking
from projections.time import KnownAt, parse_known_at

REBUILD_NAME = "rebuild"
"""The tracking row holding the last rebuild's token (its position column)."""


def make_engine(ledger: Ledger) -> Engine:
    return ledger_engine(
        ledger.database, sqlite_uri=ledger.access.sqlite_uri, read_only=bool(ledger.read_only)
    )


class Views:
    """The projections of one ledger, always caught up before an answer."""

    def __init__(self, ledger: Ledger, engine: Engine | None = None) -> None:
        self.ledger = ledger
        # An engine given by the caller (verify's scratch rebuild) is theirs to write.
        self._own_tables = engine is None
        self.engine = engine if engine is not None else make_engine(ledger)
        self.dialect = dialect_of(self.engine)
        self.projector = Projector(ledger)
        self.rebuild_token: int | None = None
        self._ensure_schema()

    # ------------------------------------------------------------------ read-only ledgers

    @cached_property
    def read_only(self) -> str:
        """Why this process cannot write the projections (empty when it can).

        Asked only when they need writing: a reader of a current ledger never waits for it.
        """
        if not self._own_tables:
            return ""
        if self.ledger.read_only:
            return self.ledger.read_only
        names = [t.name for t in VIEW_TABLES]
        with self.engine.connect() as conn:
            allowed = self.dialect.may_write(conn, self.ledger.database.schema, names)
        if allowed:
            return ""
        return f"the role {self.ledger.database.user} may not write the projection tables"

    def _require_writable(self, lag: str) -> None:
        """Refuse to answer from projections that lag the log and cannot catch up here."""
        if self.read_only:
            raise ProjectionsBehind(
                f"{lag} and this ledger is read-only here ({self.read_only}); "
                "'sanctions rebuild' with write access brings them up to date"
            )

    # ------------------------------------------------------------------ maintenance

    @contextmanager
    def _writing(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            conn = self.dialect.for_writing(conn)
            with conn.begin():
                yield conn

    def _schema_is_current(self) -> bool:
        """A read, so that queries never wait for the write lock (a long import holds it)."""
        try:
            with self.engine.connect() as conn:
                row = conn.execute(
                    select(tracking.c.schema_version).where(tracking.c.name == TRACKING_NAME)
                ).first()
        except SQLAlchemyError as e:
            if self.dialect.is_missing_table(e):
                return False  # no tables yet
            raise  # not allowed to read them, ...: not a reason to make them again
        return row is not None and row.schema_version == SCHEMA_VERSION

    def _ensure_schema(self) -> None:
        if self._schema_is_current():
            return
        self._require_writable("the projections are missing or were made by another version")
        with self._writing() as conn:
            self.dialect.serialise_schema_creation(conn)
            metadata.create_all(conn)
            row = conn.execute(
                select(tracking.c.schema_version).where(tracking.c.name == TRACKING_NAME)
            ).first()
            if row is None:
                conn.execute(
                    insert(tracking).values(
                        name=TRACKING_NAME, position=0, schema_version=SCHEMA_VERSION
                    )
                )
            elif row.schema_version != SCHEMA_VERSION:
                self._reset(conn)

    def _reset(self, conn: Connection) -> None:
        for table in reversed(VIEW_TABLES):
            table.drop(conn, checkfirst=True)
        metadata.create_all(conn)
        conn.execute(
            insert(tracking).values(name=TRACKING_NAME, position=0, schema_version=SCHEMA_VERSION)
        )

    def position(self) -> int:
        """The last position the projections have applied."""
        with self.engine.connect() as conn:
            return tracked_position(conn) or 0

    def catch_up(self, progress: ProgressFn | None = None, stop: int | None = None) -> int:
        """Apply every event after the tracked position (up to ``stop``); returns the count."""
        head = self.ledger.recorder.max_notification_id() or 0
        if stop is not None:
            head = min(head, stop)
        position = self.position()
        if position >= head:
            return 0
        behind = head - position
        self._require_writable(
            f"the projections are {behind} event{'s' if behind != 1 else ''} behind the log"
        )
        applied = 0
        # By aggregate, the backlog costs one scan of the log's (aggregate, version) index:
        # worth it for a large share of the log (an import, a rebuild), not for a few events.
        if head - position > BATCH and (head - position) * 20 > head:
            applied = self._catch_up_by_aggregate(position, head, progress)
        while True:
            with self._writing() as conn:
                position = tracked_position(conn, lock=True) or 0
                batch = self.ledger.recorder.select_notifications(
                    start=position + 1, limit=BATCH, stop=head
                )
                if not batch:
                    return applied
                self.projector.apply(conn, batch)  # type: ignore[arg-type]
                set_tracked(conn, batch[-1].id)
            applied += len(batch)
            if progress is not None:
                progress(batch[-1].id, head)

    def _catch_up_by_aggregate(self, position: int, head: int, progress: ProgressFn | None) -> int:
        """Events ``position``+1..``head`` applied in one transaction, aggregate by aggregate.

        In order of record, a large ledger evicts most aggregates from the cache between two
        of their events, and each is read and folded again; by (aggregate, version) each is
        folded once (its earlier events, if any, read once), and the period rows go in in key
        order. The rows are the same. A crash loses the whole backlog, to be applied again.
        """
        with self._writing() as conn:
            if (tracked_position(conn, lock=True) or 0) != position:
                return 0  # another process is applying it: go on in order of record
            applied = self._apply_by_aggregate(conn, position, head, progress)
        self._analyze(applied)
        return applied

    def _apply_by_aggregate(
        self, conn: Connection, position: int, head: int, progress: ProgressFn | None
    ) -> int:
        applied = 0
        recorder = self.ledger.ledger_recorder
        after = None
        # Needed again: the aggregates a page loads (earlier events) and the one a page ends
        # in; a full cache of finished aggregates would be dead weight.
        self.projector.cache_size = BATCH + 1
        try:
            while page := recorder.select_by_aggregate(after, BATCH, head, start=position):
                self.projector.apply(conn, page)
                last = page[-1]
                after = (cast(UUID, last.originator_id), last.originator_version)
                applied += len(page)
                if progress is not None:
                    progress(position + applied, head)
        finally:
            self.projector.cache_size = CACHE_SIZE
            self.projector.cache.clear()
        set_tracked(conn, head)
        return applied

    def _analyze(self, applied: int) -> None:
        if applied:
            self.dialect.analyze(self.engine, [table.name for table in VIEW_TABLES])

    def rebuild(self, progress: ProgressFn | None = None, stop: int | None = None) -> int:
        """Drop every projection and apply the log again (up to ``stop``).

        Dropping and applying are one transaction: an interrupted rebuild leaves the
        projections as they were, never empty or half built. The transaction also stores a
        token of its own, so that ``rebuilt_up_to`` can tell afterwards whether it committed.
        """
        if self.read_only:
            raise ReadOnly(
                f"cannot rebuild the projections: this ledger is read-only here "
                f"({self.read_only}); run 'sanctions rebuild' with write access"
            )
        head = self.ledger.recorder.max_notification_id() or 0
        if stop is not None:
            head = min(head, stop)
        token = secrets.randbits(62)
        self.rebuild_token = token
        self.projector.cache.clear()
        with self._writing() as conn:
            self._reset(conn)
            conn.execute(
                insert(tracking).values(
                    name=REBUILD_NAME, position=token, schema_version=SCHEMA_VERSION
                )
            )
            applied = self._apply_by_aggregate(conn, 0, head, progress)
        self._analyze(applied)
        return applied + self.catch_up(progress, stop)

    def rebuilt_up_to(self) -> int | None:
        """After an interrupted ``rebuild``: the position its committed transaction rebuilt
        the projections up to, read back from the database; None if it did not commit."""
        if self.rebuild_token is None:
            return None
        self.engine.dispose()  # fresh connections: they see only what was committed
        with self.engine.connect() as conn:
            token = conn.execute(
                select(tracking.c.position).where(tracking.c.name == REBUILD_NAME)
            ).scalar()
            if token != self.rebuild_token:
                return None
            return tracked_position(conn)

    def close(self) -> None:
        self.engine.dispose()

    # ------------------------------------------------------------------ time

    def resolve_known_at(self, known_at: str | KnownAt | None) -> int:
        """A ``--known-at`` value as the last position it includes."""
        if known_at is None:
            return self.position()
        k = parse_known_at(known_at) if isinstance(known_at, str) else known_at
        if k.position is not None:
            return k.position
        assert k.moment is not None
        with self.engine.connect() as conn:
            value = conn.execute(
                select(func.max(log.c.position)).where(log.c.recorded_at <= format_time(k.moment))
            ).scalar()
        return int(value or 0)

    @staticmethod
    def _day(at: date | None) -> date:
        return at if at is not None else today()

    # ------------------------------------------------------------------ queries

    def listings(
        self,
        *,
        authority: str | None = None,
        regime: str | None = None,
        measure: str | None = None,
        kind: str | None = None,
        at: date | None = None,
        known_at: str | KnownAt | None = None,
        include_uncertain: bool = False,
        offset: int = 0,
        limit: int | None = None,
    ) -> list[queries.Listing]:
        k = self.resolve_known_at(known_at)
        with self.engine.connect() as conn:
            return queries.listings(
                conn,
                at=self._day(at),
                k=k,
                authority=authority.upper() if authority else None,
                regime=regime,
                measure=measure,
                kind=kind,
                include_uncertain=include_uncertain,
                offset=offset,
                limit=limit,
            )

    def show(
        self, subject_id: str, *, at: date | None = None, known_at: str | KnownAt | None = None
    ) -> queries.SubjectReport:
        k = self.resolve_known_at(known_at)
        with self.engine.connect() as conn:
            return parties.show(conn, subject_id, at=self._day(at), k=k)

    def timeline(
        self, subject_id: str, *, known_at: str | KnownAt | None = None
    ) -> queries.Timeline:
        """The subject's designations in all valid time, with rulings and announcements."""
        k = self.resolve_known_at(known_at)
        with self.engine.connect() as conn:
            return queries.timeline(conn, subject_id, k=k)

    def history(
        self, subject_id: str, *, known_at: str | KnownAt | None = None
    ) -> list[queries.HistoryEntry]:
        k = self.resolve_known_at(known_at)
        with self.engine.connect() as conn:
            return queries.history(conn, subject_id, k=k)

    def diff(
        self,
        start: date,
        end: date,
        *,
        authority: str | None = None,
        known_at: str | KnownAt | None = None,
    ) -> list[queries.Change]:
        if end < start:
            raise InvalidValue(f"the end date {end} is before the start date {start}")
        k = self.resolve_known_at(known_at)
        with self.engine.connect() as conn:
            return queries.diff(
                conn, start, end, k=k, authority=authority.upper() if authority else None
            )

    def announcements(
        self,
        *,
        at: date | None = None,
        authority: str | None = None,
        subject: str | None = None,
        known_at: str | KnownAt | None = None,
    ) -> list[queries.Fact]:
        k = self.resolve_known_at(known_at)
        with self.engine.connect() as conn:
            return queries.facts(
                conn,
                "announced",
                at=at,
                k=k,
                subject=subject,
                authority=authority.upper() if authority else None,
            )

    def rulings(
        self,
        *,
        at: date | None = None,
        subject: str | None = None,
        known_at: str | KnownAt | None = None,
    ) -> list[queries.Fact]:
        k = self.resolve_known_at(known_at)
        with self.engine.connect() as conn:
            return queries.facts(conn, "ruling_recorded", at=at, k=k, subject=subject)

    def parties(
        self,
        listings: list[queries.Listing],
        *,
        authority: str | None = None,
        known_at: str | KnownAt | None = None,
    ) -> list[parties.PartyRow]:
        """Listings (as ``listings`` gave them) grouped by party as known at the same K."""
        k = self.resolve_known_at(known_at)
        with self.engine.connect() as conn:
            return parties.party_rows(conn, listings, k=k, authority=authority)

    def subjects(self, *, known_at: str | KnownAt | None = None) -> list[queries.SubjectRow]:
        k = self.resolve_known_at(known_at)
        with self.engine.connect() as conn:
            return queries.subjects_known(conn, k=k)
