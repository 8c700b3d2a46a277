"""``list`` and ``diff`` read the periods through spatial indexes (SQLite R*Tree, PostgreSQL
GiST): the answers must be exactly those of a plain filter over every periods row, and a
``list --authority A --at D`` must read no more rows than it returns (wanted: at most 2x).

The history is the benchmark's generator (12 authorities, amendments, delistings, late and
retracted events, uncertain starts), so the indexes meet superseded rows and windows.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select
from support import load_bench, postgres_schema, sqlite_url_in

from ledger import Ledger
from ledger.errors import LedgerError
from ledger.records import read_jsonl
from projections import Views
from projections.costs import listings_cost
from projections.dialect import Stab, dialect_of
from projections.queries import _listing_query
from projections.tables import LIVE, authority_key, periods, subjects

EVENTS = 4000


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def views(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Views]:
    """A generated history's projections, on each store (made once for the module)."""
    folder = tmp_path_factory.mktemp("stabs")
    history = folder / "history.jsonl"
    load_bench().generate(history, EVENTS, 5)
    with_windows(history)

    def made(url: str) -> Iterator[Views]:
        ledger = Ledger.init(url)
        v = Views(ledger)
        try:
            with history.open("rb") as f:
                ledger.import_events(read_jsonl(f))
            v.catch_up()
            yield v
        finally:
            v.close()
            ledger.close()

    if request.param == "sqlite":
        yield from made(sqlite_url_in(folder))
    else:
        with postgres_schema() as url:
            yield from made(url)


def with_windows(history: Path) -> None:
    """Designations whose start the source did not give (the generator makes none)."""
    lines = history.read_text(encoding="utf-8").splitlines()
    ids = [json.loads(x)["data"]["id"] for x in lines if '"subject_registered"' in x]
    rng = random.Random(9)
    extra = []
    for n, subject in enumerate(rng.sample(ids, 60)):
        effective = date(2000, 1, 1) + timedelta(days=rng.randrange(25 * 365))
        data: dict[str, Any] = {
            "subject": subject,
            "authority": rng.choice(["EU", "UN", "US-OFAC"]),
            "regime": f"Window regime {n % 3}",
            "effective": effective.isoformat(),
            "measures": ["asset-freeze"],
            "sources": ["test"],
        }
        if n % 2:
            data["start_unknown"] = True
        else:
            data["listed_after"] = (effective - timedelta(days=rng.randrange(1, 400))).isoformat()
        extra.append(json.dumps({"type": "designated", "data": data}))
    history.write_text("\n".join([*lines, *extra]) + "\n", encoding="utf-8")


def everything(views: Views) -> tuple[list[Any], dict[str, list[Any]]]:
    with views.engine.connect() as conn:
        rows = list(conn.execute(select(periods)))
        names: dict[str, list[Any]] = {}
        for s in conn.execute(select(subjects)):
            names.setdefault(s.subject_id, []).append(s)
    return rows, names


def holds(row: Any, k: int) -> bool:
    return bool(row.rec_from <= k and (row.rec_to is None or row.rec_to > k))


def named(row: Any, names: dict[str, list[Any]], k: int) -> bool:
    return any(holds(s, k) for s in names.get(row.subject_id, []))


def expected_listings(
    rows: list[Any], names: dict[str, list[Any]], day: date, k: int, authority: str | None
) -> tuple[set[tuple[Any, ...]], set[tuple[Any, ...]]]:
    """(certain, possibly) keys by the definition, over every row."""
    certain, possible = set(), set()
    for r in rows:
        if not holds(r, k) or not named(r, names, k):
            continue
        if authority is not None and r.authority != authority:
            continue
        key = (r.subject_id, r.authority, r.regime)
        if r.valid_from <= day and (r.valid_to is None or r.valid_to >= day):
            certain.add((*key, r.period_start))
        elif (
            r.possible_from is not None
            and r.possible_from <= day < r.period_start
            and r.valid_from == r.period_start
        ):
            possible.add(key)
    return certain, possible - {c[:3] for c in certain}


def probes(views: Views, count: int, seed: int) -> Iterator[tuple[date, int, str | None]]:
    rng = random.Random(seed)
    head = views.position()
    authorities = sorted({r.authority for r in everything(views)[0]})
    for _ in range(count):
        day = date(1995, 1, 1) + timedelta(days=rng.randrange(32 * 365))
        k = rng.choice([head, rng.randrange(1, head + 1)])
        yield day, k, rng.choice([*authorities, None])


def test_listings_through_the_spatial_index_equal_a_filter_over_every_row(views: Views) -> None:
    rows, names = everything(views)
    seen_uncertain = seen_past = 0
    for day, k, authority in probes(views, 120, 1):
        certain, possible = expected_listings(rows, names, day, k, authority)
        got = views.listings(authority=authority, at=day, known_at=str(k), include_uncertain=True)
        assert {
            (x.subject_id, x.authority, x.regime, x.listed_from) for x in got if x.certain
        } == certain, (day, k, authority)
        assert {(x.subject_id, x.authority, x.regime) for x in got if not x.certain} == possible
        seen_uncertain += bool(possible)
        seen_past += k < views.position() and bool(certain)
    assert seen_uncertain and seen_past  # the probes met windows and earlier knowledge


def test_a_list_of_one_authority_reads_only_the_rows_it_returns(views: Views) -> None:
    answered = 0
    with views.engine.connect() as conn:
        for day, k, authority in probes(views, 40, 2):
            read, returned = listings_cost(conn, at=day, k=k, authority=authority)
            assert read <= 2 * returned or read <= 2, (day, k, authority, read, returned)
            answered += returned
    assert answered > 1000


def test_the_plan_of_a_list_stabs_the_index_and_scans_no_periods(views: Views) -> None:
    day, k = date(2015, 6, 1), views.position()
    stab = Stab("in_force", day, k, authority_key("EU"))
    with views.engine.connect() as conn:
        stmt, _ = _listing_query(conn, day, k, stab)
        stmt = stmt.where(periods.c.authority == "EU")
        compiled = stmt.compile(dialect=conn.dialect)
        if dialect_of(conn).name == "sqlite":
            params = tuple(compiled.params[name] for name in compiled.positiontup or [])
            plan = " / ".join(
                r[3] for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", params)
            )
            assert "SCAN view_periods_in_force VIRTUAL TABLE" in plan, plan
            assert "SEARCH view_periods USING INTEGER PRIMARY KEY" in plan, plan
            assert "SCAN view_periods " not in plan + " ", plan
        else:
            plan = "\n".join(
                r[0]
                for r in conn.exec_driver_sql(f"EXPLAIN {compiled}", compiled.params).fetchall()
            )
            assert "view_periods_in_force" in plan, plan
            assert "Seq Scan on view_periods" not in plan, plan
        # Both read what they return (SQLite: counted off the R*Tree; PostgreSQL: EXPLAIN
        # ANALYZE of this very statement).
        read = dialect_of(conn).rows_read(conn, stmt, LIVE, stab)
        assert read == len(conn.execute(stmt).all()) > 0


def expected_diff(
    rows: list[Any], names: dict[str, list[Any]], start: date, end: date, k: int
) -> set[tuple[Any, ...]]:
    found = set()
    for r in rows:
        if not holds(r, k) or not named(r, names, k):
            continue
        key = (r.subject_id, r.authority, r.regime)
        if start < r.period_start <= end and r.valid_from == r.period_start:
            found.add(("added", *key, r.period_start))
        if (
            r.possible_from is not None
            and r.possible_from <= end < r.period_start
            and r.valid_from == r.period_start
        ):
            found.add(("possibly added", *key, max(r.possible_from, start + timedelta(days=1))))
        if r.period_end is not None and start <= r.period_end < end and r.valid_to == r.period_end:
            found.add(("removed", *key, r.period_end + timedelta(days=1)))
        if (
            start < r.valid_from <= end
            and r.valid_from != r.period_start
            and r.previous_measures is not None
            and set(r.previous_measures) != set(r.measures)
        ):
            found.add(("changed", *key, r.valid_from))
    return found


def test_diff_without_an_authority_equals_a_filter_over_every_row(views: Views) -> None:
    rows, names = everything(views)
    rng = random.Random(3)
    kinds: set[str] = set()
    for _ in range(30):
        start = date(1998, 1, 1) + timedelta(days=rng.randrange(27 * 365))
        end = start + timedelta(days=rng.choice([1, 30, 365, 3650]))
        k = rng.choice([views.position(), rng.randrange(1, views.position() + 1)])
        got = views.diff(start, end, known_at=str(k))
        assert {
            (c.change, c.subject_id, c.authority, c.regime, c.effective_date) for c in got
        } == expected_diff(rows, names, start, end, k), (start, end, k)
        assert len(got) == len(  # and no change twice
            {(c.change, c.subject_id, c.authority, c.regime, c.effective_date) for c in got}
        )
        # Streamed as three reads merged: still in the answer's order.
        order = {"possibly added": 0, "added": 0, "changed": 1, "removed": 2}
        keys = [
            (c.effective_date, c.authority, c.subject_id, order[c.change], c.regime) for c in got
        ]
        assert keys == sorted(keys), (start, end, k)
        kinds |= {c.change for c in got}
    assert kinds == {"added", "possibly added", "removed", "changed"}


def test_a_period_open_at_the_largest_position_is_refused_not_lost(tmp_path: Path) -> None:
    """The spatial indexes hold positions in 32 bits: beyond that the catch-up stops."""
    from projections.catchup import Projector
    from projections.dialect import OPEN_POSITION

    class Late:
        id = OPEN_POSITION

    ledger = Ledger.init(sqlite_url_in(tmp_path))
    try:
        with pytest.raises(LedgerError, match="beyond what the projections can hold"):
            Projector(ledger).apply(None, [Late()])  # type: ignore[arg-type,list-item]
    finally:
        ledger.close()


# --------------------------------------------------------------------------- references


def test_references_of_a_registration_come_from_the_index_and_equal_a_scan(views: Views) -> None:
    """Retracting a subject's or authority's registration needs the aggregates still about
    it: looked up in the projections, with only the log after them scanned."""
    from ledger.handlers import references

    ledger = views.ledger
    ledger.reference_index = views
    rows, _ = everything(views)
    authorities = sorted({r.authority for r in rows})
    subjects = sorted({r.subject_id for r in rows})[::25]
    uow = ledger.unit_of_work()
    assert uow.references is views
    starts: list[int] = []
    scan = uow.scan

    def spy(topics: Any, start: int = 1) -> Any:
        starts.append(start)
        return scan(topics, start)

    uow.scan = spy  # type: ignore[method-assign]
    indexed = {("a", a): references(uow, authority=a) for a in authorities}
    indexed |= {("s", s): references(uow, subject=s) for s in subjects}
    assert set(starts) == {views.position() + 1}  # nothing before the tail was scanned
    uow.references = None
    uow.scan = scan  # type: ignore[method-assign]
    scanned = {("a", a): references(uow, authority=a) for a in authorities}
    scanned |= {("s", s): references(uow, subject=s) for s in subjects}
    assert indexed == scanned
    assert sum(map(len, indexed.values())) > 500


def test_a_diff_without_an_authority_reads_by_index_never_the_whole_periods(views: Views) -> None:
    """Every statement a ``diff`` runs, explained: no full scan of the periods (it was three
    before, so its cost grew with the whole history rather than with the dates asked)."""
    statements: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, sql: str, params: Any, context: Any, many: bool) -> None:
        if "view_periods" in sql and not sql.startswith("EXPLAIN"):
            statements.append((sql, params))

    event.listen(views.engine, "before_cursor_execute", capture)
    try:
        views.diff(date(2010, 1, 1), date(2010, 3, 1))
    finally:
        event.remove(views.engine, "before_cursor_execute", capture)
    assert len(statements) == 3
    with views.engine.connect() as conn:
        for sql, params in statements:
            if conn.dialect.name == "sqlite":
                plan = " / ".join(
                    r[3] for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params)
                )
                assert not re.search(r"SCAN view_periods(?!_)", plan), plan
                assert "USING INDEX view_periods_" in plan or "VIRTUAL TABLE" in plan, plan
            else:
                plan = "\n".join(r[0] for r in conn.exec_driver_sql(f"EXPLAIN {sql}", params))
                assert "Seq Scan on view_periods" not in plan, plan


def test_the_references_of_an_authority_without_periods_read_a_few_index_pages(
    views: Views,
) -> None:
    """Retracting a newly registered authority's registration looks up its periods: by an
    index, in a few pages. On PostgreSQL the GiST boxes' authority dimension holds a dozen
    points, and a key between two of them fell inside most pages' boxes (146 ms at 1M events
    to find nothing): a B-tree of the key answers instead."""
    statements: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, sql: str, params: Any, context: Any, many: bool) -> None:
        if "view_periods" in sql:
            statements.append((sql, params))

    event.listen(views.engine, "before_cursor_execute", capture)
    try:
        _, found = views.referencing(authority="XX-NEVER-USED")
    finally:
        event.remove(views.engine, "before_cursor_execute", capture)
    assert found == {}
    assert len(statements) == 1
    sql, params = statements[0]
    with views.engine.connect() as conn:
        if dialect_of(conn).name == "sqlite":
            plan = " / ".join(
                r[3] for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params)
            )
            assert "SCAN view_periods_in_force VIRTUAL TABLE" in plan, plan
            assert "SCAN view_periods " not in plan + " ", plan
        else:
            (plan,) = conn.exec_driver_sql(
                f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}", params
            ).one()
            if isinstance(plan, str):
                plan = json.loads(plan)
            text = json.dumps(plan)
            assert "view_periods_authority" in text, text
            assert "Seq Scan" not in text, text
            pages = plan[0]["Plan"]["Shared Hit Blocks"] + plan[0]["Plan"]["Shared Read Blocks"]
            assert pages <= 5, text
