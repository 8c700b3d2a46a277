"""A read side built from empty reads the log aggregate by aggregate; it must equal one
caught up in order of record, on both stores and across page boundaries."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest.mock import patch

import pytest
from support import dump_views, load_bench

from ledger import Ledger
from ledger.records import read_jsonl
from projections import Views
from projections.integrity import differences_from_rebuild
from projections.tables import VIEW_TABLES


@contextmanager
def imported_history(url: str, folder: Path, events: int = 3000) -> Iterator[Views]:
    """A ledger holding a generated history, its projections not caught up yet."""
    history = folder / "history.jsonl"
    load_bench().generate(history, events, 11)
    ledger = Ledger(url, user="test")
    try:
        with history.open("rb") as f:
            ledger.import_events(read_jsonl(f))  # no read side open: no bulk path
        views = Views(ledger)
    except BaseException:
        ledger.close()
        raise
    try:
        yield views
    finally:
        views.close()
        ledger.close()


def test_catching_up_by_aggregate_equals_catching_up_in_order(db_url: str, tmp_path: Path) -> None:
    with imported_history(db_url, tmp_path) as views:
        with patch("projections.views.BATCH", 10**9):  # one batch: in order of record
            views.catch_up()
        in_order = dump_views(views)
        assert sum(map(len, in_order.values())) > 3000

        with patch("projections.views.BATCH", 250):
            # From empty, in pages that end inside aggregates' histories.
            views.rebuild()
            assert dump_views(views) == in_order
            # From a non-empty read side: aggregates with events on both sides of 1200.
            views.rebuild(stop=1200)
            assert views.position() == 1200
            views.catch_up()
            assert views.position() == 3000
            assert dump_views(views) == in_order
            # The scratch rebuild of verify (an SQLite file) is built by aggregate too.
            assert differences_from_rebuild(views) == []


@pytest.mark.postgres
def test_a_bulk_catch_up_on_postgresql_leaves_planner_statistics(
    postgres_url: str, tmp_path: Path
) -> None:
    with imported_history(postgres_url, tmp_path) as views:
        assert views.catch_up() == 3000
        with views.engine.connect() as conn:
            analyzed = dict(
                conn.exec_driver_sql(
                    "SELECT relname, last_analyze IS NOT NULL FROM pg_stat_user_tables "
                    "WHERE schemaname = current_schema() AND relname LIKE 'view_%%'"
                ).fetchall()
            )
        assert analyzed == {t.name: True for t in VIEW_TABLES}
