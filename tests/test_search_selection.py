"""The stored index's pre-selection (distinct words weighed, then their names read a weight at
a time, the heaviest first) chooses exactly what summing every name's keys chose: the same
hits, scores, order and ties, as known at any position, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from unittest.mock import patch

import pytest
from lists_support import real_ledger_template, with_views
from sqlalchemy import case, event, func, select

from ledger import Ledger
from projections import Views, name_index
from projections.matching import TIES, Candidate, Query
from projections.name_index import StoredIndex
from projections.statements import known
from projections.tables import search_keys

# Many subjects sharing a few names, as in the benchmark's history (namesakes hold every key
# of their name), among others of names of their own (so that the shared words stay under
# the fifth of all names past which a key is not selected by).
SHARED = [
    ("Ivan Petrov", 70),
    ("Ivan Petrov Minsk", 20),
    ("Ivan Sidorov", 40),
    ("Olga Petrova", 70),
]
SYLLABLES = ["ba", "de", "fi", "go", "hu", "ka", "le", "mo", "nu", "pi"]


def own_name(i: int) -> str:
    a, b, c = (SYLLABLES[int(d)] for d in f"{i:03d}")
    return f"{a}{b}{c}ra {c}{a}{b}vic"


def names() -> list[str]:
    shared = [name for name, count in SHARED for _ in range(count)]
    return [shared[i] if i < len(shared) else own_name(i) for i in range(600)]


QUERIES = [
    "Ivan Petrov Minsk",
    "Ivan Petrov",
    "Petrov Ivan Sergeevich",
    "Olga Petrova",
    "Ivan Sidorov",
    "Sidorov",
    "Acme Trading LLC",
    "Trading Minsk",
    "Ivan Petrof",
    "Olga",
    "Jane Smith",
]


def answer(found: list[Candidate]) -> list[tuple[str, float, float, str]]:
    return [(c.subject.subject_id, c.score, c.name_score, c.matched) for c in found]


def summing_every_key(conn: Any, weights: dict[str, int], held: Any, k: int) -> Any:
    """The pre-selection as it was first: every name's rows of every key summed."""
    keys = search_keys.c
    weight = func.sum(case(weights, value=keys.key)).label("weight")
    query = (
        select(keys.rec_from, keys.ordinal, weight)
        .where(keys.key.in_(sorted(weights)), known(search_keys, k))
        .group_by(keys.rec_from, keys.ordinal)
        .order_by(weight.desc(), keys.rec_from, keys.ordinal)
        .limit(TIES)
    )
    return [(r.rec_from, r.ordinal, int(r.weight)) for r in conn.execute(query)]


def same_as_summing(views: Views, positions: list[int], queries: list[str]) -> set[int]:
    """Asserts equal answers at each position; returns how many weights the pre-selection
    read names of, for each query (the heaviest alone, or more)."""
    read: list[int] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "FROM view_search_names" in statement and "view_search_names.words IN" in statement:
            read[-1] += 1

    event.listen(views.engine, "before_cursor_execute", count)
    weights_read = set()
    try:
        for k in positions:
            stored = StoredIndex(views.engine, k)
            for q in queries:
                for kind in (None, "person"):
                    for floor in (0.5, 0.8):
                        query = Query(q, kind=kind)
                        read.append(0)
                        new = answer(stored.match(query, floor=floor, limit=25))
                        weights_read.add(read[-1])
                        with patch.object(name_index, "_best_names", summing_every_key):
                            old = answer(stored.match(query, floor=floor, limit=25))
                        assert new == old, (k, q, kind, floor)
    finally:
        event.remove(views.engine, "before_cursor_execute", count)
    return weights_read


def test_many_namesakes_are_preselected_as_by_summing_every_key_at_every_position(
    db_url: str,
) -> None:
    ledger = Ledger(db_url, user="tester")
    try:
        for i, name in enumerate(names()):
            ledger.register_subject(name, subject_id=f"s-{i}", aliases=[own_name(i + 1)])
        middle = ledger.head()[0]
        for i in range(0, 200, 3):  # renamed: the names held change with the position
            ledger.amend_subject(f"s-{i}", name=SHARED[i % len(SHARED)][0])
        ledger.retract(ledger.head()[0], reason="recorded in error")  # the last renaming
        views = Views(ledger)
        views.catch_up()
        head = views.position()
        read = same_as_summing(views, [middle // 2, middle, middle + 60, head], QUERIES)
        # Some were decided by the heaviest weight alone (namesakes), some read more.
        assert 1 in read
        assert max(read) > 1
        views.close()
    finally:
        ledger.close()


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Views]:
    folder = real_ledger_template(tmp_path_factory.getbasetemp())
    ledger, views = with_views(f"sqlite:///{folder / 'ledger.db'}")
    yield views
    views.close()
    ledger.close()


REAL_QUERIES = [
    "Muhammad",
    "Muhammad Ali",
    "Kim",
    "Bank",
    "Joint Stock Company",
    "Al Qaida",
    "Aleksandr Kalashnikov",
    "Калашников Александр",
    "محمد",
    "Abdul Rahman",
    "Trading LLC",
    "Jane Smith",
]


def test_on_the_real_lists_the_preselection_is_as_by_summing_every_key(real: Views) -> None:
    head = real.position()
    read = same_as_summing(real, [head // 3, 2 * head // 3, head], REAL_QUERIES)
    assert max(read) > 1
