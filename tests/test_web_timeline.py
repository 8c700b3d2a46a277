"""The timeline picture's layout from a subject's timeline rows (no database needed)."""

from __future__ import annotations

from datetime import date

from projections.queries import Fact, Lane, Stretch, SubjectRow, Timeline
from web.pages import env
from web.timeline import layout

SUBJECT = SubjectRow("x", "<b>X</b>", "person", [], None, None, None)


def stretch(start: date, end: date | None, **extra: object) -> Stretch:
    values: dict[str, object] = {
        "valid_from": start, "valid_to": end, "period_start": start, "period_end": end,
        "measures": ["asset-freeze"], "previous_measures": None, "legal_act": None,
        "reason": None, "ended_by": None, **extra,
    }  # fmt: skip
    return Stretch(**values)  # type: ignore[arg-type]


def test_an_uncertain_start_is_shaded_before_the_bar_and_ends_where_it_starts() -> None:
    tl = Timeline(SUBJECT, 9, [
        Lane("UN", "R1", [stretch(date(2018, 10, 29), None, listed_after=date(2018, 6, 1))]),
        Lane("US-OFAC", "R2", [stretch(date(2021, 6, 1), None, start_unknown=True)]),
        Lane("EU", "R3", [stretch(date(2020, 1, 1), date(2020, 12, 31))]),
    ], [], [])  # fmt: skip
    picture = layout(tl, date(2021, 3, 3))
    un, ofac, eu = picture.lanes
    assert len(un.windows) == 1 and len(ofac.windows) == 1 and eu.windows == []
    window, bar = un.windows[0], un.bars[0]
    assert round(window.x + window.width, 1) == bar.x
    assert "possibly listed from 2018-06-02 before 2018-10-29" in window.label
    assert ofac.windows[0].x == 8.0  # no lower bound: from the picture's left edge
    assert eu.bars[0].open_end is False and un.bars[0].open_end is True


def test_the_picture_escapes_every_text_and_joins_announced_lanes() -> None:
    announce = Fact(
        7,
        "announcement",
        date(2021, 3, 2),
        "<i>T</i>",
        None,
        None,
        None,
        ["US-OFAC", "EU"],
        ["x"],
        None,
        [],
        "2021-03-10T00:00:00.000000+00:00",
    )
    tl = Timeline(SUBJECT, 9, [
        Lane("EU", "<script>alert(1)</script>", [stretch(date(2021, 3, 2), None)]),
        Lane("US-OFAC", "EO 13661", [stretch(date(2021, 3, 2), None)]),
    ], [], [announce])  # fmt: skip
    picture = layout(tl, date(2021, 3, 3))
    assert len(picture.links) == 1 and picture.links[0].x == picture.lanes[0].bars[0].x
    html = env.from_string(
        "{% for l in p.lanes %}<text>{{ l.regime }}</text>{% endfor %}"
        "{% for f in p.facts %}<title>{{ f.label }}</title>{% endfor %}"
    ).render(p=picture)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "&lt;i&gt;T&lt;/i&gt;" in html


def test_a_partys_lanes_follow_the_subjects_own_each_labelled_with_its_subject() -> None:
    own = Timeline(SUBJECT, 9, [Lane("EU", "R1", [stretch(date(2021, 3, 2), None)])], [], [])
    other = Timeline(
        SubjectRow("y", "Y", "person", [], None, None, None), 9,
        [Lane("UK", "R2", [stretch(date(2015, 1, 1), date(2016, 1, 1))])], [], [],
    )  # fmt: skip
    alone = layout(own, date(2021, 3, 3))
    assert [(lane.subject, lane.authority) for lane in alone.lanes] == [("", "EU")]
    party = layout(own, date(2021, 3, 3), [other])
    assert [(lane.subject, lane.authority) for lane in party.lanes] == [("x", "EU"), ("y", "UK")]
    assert party.lanes[1].bars[0].x < party.lanes[0].bars[0].x  # the span covers both
    assert party.height > alone.height
    assert "linked y, Y: UK (R2): 2015-01-01 to 2016-01-01" in party.description
