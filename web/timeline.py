"""A subject's timeline as a picture: lanes, bars and marks laid out in SVG coordinates.

The layout is computed here and drawn by the template; every text goes through the
template's escaping.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from projections.queries import Fact, Lane, Timeline
from projections.serialize import cell

WIDTH = 960
LEFT = 8
RIGHT = 8
TOP = 34
FACT_LANE = 34
LANE = 48
BAR_Y = 20
BAR_H = 16


@dataclass
class Bar:
    x: float
    width: float
    open_end: bool
    label: str
    measures: str


@dataclass
class Window:
    """Days before a certain start in which an undated listing may have happened."""

    x: float
    width: float
    label: str


@dataclass
class Mark:
    x: float
    kind: str  # amended, delisted, expired, annulled, ruling, announcement, annulment
    label: str
    href: str | None = None


@dataclass
class LaneBox:
    authority: str
    regime: str
    y: float
    start: str
    subject: str = ""
    """The linked subject whose lane this is, when the picture is a party's (else "")."""
    bars: list[Bar] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)
    windows: list[Window] = field(default_factory=list)


@dataclass
class Link:
    """An announcement joining the lanes of the authorities it names."""

    x: float
    y1: float
    y2: float
    label: str


@dataclass
class Tick:
    x: float
    label: str


@dataclass
class Picture:
    width: int
    height: int
    lanes: list[LaneBox]
    facts: list[Mark]
    links: list[Link]
    ticks: list[Tick]
    at_x: float | None
    at_label: str
    description: str


def _span(tl: Timeline, at: date, lanes: Sequence[Lane]) -> tuple[date, date]:
    days = [at]
    for lane in lanes:
        for s in lane.stretches:
            days.append(s.valid_from)
            if s.listed_after is not None:
                days.append(s.listed_after)
            if s.valid_to is not None:
                days.append(s.valid_to)
    days += [f.date for f in tl.rulings + tl.announcements]
    first, last = min(days), max(days)
    pad = max(timedelta(days=30), (last - first) / 12)
    return first - pad, last + pad


def layout(tl: Timeline, at: date, party: Sequence[Timeline] = ()) -> Picture:
    """The picture of ``tl``; with ``party`` (the timelines of the subjects linked to it, as
    known at the same position) their lanes follow its own, each labelled with its subject."""
    owned = [(tl.subject.subject_id if party else "", lane) for lane in tl.lanes]
    owned += [(other.subject.subject_id, lane) for other in party for lane in other.lanes]
    first, last = _span(tl, at, [lane for _, lane in owned])
    total = (last - first).days or 1
    inner = WIDTH - LEFT - RIGHT

    def x(day: date) -> float:
        return round(LEFT + inner * (day - first).days / total, 1)

    lanes: list[LaneBox] = []
    lane_y: dict[str, list[float]] = {}
    for index, (subject, lane) in enumerate(owned):
        y = TOP + FACT_LANE + index * LANE
        box = LaneBox(
            lane.authority,
            lane.regime,
            y,
            min(s.period_start for s in lane.stretches).isoformat(),
            subject,
        )
        lane_y.setdefault(lane.authority, []).append(y)
        for s in lane.stretches:
            end = s.valid_to + timedelta(days=1) if s.valid_to is not None else last
            until = s.valid_to.isoformat() if s.valid_to is not None else "open"
            box.bars.append(
                Bar(
                    x(s.valid_from),
                    max(2.0, x(end) - x(s.valid_from)),
                    s.valid_to is None,
                    f"{lane.authority} {lane.regime}: {s.valid_from} to {until}; "
                    f"{cell(s.measures)}",
                    cell(s.measures),
                )
            )
            if s.valid_from == s.period_start and (s.listed_after or s.start_unknown):
                since = s.listed_after + timedelta(days=1) if s.listed_after else first
                box.windows.append(
                    Window(
                        x(since),
                        max(2.0, x(s.valid_from) - x(since)),
                        f"{lane.authority} {lane.regime}: possibly listed "
                        + (f"from {since}" if s.listed_after else "on any day")
                        + f" before {s.valid_from} (the source gives no date)",
                    )
                )
            if s.previous_measures is not None and s.valid_from != s.period_start:
                box.marks.append(
                    Mark(x(s.valid_from), "amended", f"amended {s.valid_from}: {cell(s.measures)}")
                )
            if s.ended_by and s.period_end is not None and s.valid_to == s.period_end:
                ended = s.period_end + timedelta(days=1)
                box.marks.append(Mark(x(ended), s.ended_by, f"{s.ended_by} {ended}"))
        lanes.append(box)
    facts: list[Mark] = []
    links: list[Link] = []
    for f in tl.rulings:
        kind = "annulment" if f.annuls else "ruling"
        facts.append(Mark(x(f.date), kind, _fact_label(f), f"#position-{f.position}"))
    for f in tl.announcements:
        facts.append(Mark(x(f.date), "announcement", _fact_label(f), f"#position-{f.position}"))
        ys = [y for a in f.authorities for y in lane_y.get(a, [])]
        if ys:
            links.append(
                Link(x(f.date), TOP + FACT_LANE / 2, max(ys) + BAR_Y + BAR_H, _fact_label(f))
            )
    height = TOP + FACT_LANE + max(1, len(lanes)) * LANE + 8
    return Picture(
        width=WIDTH,
        height=height,
        lanes=lanes,
        facts=facts,
        links=links,
        ticks=_ticks(first, last, x),
        at_x=x(at) if first <= at <= last else None,
        at_label=at.isoformat(),
        description=_describe(tl, party),
    )


def _fact_label(f: Fact) -> str:
    if f.type == "ruling":
        text = f"{f.date} ruling, {f.court}: {f.outcome}"
        return text + (f" (annuls {f.annuls})" if f.annuls else "")
    return f"{f.date} announcement: {f.title} ({', '.join(f.authorities)})"


def _ticks(first: date, last: date, x: object) -> list[Tick]:
    assert callable(x)
    years = last.year - first.year
    step = 1 if years <= 12 else 5 if years <= 60 else 25
    ticks = [
        Tick(x(date(year, 1, 1)), str(year))
        for year in range(first.year + 1, last.year + 1)
        if year % step == 0
    ]
    if years <= 2:  # a short span: quarters too
        ticks += [
            Tick(x(date(year, month, 1)), f"{year}-{month:02d}")
            for year in range(first.year, last.year + 1)
            for month in (4, 7, 10)
            if first < date(year, month, 1) < last
        ]
    return ticks


def _describe(tl: Timeline, party: Sequence[Timeline] = ()) -> str:
    text = _describe_one(tl)
    for other in party:
        text += f"; linked {other.subject.subject_id}, " + _describe_one(other)
    return text


def _describe_one(tl: Timeline) -> str:
    if not tl.lanes:
        return f"{tl.subject.name}: no designation as known at position {tl.known_at}"
    parts = []
    for lane in tl.lanes:
        spans = ", ".join(f"{s.valid_from} to {s.valid_to or 'open'}" for s in lane.stretches)
        parts.append(f"{lane.authority} ({lane.regime}): {spans}")
    return f"{tl.subject.name}: " + "; ".join(parts)
