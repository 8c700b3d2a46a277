"""What a designation's events mean in valid time: its periods and their segments.

This is the one statement of the designation semantics. The write side uses it to refuse
contradictory requests; the read side uses it to build the periods table.

A designation is in force on day D when, among its standing events ordered by effective date
and then by ledger order, the latest designated / delisted / annulled event on or before D is
"designated", and its end date (``until``), if any, is not before D. Measures, legal act and
reason on D come from the latest designated or amended event of the current period on or
before D (an amendment is a change: measures added and removed).

A designation whose listing date the source did not give (an official list seen only in
snapshots) is certain from its effective date and possible since ``possible_from``: the day
after the previous snapshot, or ``UNKNOWN_START`` when there was none. On a day of that
window the answer is "possibly listed", never "not listed".
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any, Literal, NamedTuple

StepKind = Literal["designated", "amended", "delisted", "annulled"]
ONE_DAY = timedelta(days=1)
UNKNOWN_START = date.min
"""``possible_from`` of a window open towards the past: listed on some date on or before."""


class Step(NamedTuple):
    """One standing event of a designation, reduced to what matters in valid time."""

    kind: StepKind
    effective: date
    order: int
    measures: frozenset[str] = frozenset()
    add_measures: frozenset[str] = frozenset()
    remove_measures: frozenset[str] = frozenset()
    until: date | None = None
    legal_act: str | None = None
    reason: str | None = None
    possible_from: date | None = None
    """A designation's first possible day, when it is certain only from ``effective``."""


# Tuples, not dataclasses: the fold runs for every projected event, and tuples are
# several times cheaper to build, hash and compare.
class Segment(NamedTuple):
    """Days ``valid_from``..``valid_to`` (inclusive; None: open) with constant terms."""

    period_start: date
    period_end: date | None
    valid_from: date
    valid_to: date | None
    measures: tuple[str, ...]
    until: date | None
    legal_act: str | None
    reason: str | None
    previous_measures: tuple[str, ...] | None
    """Measures of the segment before, in the same period; None for a period's first."""
    ended_by: str | None
    """How the period ended: 'delisted', 'annulled', 'expired'; None while open or continued."""
    possible_from: date | None = None
    """The period may have begun as early as this day (``UNKNOWN_START``: any day before);
    None when its start is certain. The same on every segment of the period."""

    def covers(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


def _order(step: Step) -> tuple[date, int]:
    return step.effective, step.order


def segments(steps: Iterable[Step]) -> list[Segment]:
    """The segments of all periods of one designation, in valid-time order."""
    # Each raw piece: [run, start, end, measures, until, legal_act, reason, ended_by,
    # possible_from (only on a piece that starts a run)].
    raw: list[list[Any]] = []
    run = 0
    first = 0  # index in raw of the current run's first piece
    active = False
    for step in sorted(steps, key=_order):
        kind = step.kind
        if kind == "designated":
            window = None
            if active:
                raw[-1][2] = step.effective - ONE_DAY
                raw[-1][7] = None
                # A later designation of the same period whose start the source does not
                # give may have begun before the period did: the period's window widens.
                possible = step.possible_from
                if possible is not None and possible < raw[first][1]:
                    held = raw[first][8]
                    raw[first][8] = possible if held is None else min(held, possible)
            else:
                run += 1
                active = True
                first = len(raw)
                if step.possible_from is not None and step.possible_from < step.effective:
                    window = step.possible_from
            raw.append(
                [
                    run,
                    step.effective,
                    None,
                    step.measures,
                    step.until,
                    step.legal_act,
                    step.reason,
                    None,
                    window,
                ]
            )
        elif kind == "amended":
            if not active:
                continue
            prev = raw[-1]
            prev[2] = step.effective - ONE_DAY
            prev[7] = None
            raw.append(
                [
                    run,
                    step.effective,
                    None,
                    (prev[3] | step.add_measures) - step.remove_measures,
                    step.until if step.until is not None else prev[4],
                    step.legal_act if step.legal_act is not None else prev[5],
                    step.reason if step.reason is not None else prev[6],
                    None,
                    None,
                ]
            )
        else:
            if not active:
                continue
            raw[-1][2] = step.effective - ONE_DAY
            raw[-1][7] = kind
            active = False

    # Expiry clips a piece; a piece ending before it starts is dropped. Contiguous pieces of
    # one run form a period; a gap (expiry, later revived) starts another.
    groups: list[list[list[Any]]] = []
    carried: dict[int, date] = {}  # the window of a dropped piece, for the next of its run
    for r in raw:
        until = r[4]
        if until is not None and (r[2] is None or until < r[2]):
            r[2] = until
            r[7] = "expired"
        if r[2] is not None and r[2] < r[1]:
            # Amended on its first day: the window of the start stays with the period.
            if r[8] is not None:
                held = carried.get(r[0])
                carried[r[0]] = r[8] if held is None else min(held, r[8])
            continue
        if r[0] in carried:
            window = carried.pop(r[0])
            r[8] = window if r[8] is None else min(r[8], window)
        if groups:
            prev_r = groups[-1][-1]
            if prev_r[0] == r[0] and prev_r[2] is not None and prev_r[2] + ONE_DAY == r[1]:
                groups[-1].append(r)
                continue
        groups.append([r])

    result: list[Segment] = []
    for group in groups:
        start, end, last = group[0][1], group[-1][2], group[-1]
        window = group[0][8]
        previous: tuple[str, ...] | None = None
        for r in group:
            measures = tuple(sorted(r[3]))
            result.append(
                Segment(
                    start,
                    end,
                    r[1],
                    r[2],
                    measures,
                    r[4],
                    r[5],
                    r[6],
                    previous,
                    r[7] if r is last else None,
                    window,
                )
            )
            previous = measures
    return result


def in_force(segs: Iterable[Segment], day: date) -> Segment | None:
    """The segment in force on ``day``, if any."""
    for seg in segs:
        if seg.covers(day):
            return seg
    return None


def possibly_in_force(segs: Iterable[Segment], day: date) -> Segment | None:
    """The first segment of a period whose uncertain start window holds ``day``, if any."""
    for seg in segs:
        window = seg.possible_from
        if (
            window is not None
            and seg.valid_from == seg.period_start
            and window <= day < seg.period_start
        ):
            return seg
    return None
