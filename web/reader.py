"""The server's one handle on the ledger: read-only, and caught up before every answer."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

import psycopg
from eventsourcing.persistence import PersistenceError
from sqlalchemy.exc import SQLAlchemyError

from ledger import Ledger, LedgerError
from ledger.errors import ProjectionsBehind
from ledger.records import parse_date
from ledger.vocabulary import today
from projections import Views
from projections.time import parse_known_at

if TYPE_CHECKING:
    from projections.name_index import StoredIndex


class BadParameter(LedgerError):
    """A request parameter is malformed; names the parameter."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter


class Reader:
    """The ledger and its projections, shared by every request of one server.

    Nothing here appends to the log. Before each answer the projections catch up with events
    the CLI appended meanwhile (a write to derived tables only); when they cannot (a ledger the
    user may only read), an answer from stale projections could say "not sanctioned" wrongly,
    so the request fails instead, unless the projections are already current.
    """

    def __init__(self, url: str) -> None:
        self.ledger = Ledger(url, user="sanctions-serve")
        self.views = Views(self.ledger)
        self._catching_up = threading.Lock()

    def current(self) -> tuple[Views, int]:
        """The projections, caught up with the log, and the position they stand at (what an
        answer without ``known_at`` knows), read afresh for every request."""
        head = self.ledger.recorder.max_notification_id() or 0
        position = self.views.position()
        if position >= head:
            return self.views, position
        with self._catching_up:
            try:
                self.views.catch_up()
            except (SQLAlchemyError, PersistenceError, psycopg.Error) as e:
                position = self.views.position()
                if position < head:
                    raise ProjectionsBehind(
                        f"the projections stop at position {position} but the log holds "
                        f"{head} events, and they could not be brought up to date "
                        f"({type(e).__name__}); run 'sanctions rebuild' with write access"
                    ) from None
        return self.views, self.views.position()

    def known_position(self, views: Views, position: int, known_at: str | None) -> int:
        """``known_at`` as the last position it includes; ``position`` (where the projections
        stand, from ``current``) when absent."""
        if known_at is None or known_at == "":
            return position
        try:
            k = views.resolve_known_at(parse_known_at(known_at))
        except LedgerError as e:
            raise BadParameter("known_at", str(e).replace("--known-at", "known_at")) from None
        # A position beyond the head knows what the head knows (and pins as the head).
        return min(k, position)

    def name_index(self, views: Views, k: int) -> StoredIndex:
        """The persistent name index as known at position ``k``."""
        from projections.name_index import StoredIndex

        return StoredIndex(views.engine, k)

    def close(self) -> None:
        self.views.close()
        self.ledger.close()


def day(value: str | None, parameter: str = "at") -> date:
    """A date parameter, YYYY-MM-DD; today (UTC) when absent."""
    if value is None or value == "":
        return today()
    try:
        return parse_date(value.strip(), parameter)
    except LedgerError as e:
        raise BadParameter(parameter, str(e)) from None


def choice(value: str | None, choices: Sequence[str], parameter: str) -> str | None:
    """One of a fixed vocabulary (measures, kinds), case-insensitive; None when absent."""
    if value is None or value == "":
        return None
    if value.lower() not in choices:
        raise BadParameter(parameter, f"{parameter} {value!r} is not one of: {', '.join(choices)}")
    return value.lower()
