"""Property tests of the projections over random valid histories.

- catching up event by event and rebuilding from scratch give identical tables;
- the answer for any (D, K) equals a straightforward replay of the events recorded up to K
  (the reference below is written from the product contract, not from ledger.timeline);
- a delisted, expired, annulled or retracted designation is never listed;
- inside the window of a designation whose start is uncertain the subject is never "not
  listed" (and the certain answer is the replay above, windows or not).
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from unittest.mock import patch

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import dump_views

from ledger import Ledger, LedgerError
from ledger.records import to_json
from projections import Views

START = date(2021, 1, 1)
HORIZON = date(2022, 6, 1)
SUBJECTS = ["anna-a", "boris-b"]
KEYS = [(s, a, r) for s in SUBJECTS for a in ("EU", "UK") for r in ("R1", "R2")]
MEASURES = ["asset-freeze", "travel-ban", "funds-prohibition"]

days = st.integers(min_value=0, max_value=30).map(lambda n: START + timedelta(days=n))
keys = st.sampled_from(KEYS[:3])  # few keys, so later operations meet earlier ones
measure_sets = st.lists(st.sampled_from(MEASURES), max_size=3, unique=True)

amendment = st.tuples(
    st.just("amend"), keys, days, measure_sets, measure_sets, st.none() | st.integers(0, 90)
)
retraction = st.tuples(st.just("retract"), st.integers(min_value=3, max_value=20))
# A designation's uncertain start: none, listed after some days before it, or unknown.
windows = st.none() | st.integers(min_value=1, max_value=20) | st.just("unknown")
operation = st.one_of(
    st.tuples(
        st.just("designate"), keys, days, measure_sets, st.none() | st.integers(0, 90), windows
    ),
    amendment,
    amendment,
    st.tuples(st.just("delist"), keys, days),
    st.tuples(st.just("annul"), keys, days),
    retraction,
    retraction,
)


def apply(ledger: Ledger, op: tuple[Any, ...]) -> bool:
    """Run one operation; refused ones (the write side's rules) are simply skipped.

    So that most operations meet a designation, amendments, delistings and annulments fall
    a few days after the key's last designation date (when there is one), and a retraction
    picks among the events recorded so far.
    """
    starts: dict[Any, date] = ledger.__dict__.setdefault("_prop_starts", {})

    def after(key: Any, day: date) -> date:
        base = starts.get(key)
        return base + (day - START) if base is not None else day

    try:
        if op[0] == "designate":
            (s, a, r), day, measures, until, window = op[1:]
            ledger.designate(
                s,
                authority=a,
                regime=r,
                effective=day,
                measures=measures,
                until=day + timedelta(days=until) if until is not None else None,
                listed_after=day - timedelta(days=window) if isinstance(window, int) else None,
                start_unknown=window == "unknown",
            )
            starts[(s, a, r)] = day
        elif op[0] == "amend":
            (s, a, r), day, add, remove, until = op[1:]
            day = after((s, a, r), day)
            try:
                ledger.amend(
                    s,
                    authority=a,
                    regime=r,
                    effective=day,
                    add_measures=add,
                    remove_measures=[m for m in remove if m not in add],
                    until=day + timedelta(days=until) if until is not None else None,
                    reason="amended",
                )
            except LedgerError:  # perhaps removing what is not there: add only
                ledger.amend(
                    s, authority=a, regime=r, effective=day, add_measures=add, reason="amended"
                )
        elif op[0] == "delist":
            (s, a, r), day = op[1:]
            ledger.delist(s, authority=a, regime=r, effective=after((s, a, r), day))
        elif op[0] == "annul":
            (s, a, r), day = op[1:]
            ledger.record_ruling(
                s,
                court="General Court",
                date=after((s, a, r), day),
                outcome="annulled",
                annuls=True,
                authority=a,
                regime=r,
            )
        else:
            head = ledger.head()[0]
            ledger.retract(3 + op[1] % max(head - 2, 1), reason="recorded in error")
    except LedgerError:
        return False
    return True


# ----------------------------------------------------------------------------- reference


@dataclass(frozen=True)
class Known:
    position: int
    type: str
    data: dict[str, Any]


def standing_events(ledger: Ledger, k: int) -> list[Known]:
    events = [Known(e.position, e.type, to_json(e.data)) for e in ledger.read_log(stop=k)]
    retracted = {e.data["position"] for e in events if e.type == "retracted"}
    return [e for e in events if e.position not in retracted and e.type != "retracted"]


def reference_state(events: list[Known], key: tuple[str, str, str], day: date) -> Any:
    """(run, measures) in force on ``day`` for one designation, or None: the contract's rule."""
    mine = [
        e
        for e in events
        if e.type in ("designated", "amended", "delisted", "ruling_recorded")
        and (e.data["subject"], e.data.get("authority"), e.data.get("regime")) == key
    ]

    def eff(e: Known) -> date:
        return date.fromisoformat(e.data.get("effective") or e.data["date"])

    state, run, measures, until = False, 0, set(), None
    for e in sorted((e for e in mine if eff(e) <= day), key=lambda e: (eff(e), e.position)):
        if e.type == "designated":
            if not state:
                run += 1
            state, measures = True, set(e.data["measures"])
            until = date.fromisoformat(e.data["until"]) if e.data["until"] else None
        elif e.type == "amended" and state:
            measures = (measures | set(e.data["add_measures"])) - set(e.data["remove_measures"])
            if e.data["until"]:
                until = date.fromisoformat(e.data["until"])
        elif e.type in ("delisted", "ruling_recorded") and state:
            state = False
    if state and (until is None or until >= day):
        return run, frozenset(measures)
    return None


def reference_listing(events: list[Known], day: date) -> set[tuple[Any, ...]]:
    rows = set()
    for key in KEYS:
        here = reference_state(events, key, day)
        if here is None:
            continue
        run, measures = here
        first = day
        while (prev := reference_state(events, key, first - timedelta(days=1))) and prev[0] == run:
            first -= timedelta(days=1)
        last: date | None = day
        while last is not None:
            nxt = reference_state(events, key, last + timedelta(days=1))
            if not nxt or nxt[0] != run:
                break
            last = None if last + timedelta(days=1) >= HORIZON else last + timedelta(days=1)
        rows.add((*key, tuple(sorted(measures)), first, last))
    return rows


def projected_listing(views: Views, day: date, k: int) -> set[tuple[Any, ...]]:
    return {
        (r.subject_id, r.authority, r.regime, tuple(r.measures), r.listed_from, r.listed_until)
        for r in views.listings(at=day, known_at=str(k))
    }


SETTINGS = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def fresh_ledger() -> tuple[Ledger, Views, str]:
    folder = tempfile.mkdtemp(prefix="sl-prop-")
    ledger = Ledger.init(f"sqlite:///{folder}/ledger.db", user="prop")
    for s in SUBJECTS:
        ledger.register_subject(s.replace("-", " ").title(), subject_id=s)
    return ledger, Views(ledger), folder


@SETTINGS
@given(
    ops=st.lists(operation, min_size=1, max_size=25),
    probes=st.lists(st.tuples(days, st.integers(0, 40)), min_size=1, max_size=8),
)
def test_projection_answers_equal_a_replay_of_the_known_events(
    ops: list[tuple[Any, ...]], probes: list[tuple[date, int]]
) -> None:
    ledger, views, folder = fresh_ledger()
    try:
        for op in ops:
            apply(ledger, op)
            views.catch_up()  # event by event
        head = ledger.head()[0]
        for day, k in probes:
            k = min(k, head)
            events = standing_events(ledger, k)
            assert projected_listing(views, day, k) == reference_listing(events, day), (day, k)
    finally:
        views.close()
        ledger.close()
        shutil.rmtree(folder)


@SETTINGS
@given(ops=st.lists(operation, min_size=1, max_size=25), page=st.sampled_from([1, 2, 3, 2000]))
def test_rebuild_equals_incremental_catch_up(ops: list[tuple[Any, ...]], page: int) -> None:
    """Small pages make the rebuild read aggregate by aggregate (as it does for any ledger
    larger than one batch), with pages ending inside an aggregate's history."""
    ledger, views, folder = fresh_ledger()
    try:
        views.catch_up()
        for op in ops:
            if apply(ledger, op):
                views.catch_up()
        incremental = dump_views(views)
        with patch("projections.views.BATCH", page):
            views.rebuild()
        assert dump_views(views) == incremental
    finally:
        views.close()
        ledger.close()
        shutil.rmtree(folder)


@SETTINGS
@given(ops=st.lists(operation, min_size=1, max_size=25), day=days)
def test_ended_or_retracted_designations_are_never_listed(
    ops: list[tuple[Any, ...]], day: date
) -> None:
    ledger, views, folder = fresh_ledger()
    try:
        for op in ops:
            apply(ledger, op)
        events = standing_events(ledger, ledger.head()[0])
        all_events = [Known(e.position, e.type, to_json(e.data)) for e in ledger.read_log()]
        retracted = {e.data["position"] for e in all_events if e.type == "retracted"}
        for row in views.listings(at=day) if views.catch_up() is not None else []:
            key = (row.subject_id, row.authority, row.regime)
            mine = [
                e
                for e in events
                if e.type != "subject_registered"
                and (e.data.get("subject"), e.data.get("authority"), e.data.get("regime")) == key
            ]
            # the latest standing designated/delisted/annulled event on or before D designates
            ordered = sorted(
                (
                    e
                    for e in mine
                    if date.fromisoformat(e.data.get("effective") or e.data["date"]) <= day
                ),
                key=lambda e: (e.data.get("effective") or e.data["date"], e.position),
            )
            last = [e for e in ordered if e.type != "amended"][-1]
            assert last.type == "designated"
            assert last.position not in retracted
            assert row.listed_until is None or row.listed_until >= day
    finally:
        views.close()
        ledger.close()
        shutil.rmtree(folder)


def reference_possible(events: list[Known], day: date) -> set[tuple[str, str, str]]:
    """Keys possibly listed on ``day``: a standing designation that starts a period, is in
    force on its effective date, and whose uncertain start window holds ``day``."""
    found = set()
    for e in events:
        if e.type != "designated":
            continue
        d = e.data
        key = (d["subject"], d["authority"], d["regime"])
        effective = date.fromisoformat(d["effective"])
        if d.get("listed_after"):
            first = date.fromisoformat(d["listed_after"]) + timedelta(days=1)
        elif d.get("start_unknown"):
            first = date.min
        else:
            continue
        starts_period = reference_state(events, key, effective - timedelta(days=1)) is None
        in_force = reference_state(events, key, effective) is not None
        if starts_period and in_force and first <= day < effective:
            found.add(key)
    return found


@SETTINGS
@given(
    ops=st.lists(operation, min_size=1, max_size=25),
    probes=st.lists(st.tuples(days, st.integers(0, 40)), min_size=1, max_size=8),
)
def test_inside_a_window_a_designation_is_never_not_listed(
    ops: list[tuple[Any, ...]], probes: list[tuple[date, int]]
) -> None:
    ledger, views, folder = fresh_ledger()
    try:
        for op in ops:
            apply(ledger, op)
        views.catch_up()
        head = ledger.head()[0]
        for day, k in probes:
            k = min(k, head)
            events = standing_events(ledger, k)
            rows = views.listings(at=day, known_at=str(k), include_uncertain=True)
            listed = {(r.subject_id, r.authority, r.regime) for r in rows}
            assert reference_possible(events, day) <= listed, (day, k)
            # the certain rows are the certain answer, untouched by the windows
            certain = [r for r in rows if r.certain]
            assert certain == views.listings(at=day, known_at=str(k)), (day, k)
            for r in rows:
                if not r.certain:
                    assert r.listed_from > day
                    assert r.listed_after is None or r.listed_after < day or r.start_unknown
    finally:
        views.close()
        ledger.close()
        shutil.rmtree(folder)
