"""The read side's one entry point: open, catch up, rebuild, answer."""

from __future__ import annotations

import gc
import secrets
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from functools import cached_property
from typing import TYPE_CHECKING, cast
from uuid import UUID

from sqlalchemy import Connection, Engine, insert, select
from sqlalchemy.exc import SQLAlchemyError

from ledger import Ledger
from ledger.errors import ProjectionsBehind, ReadOnly
from ledger.store import LedgerNotification
from projections import queries
from projections.answers import Answers
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
from projections.tables import (
    LIVE,
    SCHEMA_VERSION,
    VIEW_TABLES,
    Tables,
    fresh_tables,
    metadata,
    tracking,
)

if TYPE_CHECKING:
    from projections.following import Following

REBUILD_NAME = "rebuild"
"""The tracking row holding the last rebuild's token (its position column)."""

PAGES_PER_COMMIT = 25
"""A rebuild fills its fresh tables in transactions of this many pages of ``BATCH`` events:
SQLite's WAL stays small, and appends and catch-ups of the live tables get in between."""


def make_engine(ledger: Ledger) -> Engine:
    return ledger_engine(
        ledger.database, sqlite_uri=ledger.access.sqlite_uri, read_only=bool(ledger.read_only)
    )


class Views(Answers):
    """The projections of one ledger, always caught up before an answer (the questions
    themselves: ``projections.answers``)."""

    def __init__(self, ledger: Ledger, engine: Engine | None = None) -> None:
        self.ledger = ledger
        # An engine given by the caller (verify's scratch rebuild) is theirs to write.
        self._own_tables = engine is None
        self.engine = engine if engine is not None else make_engine(ledger)
        self.dialect = dialect_of(self.engine)
        self.projector = Projector(ledger)
        self.rebuild_token: int | None = None
        self._ensure_schema()
        if self._own_tables:
            ledger.reference_index = self  # retractions look references up here
            ledger.follow = self.following  # imports write the projections as they go

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
                self.dialect.create_stabs(conn, LIVE)
                conn.execute(
                    insert(tracking).values(
                        name=TRACKING_NAME, position=0, schema_version=SCHEMA_VERSION
                    )
                )
            elif row.schema_version != SCHEMA_VERSION:
                self._reset(conn)

    def _reset(self, conn: Connection) -> None:
        self.dialect.drop_stabs(conn, LIVE)
        for table in reversed(VIEW_TABLES):
            table.drop(conn, checkfirst=True)
        metadata.create_all(conn)
        self.dialect.create_stabs(conn, LIVE)
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
        self,
        conn: Connection,
        position: int,
        head: int,
        progress: ProgressFn | None,
        tables: Tables = LIVE,
    ) -> int:
        applied = 0
        for page in self._pages_by_aggregate(position, head):
            self.projector.apply(conn, page, tables)
            applied += len(page)
            if progress is not None:
                progress(position + applied, head)
        set_tracked(conn, head, tables)
        return applied

    def _pages_by_aggregate(
        self, position: int, head: int
    ) -> Generator[list[LedgerNotification], None, None]:
        """Events ``position``+1..``head`` in pages, by (aggregate, version)."""
        recorder = self.ledger.ledger_recorder
        after = None
        self.projector.cache_size = BATCH + 1  # finished aggregates are not needed again
        try:
            while page := recorder.select_by_aggregate(after, BATCH, head, start=position):
                yield page
                last = page[-1]
                after = (cast(UUID, last.originator_id), last.originator_version)
        finally:
            self.projector.cache_size = CACHE_SIZE
            self.projector.cache.clear()
            self.projector.segments.clear()

    def _analyze(self, applied: int, tables: Tables = LIVE) -> None:
        if applied:
            self.dialect.analyze(self.engine, [table.name for table in tables.all()])

    def rebuild(
        self,
        progress: ProgressFn | None = None,
        stop: int | None = None,
        *,
        swapping: Callable[[], None] | None = None,
    ) -> int:
        """Build every projection afresh from the log (up to ``stop``) and swap it in.

        Fresh tables fill beside the live ones (which go on answering), in transactions of
        their own; the swap is one short transaction at the end, storing a token by which
        ``rebuilt_up_to`` tells whether it committed. Stopped before that, the old ones stay
        (the next rebuild drops the leftovers). ``swapping``: a test hook inside the swap."""
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
        self.projector.segments.clear()
        fresh = fresh_tables()
        with self._writing() as conn:
            for table in reversed(fresh.all()):  # a killed rebuild's leftovers
                table.drop(conn, checkfirst=True)
            for table in fresh.all():
                table.create(conn)
            conn.execute(
                insert(fresh.tracking).values(
                    name=TRACKING_NAME, position=0, schema_version=SCHEMA_VERSION
                )
            )
        applied = self._fill(fresh, head, progress)
        with self._writing() as conn:
            self.dialect.before_swap(conn, fresh, LIVE)
        with self._writing() as conn:
            conn.execute(
                insert(fresh.tracking).values(
                    name=REBUILD_NAME, position=token, schema_version=SCHEMA_VERSION
                )
            )
            self.dialect.swap(conn, fresh, LIVE)
            if swapping is not None:
                swapping()
        self._analyze(applied)
        return applied + self.catch_up(progress, stop)

    def _fill(self, fresh: Tables, head: int, progress: ProgressFn | None) -> int:
        applied = 0  # events 1..head, PAGES_PER_COMMIT pages a transaction
        pages = self._pages_by_aggregate(0, head)
        # The fill allocates millions of objects that live until their page is written: the
        # cyclic collector would walk them again and again (about a tenth of the CPU), so it
        # runs once a transaction instead.
        collecting = gc.isenabled()
        gc.disable()
        try:
            while True:
                gc.collect()
                with self._writing() as conn:
                    for _ in range(PAGES_PER_COMMIT):
                        page = next(pages, None)
                        if page is None:
                            set_tracked(conn, head, fresh)
                            return applied
                        self.projector.apply(conn, page, fresh)
                        applied += len(page)
                        if progress is not None:
                            progress(applied, head)
        finally:
            pages.close()
            if collecting:
                gc.enable()

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

    def following(self) -> Following | None:
        """The bulk path's read side (``projections.following``), or None when this process
        cannot write the projections: the catch-up after the write then says why."""
        if self.read_only:
            return None
        from projections.following import Following

        return Following(self)

    def close(self) -> None:
        if self.ledger.reference_index is self:
            self.ledger.reference_index = None
            self.ledger.follow = None
        self.engine.dispose()

    # ------------------------------------------------------------------ references

    def referencing(
        self, *, subject: str | None = None, authority: str | None = None
    ) -> tuple[int, dict[UUID, int]]:
        """The write side's ``ReferenceIndex`` (see ``queries.referencing``)."""
        with self.engine.connect() as conn:
            return queries.referencing(conn, subject=subject, authority=authority)
