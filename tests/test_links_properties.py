"""Properties of parties (subjects linked as one), over generated histories of links.

For any designations of three subjects and any sequence of links and unlinks among them:
- linking and unlinking never change any single subject's own designations;
- a party's designations are the union of its subjects' own, at every date and known-at;
- the party as the projection has it is the connected group of the links standing then;
- as known before any link, each subject answers alone;
- unlinking and linking again restores the same answer.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import postgres_schema

from ledger import Ledger
from ledger.commands import Designate, Link, RegisterSubject, Unlink
from ledger.errors import LedgerError
from projections import Views, parties, queries

SUBJECTS = ["s0", "s1", "s2"]
DAYS = [date(2021, 1, 1), date(2021, 3, 1), date(2021, 6, 1)]
ASK = [date(2020, 12, 31), *DAYS, date(2021, 12, 31)]

designations = st.lists(
    st.tuples(
        st.sampled_from(SUBJECTS), st.sampled_from(["EU", "UK", "UN"]), st.sampled_from(DAYS)
    ),
    max_size=4,
    unique_by=lambda t: (t[0], t[1]),
)
pairs = st.tuples(st.sampled_from(SUBJECTS), st.sampled_from(SUBJECTS)).filter(
    lambda p: p[0] != p[1]
)
operations = st.lists(st.tuples(st.sampled_from(["link", "unlink"]), pairs), max_size=6)


def own(views: Views, subject: str, at: date, k: int) -> set[tuple[str, str, str]]:
    with views.engine.connect() as conn:
        rows = queries.listings(conn, at=at, k=k, subject_id=subject, include_uncertain=True)
    return {(r.subject_id, r.authority, r.regime) for r in rows}


def party_answer(views: Views, subject: str, at: date, k: int) -> set[tuple[str, str, str]]:
    with views.engine.connect() as conn:
        report = parties.show(conn, subject, at=at, k=k)
    return {(r.subject_id, r.authority, r.regime) for r in report.designations}


def connected(links: set[frozenset[str]], subject: str) -> set[str]:
    group, frontier = {subject}, [subject]
    while frontier:
        x = frontier.pop()
        for link in links:
            if x in link:
                (other,) = link - {x}
                if other not in group:
                    group.add(other)
                    frontier.append(other)
    return group


@contextmanager
def fresh_ledger_url(store: str) -> Iterator[str]:
    """A place for one example's ledger: its own SQLite file or its own PostgreSQL schema
    (not a function-scoped fixture: every generated example needs a fresh one)."""
    if store == "sqlite":
        with tempfile.TemporaryDirectory(prefix="w18-prop-") as folder:
            yield f"sqlite:///{Path(folder) / 'p.db'}"
    else:
        with postgres_schema() as url:
            yield url


@pytest.mark.parametrize("store", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(listed=designations, ops=operations)
def test_parties_answer_as_the_union_of_their_subjects_at_every_date_and_known_at(
    store: str, listed: list[tuple[str, str, date]], ops: list[tuple[str, tuple[str, str]]]
) -> None:
    with fresh_ledger_url(store) as url:
        ledger = Ledger.init(url, user="prop")
        try:
            base = [
                RegisterSubject(subject_id=s, name=f"Person {s}", birth_date=date(1970, 1, 1))
                for s in SUBJECTS
            ]
            base += [
                Designate(subject=s, authority=a, regime="R", effective=d) for s, a, d in listed
            ]
            k_base = ledger.execute(*base)[-1].position
            standing: set[frozenset[str]] = set()
            at_k: dict[int, set[frozenset[str]]] = {k_base: set()}
            for op, (a, b) in [*ops, ("link", ("s0", "s1"))]:
                command = (Link if op == "link" else Unlink)(subjects=[a, b], reason="r")
                try:
                    position = ledger.run(command).position
                except LedgerError:
                    continue
                if op == "link":
                    standing.add(frozenset((a, b)))
                else:
                    standing.discard(frozenset((a, b)))
                at_k[position] = set(standing)
            views = Views(ledger)
            views.catch_up()
            try:
                for k, links in at_k.items():
                    for s in SUBJECTS:
                        with views.engine.connect() as conn:
                            members = set(parties.members(conn, s, k=k))
                        assert members == connected(links, s)
                        for at in ASK:
                            mine = own(views, s, at, k)
                            assert mine == own(views, s, at, k_base)  # links change no one's own
                            union = set().union(*(own(views, m, at, k) for m in members))
                            assert party_answer(views, s, at, k) == union
                            if k == k_base:
                                assert party_answer(views, s, at, k) == mine
                # s0 and s1 are linked (the last operation): unlink and link again.
                head = max(at_k)
                before = {(s, at): party_answer(views, s, at, head) for s in SUBJECTS for at in ASK}
                ledger.run(Unlink(subjects=["s0", "s1"], reason="r"))
                ledger.run(Link(subjects=["s1", "s0"], reason="again"))
                views.catch_up()
                k = views.resolve_known_at(None)
                after = {(s, at): party_answer(views, s, at, k) for s in SUBJECTS for at in ASK}
                assert after == before
            finally:
                views.close()
        finally:
            ledger.close()
