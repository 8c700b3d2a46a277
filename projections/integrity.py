"""Projections are derived data: check that they equal a fresh rebuild from the log."""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

from sqlalchemy import Connection, Table, select

from ledger.errors import IntegrityFailure
from ledger.integrity import ChainReport, KeptHead, stored_rows, verify_chain
from ledger.records import to_json
from projections.catchup import ProgressFn
from projections.dialect import sqlite_engine
from projections.tables import VIEW_TABLES, content_columns, tracking
from projections.views import Views

T = TypeVar("T")


def _canonical(row: Any) -> bytes:
    return json.dumps(to_json(list(row)), sort_keys=True, ensure_ascii=False).encode()


def table_fingerprint(conn: Connection, table: Table) -> tuple[int, int]:
    """Row count and an order-independent hash of the rows (stores sort text differently)."""
    count, total = 0, 0
    for row in conn.execute(select(*content_columns(table))):
        count += 1
        total = (total + int.from_bytes(hashlib.sha256(_canonical(row)).digest()[:16])) % (1 << 128)
    return count, total


def view_rows(views: Views) -> dict[str, list[tuple[str, ...]]]:
    """Every projection table's rows, order-free and without surrogate ids: two builds of
    the same log compare equal (the tests' and the benchmarks' comparison)."""
    with views.engine.connect() as conn:
        return {
            t.name: sorted(
                tuple(map(repr, row)) for row in conn.execute(select(*content_columns(t)))
            )
            for t in VIEW_TABLES
            if t is not tracking
        }


def differences_from_rebuild(views: Views, progress: ProgressFn | None = None) -> list[str]:
    """Tables whose rows differ from a rebuild, up to the same position, in a scratch file."""
    position = views.position()
    with tempfile.TemporaryDirectory(prefix="sanctions-verify-") as folder:
        fresh = Views(views.ledger, engine=sqlite_engine(f"sqlite:///{folder}/fresh.db"))
        try:
            fresh.catch_up(progress, stop=position)
            problems = []
            with views.engine.connect() as mine, fresh.engine.connect() as theirs:
                for table in VIEW_TABLES:
                    if table is tracking:
                        continue
                    a, b = table_fingerprint(mine, table), table_fingerprint(theirs, table)
                    if a != b:
                        problems.append(
                            f"{table.name} ({a[0]} rows, a fresh rebuild has {b[0]})"
                            if a[0] != b[0]
                            else f"{table.name} (same row count, different content)"
                        )
            return problems
        finally:
            fresh.close()


def _counted(rows: Iterable[T], progress: ProgressFn, total: int) -> Iterator[T]:
    for count, row in enumerate(rows, start=1):
        if count % 1000 == 0:
            progress(count, total)
        yield row


def verify(
    views: Views,
    kept: KeptHead | None = None,
    *,
    checking: ProgressFn | None = None,
    rebuilding: ProgressFn | None = None,
) -> ChainReport:
    """The whole check behind ``sanctions verify``; raises IntegrityFailure on the first fault.
    ``checking`` follows the chain (events, of all), ``rebuilding`` the scratch rebuild."""
    rows = stored_rows(views.ledger.recorder)
    if checking is not None:
        rows = _counted(rows, checking, views.ledger.recorder.max_notification_id() or 0)
    report = verify_chain(rows, kept)
    if report.problem is not None:
        raise IntegrityFailure(
            f"verify failed at position {report.problem.position} "
            f"({report.problem.kind}): {report.problem.message}"
        )
    if report.extends_head is False:
        assert kept is not None
        raise IntegrityFailure(
            f"the ledger does not extend the kept head {kept.digest[:16]}...: history "
            "before it was rewritten, or the head is from another ledger"
        )
    views.catch_up()
    problems = differences_from_rebuild(views, rebuilding)
    if problems:
        raise IntegrityFailure(
            "the projections differ from a fresh rebuild: "
            + "; ".join(problems)
            + " (run 'sanctions rebuild')"
        )
    return report
