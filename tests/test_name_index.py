"""The persistent search index: kept by the catch-up, equal to a rebuild, and answering as
the in-memory index of the subjects known at the same position would."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lists_support import real_ledger_template, with_views
from sqlalchemy import func, select
from support import bench_script, load_bench

from ledger import Ledger, LedgerError
from ledger.records import read_jsonl
from projections import Views
from projections.matching import Candidate, MatchIndex, Query, build_index, words
from projections.name_index import StoredIndex
from projections.tables import search_keys, search_names, search_terms, search_words

INDEX_TABLES = [search_names, search_keys, search_terms, search_words]

NAMES = [
    "Igor Krasnov",
    "Игорь Краснов",
    "KRASNOV, Igor Viktorovich",
    "Kim Jong Un",
    "김정은",
    "Aleksandr Kalashnikov",
    "KALASHNIKOV CONCERN",
    "Abd al-Khaliq al-Houthi",
    "عبدالخالق الحوثي",
    "Li Xin",
    "Ivanov",
    "-- !",  # no letters: never indexed
]
QUERIES = ["Igor Krasnov", "Kalashnikov", "Ким Чен Ын", "عبد الخالق", "Li Xin", "Ivanov Igor"]
SUBJECT_IDS = ["s-one", "s-two", "s-three"]


def dump(views: Views) -> dict[str, list[tuple[Any, ...]]]:
    with views.engine.connect() as conn:
        return {t.name: sorted(tuple(row) for row in conn.execute(select(t))) for t in INDEX_TABLES}


def answer(found: list[Candidate]) -> list[tuple[str, float, float, str]]:
    return [(c.subject.subject_id, c.score, c.name_score, c.matched) for c in found]


def same_answers(views: Views, k: int, queries: list[str] = QUERIES) -> None:
    """The stored index as known at ``k`` answers as an in-memory index of the subjects
    known at ``k``."""
    stored = StoredIndex(views.engine, k)
    memory = build_index(views.subjects(known_at=str(k)))
    for q in queries:
        for kind in (None, "person"):
            query = Query(q, kind=kind)
            a = answer(stored.match(query, floor=0.5, limit=10))
            b = answer(memory.match(query, floor=0.5, limit=10))
            assert a == b, (k, q, kind)


# ------------------------------------------------------------------ random histories

register = st.tuples(
    st.just("register"),
    st.sampled_from(SUBJECT_IDS),
    st.sampled_from(NAMES),
    st.lists(st.sampled_from(NAMES), max_size=3),
)
amend = st.tuples(
    st.just("amend"),
    st.sampled_from(SUBJECT_IDS),
    st.none() | st.sampled_from(NAMES),
    st.lists(st.sampled_from(NAMES), max_size=2),
    st.lists(st.sampled_from(NAMES), max_size=2),
)
other = st.tuples(st.just("nationality"), st.sampled_from(SUBJECT_IDS), st.sampled_from("AB"))
retract = st.tuples(st.just("retract"), st.integers(min_value=0, max_value=30))
operation = st.one_of(register, amend, amend, other, retract)


def run(ledger: Ledger, op: tuple[Any, ...]) -> None:
    """One operation; what the write side refuses is skipped."""
    try:
        if op[0] == "register":
            ledger.register_subject(op[2], subject_id=op[1], aliases=op[3])
        elif op[0] == "amend":
            _, sid, name, add, remove = op
            ledger.amend_subject(
                sid, name=name, add_aliases=add, remove_aliases=[r for r in remove if r not in add]
            )
        elif op[0] == "nationality":
            ledger.amend_subject(op[1], nationality=op[2])
        else:
            head = ledger.head()[0]
            if head:
                ledger.retract(1 + op[1] % head, reason="recorded in error")
    except LedgerError:
        pass


def fresh() -> tuple[Ledger, Views, str]:
    folder = tempfile.mkdtemp(prefix="sl-index-")
    ledger = Ledger.init(f"sqlite:///{folder}/ledger.db", user="prop")
    return ledger, Views(ledger), folder


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    ops=st.lists(operation, min_size=1, max_size=20),
    catch_up_after=st.sets(st.integers(min_value=0, max_value=19)),
    batch=st.integers(min_value=1, max_value=5),
)
def test_the_index_caught_up_event_by_event_equals_a_rebuild_and_answers_as_known_at_k(
    ops: list[tuple[Any, ...]], catch_up_after: set[int], batch: int
) -> None:
    ledger, views, folder = fresh()
    try:
        with patch("projections.views.BATCH", batch):  # batches end inside histories
            for i, op in enumerate(ops):
                run(ledger, op)
                if i in catch_up_after:
                    views.catch_up()
            views.catch_up()
            incremental = dump(views)
            head = views.position()
            for k in range(head + 1):
                same_answers(views, k)
            views.rebuild()
        assert dump(views) == incremental
    finally:
        views.close()
        ledger.close()
        shutil.rmtree(folder, ignore_errors=True)


# ------------------------------------------------------------------ both stores


def test_names_open_and_close_with_the_subject_and_only_when_they_change(db_url: str) -> None:
    ledger = Ledger(db_url, user="test")
    views = Views(ledger)
    try:
        ledger.register_subject("Igor Krasnov", subject_id="krasnov", aliases=["Игорь Краснов"])
        ledger.amend_subject("krasnov", nationality="Russia")  # no name changes: no rows
        ledger.amend_subject("krasnov", add_aliases=["KRASNOV, Igor Viktorovich"])
        ledger.amend_subject("krasnov", remove_aliases=["Игорь Краснов"])
        ledger.register_subject("Kim Jong Un", subject_id="kim", kind="person")
        ledger.retract(5, reason="recorded in error")
        views.catch_up()
        with views.engine.connect() as conn:
            rows = conn.execute(
                select(
                    search_names.c.subject_id,
                    search_names.c.name,
                    search_names.c.rec_from,
                    search_names.c.rec_to,
                    search_names.c.words,
                ).order_by(search_names.c.rec_from, search_names.c.ordinal)
            ).all()
            everyone = conn.execute(
                select(search_terms.c.names).where(search_terms.c.key == "")
            ).scalar()
            krasnov_keys = conn.execute(
                select(func.count()).where(search_keys.c.key == "krasnov")
            ).scalar()
        assert [tuple(r) for r in rows] == [
            ("krasnov", "Igor Krasnov", 1, None, "igor krasnov"),
            ("krasnov", "Игорь Краснов", 1, 4, "igor krasnov"),
            ("krasnov", "KRASNOV, Igor Viktorovich", 3, None, "krasnov igor viktorovich"),
            ("kim", "Kim Jong Un", 5, 6, "kim jong un"),
        ]
        assert everyone == 2  # names held at the head
        assert krasnov_keys == 3
        for k in range(7):
            same_answers(views, k)
        found = StoredIndex(views.engine, 3).match(Query("Игорь Краснов"), floor=0.8)
        assert [(c.subject.subject_id, c.score) for c in found] == [("krasnov", 1.0)]
        assert StoredIndex(views.engine, 0).match(Query("Igor Krasnov"), floor=0.5) == []
        assert StoredIndex(views.engine, 6).match(Query("Kim Jong Un"), floor=0.8) == []
        assert StoredIndex(views.engine, 5).match(Query("Kim Jong Un"), floor=0.8) != []
    finally:
        views.close()
        ledger.close()


# ------------------------------------------------------------------ the real lists


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Views, MatchIndex]]:
    folder = real_ledger_template(tmp_path_factory.getbasetemp())
    ledger, views = with_views(f"sqlite:///{folder / 'ledger.db'}")
    yield views, build_index(views.subjects())
    views.close()
    ledger.close()


REAL_QUERIES = [
    "Aleksandr Kalashnikov",
    "Калашников Александр",
    "Igor Krasnov",
    "Viktor Zolotoff",
    "Умаров Доку",
    "Эмират Кавказ",
    "SAYF AL-ADL",
    "Mohammed Omar Ghulam Nabi",
    "Yun Ho-jin",
    "aerocaribean airlines",
    "Muhammad Ali",
    "Kim",
    "محمد",
    "Joint Stock Company Bank",
    "Jane Smith",
]


def test_on_the_real_lists_the_stored_index_answers_as_the_in_memory_one(
    real: tuple[Views, MatchIndex],
) -> None:
    """(A query tying more than ``TIES`` names, such as "Bank" alone, may score other names
    of the tie: which ones depends on the order of storage.)"""
    views, memory = real
    stored = StoredIndex(views.engine, views.position())
    for q in REAL_QUERIES:
        for floor in (0.6, 0.8):
            a = answer(stored.match(Query(q), floor=floor, limit=10))
            b = answer(memory.match(Query(q), floor=floor, limit=10))
            assert a == b, q


def test_the_stored_words_are_the_matchers_folding() -> None:
    """The index stores ``words`` of every name: if this folding changes, bump
    ``projections.tables.SCHEMA_VERSION`` (every ledger then rebuilds its index) and update
    the expected words here."""
    assert {n: " ".join(words(n)) for n in NAMES} == {
        "Igor Krasnov": "igor krasnov",
        "Игорь Краснов": "igor krasnov",
        "KRASNOV, Igor Viktorovich": "krasnov igor viktorovich",
        "Kim Jong Un": "kim jong un",
        "김정은": "gim jong un",
        "Aleksandr Kalashnikov": "aleksandr kalashnikov",
        "KALASHNIKOV CONCERN": "kalashnikov konkern",
        "Abd al-Khaliq al-Houthi": "abd al khalik al huthi",
        "عبدالخالق الحوثي": "bdlkhlk lhvthi",
        "Li Xin": "li ksin",
        "Ivanov": "ivanov",
        "-- !": "",
    }


def test_the_benchmarks_index_from_the_subject_views_equals_the_catch_ups(tmp_path: Path) -> None:
    """bench/search.py adds the index to a copy of an older 1M ledger from its subject views
    (a full rebuild takes hours on a loaded machine): the rows must be the catch-up's."""
    history = tmp_path / "history.jsonl"
    load_bench().generate(history, 3000, 11)
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    ledger = Ledger.init(url, user="test")
    views = Views(ledger)
    try:
        with history.open("rb") as f:
            ledger.import_events(read_jsonl(f))
        views.catch_up()
        caught_up = dump(views)
        assert len(caught_up["view_search_names"]) > 200
        assert any(r[2] is not None for r in caught_up["view_search_names"])  # some closed
    finally:
        views.close()
        ledger.close()
    bench_script("search").add_index_from_views(str(tmp_path / "ledger.db"))
    ledger = Ledger(url, user="test")
    views = Views(ledger)
    try:
        assert dump(views) == caught_up
    finally:
        views.close()
        ledger.close()
