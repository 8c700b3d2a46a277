"""The questions the read side answers, each over one connection as known at a position:
the query methods of ``projections.views.Views`` (which opens, catches up and rebuilds)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from typing import TypeVar

from sqlalchemy import Connection, Engine, func, select

from ledger.errors import InvalidValue
from ledger.store import format_time
from ledger.vocabulary import today
from projections import parties, queries
from projections.tables import log
from projections.time import KnownAt, parse_known_at

T = TypeVar("T")


class Answers:
    """Point-in-time questions over the projections' engine."""

    engine: Engine

    def position(self) -> int:
        """The last position the projections hold (``Views`` catches them up first)."""
        raise NotImplementedError

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
        code = authority.upper() if authority else None
        with self.engine.connect() as conn:
            found = queries.listings(
                conn,
                at=self._day(at),
                k=k,
                authority=code,
                regime=regime,
                measure=measure,
                kind=kind,
                include_uncertain=include_uncertain,
                offset=offset,
                limit=limit,
            )
            return found or _checked(conn, found, authority=code, regime=regime)

    def stream_listings(
        self,
        filters: queries.Filters,
        *,
        at: date | None = None,
        k: int,
        certain: bool = True,
        uncertain: bool = False,
    ) -> Iterator[queries.Listing]:
        """``listings`` as the rows are read (see ``queries.iter_listings``); ``k`` from
        ``resolve_known_at``, once for the certain and the uncertain part alike."""
        if filters.authority:
            filters = replace(filters, authority=filters.authority.upper())
        with self.engine.connect() as conn:
            rows = queries.iter_listings(
                conn, at=self._day(at), k=k, filters=filters, certain=certain, uncertain=uncertain
            )
            yield from _checking(conn, rows, authority=filters.authority, regime=filters.regime)

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
        code = authority.upper() if authority else None
        with self.engine.connect() as conn:
            found = queries.diff(conn, start, end, k=k, authority=code)
            return found or _checked(conn, found, authority=code)

    def announcements(
        self,
        *,
        at: date | None = None,
        authority: str | None = None,
        subject: str | None = None,
        known_at: str | KnownAt | None = None,
    ) -> list[queries.Fact]:
        k = self.resolve_known_at(known_at)
        code = authority.upper() if authority else None
        with self.engine.connect() as conn:
            found = queries.facts(conn, "announced", at=at, k=k, subject=subject, authority=code)
            return found or _checked(conn, found, authority=code, subject=subject)

    def rulings(
        self,
        *,
        at: date | None = None,
        subject: str | None = None,
        known_at: str | KnownAt | None = None,
    ) -> list[queries.Fact]:
        k = self.resolve_known_at(known_at)
        with self.engine.connect() as conn:
            found = queries.facts(conn, "ruling_recorded", at=at, k=k, subject=subject)
            return found or _checked(conn, found, subject=subject)

    # Answers as the rows are read, each over a connection held until the last row (see
    # ``projections.streams``); the methods above keep them whole.

    def stream_history(
        self, subject_id: str, *, known_at: str | KnownAt | None = None
    ) -> Iterator[queries.HistoryEntry]:
        from projections.streams import iter_history

        k = self.resolve_known_at(known_at)
        with self.engine.connect() as conn:
            yield from iter_history(conn, subject_id, k=k)

    def stream_diff(
        self,
        start: date,
        end: date,
        *,
        authority: str | None = None,
        known_at: str | KnownAt | None = None,
    ) -> Iterator[queries.Change]:
        from projections.streams import iter_diff

        if end < start:
            raise InvalidValue(f"the end date {end} is before the start date {start}")
        k = self.resolve_known_at(known_at)
        code = authority.upper() if authority else None
        with self.engine.connect() as conn:
            yield from _checking(conn, iter_diff(conn, start, end, k=k, authority=code), code)

    def stream_facts(
        self,
        type_name: str,
        *,
        at: date | None = None,
        authority: str | None = None,
        subject: str | None = None,
        known_at: str | KnownAt | None = None,
    ) -> Iterator[queries.Fact]:
        """Announcements (``announced``) or rulings (``ruling_recorded``) as read."""
        from projections.streams import iter_facts

        k = self.resolve_known_at(known_at)
        code = authority.upper() if authority else None
        with self.engine.connect() as conn:
            rows = iter_facts(conn, type_name, at=at, k=k, subject=subject, authority=code)
            yield from _checking(conn, rows, code, subject=subject)

    def parties(
        self,
        listings: list[queries.Listing],
        *,
        authority: str | None = None,
        known_at: str | KnownAt | None = None,
    ) -> list[parties.PartyRow]:
        """Listings (as ``listings`` gave them) grouped by party as known at the same K."""
        k = self.resolve_known_at(known_at)
        code = authority.upper() if authority else None
        with self.engine.connect() as conn:
            found = parties.party_rows(conn, listings, k=k, authority=code)
            return found or _checked(conn, found, authority=code)

    def subjects(self, *, known_at: str | KnownAt | None = None) -> list[queries.SubjectRow]:
        return list(self.stream_subjects(known_at=known_at))

    def stream_subjects(
        self, *, known_at: str | KnownAt | None = None
    ) -> Iterator[queries.SubjectRow]:
        """Every subject as known then, by id, as the rows are read."""
        k = self.resolve_known_at(known_at)
        with self.engine.connect() as conn:
            yield from queries.iter_subjects(conn, k=k)


def _checked(
    conn: Connection,
    empty: list[T],
    authority: str | None = None,
    regime: str | None = None,
    subject: str | None = None,
) -> list[T]:
    """An empty answer, once its filters are known to name something (``check_filters``)."""
    queries.check_filters(conn, authority=authority, regime=regime, subject=subject)
    return empty


def _checking(
    conn: Connection,
    rows: Iterator[T],
    authority: str | None = None,
    regime: str | None = None,
    subject: str | None = None,
) -> Iterator[T]:
    """``rows`` as read; if there were none, ``_checked`` before the end."""
    empty = True
    for row in rows:
        empty = False
        yield row
    if empty:
        queries.check_filters(conn, authority=authority, regime=regime, subject=subject)
