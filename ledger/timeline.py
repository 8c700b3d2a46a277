"""What a designation's events mean in valid time: its periods and their segments.

This is the one statement of the designation semantics. The write side uses it to refuse
contradictory requests; the read side uses it to build the periods table.

A designation is in force on day D when, among its standing events ordered by effective date
and then by ledger order, the latest designated / delisted / annulled event on or before D is
"designated", and its end date (``until``), if any, is not before D. Measures, legal act and
reason on D come from the latest designated or amended event of the current period on or
before D (an amendment is a change: measures added and removed).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Literal

StepKind = Literal["designated", "amended", "delisted", "annulled"]
ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Step:
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


@dataclass(frozen=True)
class Terms:
    measures: frozenset[str]
    until: date | None
    legal_act: str | None
    reason: str | None


@dataclass(frozen=True)
class Segment:
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

    def covers(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


@dataclass
class _Raw:
    run: int
    start: date
    end: date | None
    terms: Terms
    ended_by: str | None = None


def segments(steps: Iterable[Step]) -> list[Segment]:
    """The segments of all periods of one designation, in valid-time order."""
    raw: list[_Raw] = []
    run = 0
    active = False

    def close(day: date, how: str | None) -> None:
        last = raw[-1]
        last.end = day - ONE_DAY
        last.ended_by = how

    for step in sorted(steps, key=lambda s: (s.effective, s.order)):
        if step.kind == "designated":
            if active:
                close(step.effective, None)
            else:
                run += 1
                active = True
            terms = Terms(step.measures, step.until, step.legal_act, step.reason)
            raw.append(_Raw(run, step.effective, None, terms))
        elif step.kind == "amended":
            if not active:
                continue
            prev = raw[-1].terms
            close(step.effective, None)
            terms = Terms(
                (prev.measures | step.add_measures) - step.remove_measures,
                step.until if step.until is not None else prev.until,
                step.legal_act if step.legal_act is not None else prev.legal_act,
                step.reason if step.reason is not None else prev.reason,
            )
            raw.append(_Raw(run, step.effective, None, terms))
        else:
            if not active:
                continue
            close(step.effective, step.kind)
            active = False

    clipped: list[_Raw] = []
    for r in raw:
        until = r.terms.until
        if until is not None and (r.end is None or until < r.end):
            r = replace(r, end=until, ended_by="expired")
        if r.end is not None and r.end < r.start:
            continue
        clipped.append(r)

    # Contiguous segments of one run form a period; a gap (expiry, later revived) starts another.
    groups: list[list[_Raw]] = []
    for r in clipped:
        prev_r = groups[-1][-1] if groups else None
        if (
            prev_r is not None
            and prev_r.run == r.run
            and prev_r.end is not None
            and prev_r.end + ONE_DAY == r.start
        ):
            groups[-1].append(r)
        else:
            groups.append([r])

    result: list[Segment] = []
    for group in groups:
        start, end = group[0].start, group[-1].end
        previous: tuple[str, ...] | None = None
        for r in group:
            measures = tuple(sorted(r.terms.measures))
            result.append(
                Segment(
                    period_start=start,
                    period_end=end,
                    valid_from=r.start,
                    valid_to=r.end,
                    measures=measures,
                    until=r.terms.until,
                    legal_act=r.terms.legal_act,
                    reason=r.terms.reason,
                    previous_measures=previous,
                    ended_by=r.ended_by if r is group[-1] else None,
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
