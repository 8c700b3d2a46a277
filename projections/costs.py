"""What a query reads, for the benchmark: the figure behind issue 15's "rows read <= 2x rows
returned", counted by the read side itself (the spatial index's stab on SQLite, ``EXPLAIN
ANALYZE`` on PostgreSQL)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection

from projections.dialect import Stab, dialect_of
from projections.queries import _listing_query
from projections.tables import LIVE, authority_key, periods


def listings_cost(
    conn: Connection, *, at: date, k: int, authority: str | None = None
) -> tuple[int, int]:
    """(periods rows read, rows returned) by ``listings`` of what is certainly in force on
    ``at`` as known at ``k``, for one authority or all: the figure behind "rows read <= 2x
    rows returned" (``bench/``)."""
    stab = Stab("in_force", at, k, authority_key(authority) if authority else None)
    stmt, _ = _listing_query(conn, at, k, stab)
    if authority:
        stmt = stmt.where(periods.c.authority == authority)
    returned = len(conn.execute(stmt).all())
    return dialect_of(conn).rows_read(conn, stmt, LIVE, stab), returned
