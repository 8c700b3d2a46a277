"""The designation semantics in valid time, without a database."""

from __future__ import annotations

from datetime import date

from ledger.timeline import Step, in_force, possibly_in_force, segments

D = date.fromisoformat


def designated(day: str, order: int, *measures: str, until: str | None = None) -> Step:
    return Step(
        "designated", D(day), order, measures=frozenset(measures), until=D(until) if until else None
    )


def test_designation_is_in_force_from_its_effective_date_on() -> None:
    segs = segments([designated("2021-03-02", 1, "asset-freeze")])
    assert in_force(segs, D("2021-03-01")) is None
    seg = in_force(segs, D("2021-03-02"))
    assert seg is not None and seg.measures == ("asset-freeze",)
    assert seg.period_end is None


def test_delisting_ends_the_period_the_day_before() -> None:
    segs = segments([designated("2021-03-02", 1), Step("delisted", D("2021-06-01"), 2)])
    assert in_force(segs, D("2021-05-31")) is not None
    assert in_force(segs, D("2021-06-01")) is None
    assert segs[0].period_end == D("2021-05-31") and segs[0].ended_by == "delisted"


def test_end_date_is_the_last_day_in_force() -> None:
    segs = segments([designated("2021-03-02", 1, until="2021-12-31")])
    assert in_force(segs, D("2021-12-31")) is not None
    assert in_force(segs, D("2022-01-01")) is None
    assert segs[0].ended_by == "expired"


def test_amendment_changes_measures_from_its_date() -> None:
    segs = segments(
        [
            designated("2021-03-02", 1, "asset-freeze"),
            Step(
                "amended",
                D("2021-04-01"),
                2,
                add_measures=frozenset({"travel-ban"}),
                remove_measures=frozenset({"asset-freeze"}),
            ),
        ]
    )
    first, second = segs
    assert first.measures == ("asset-freeze",) and first.valid_to == D("2021-03-31")
    assert second.measures == ("travel-ban",) and second.previous_measures == ("asset-freeze",)
    assert first.period_start == second.period_start == D("2021-03-02")


def test_late_amendment_takes_its_place_in_valid_time() -> None:
    # Recorded last (order 3) but effective between the two others.
    segs = segments(
        [
            designated("2021-03-01", 1, "asset-freeze"),
            Step("amended", D("2021-03-10"), 2, add_measures=frozenset({"travel-ban"})),
            Step("amended", D("2021-03-05"), 3, remove_measures=frozenset({"asset-freeze"})),
        ]
    )
    assert [s.measures for s in segs] == [("asset-freeze",), (), ("travel-ban",)]


def test_redesignation_after_delisting_is_a_second_period() -> None:
    segs = segments(
        [
            designated("2021-01-01", 1),
            Step("delisted", D("2021-02-01"), 2),
            designated("2021-02-01", 3),
        ]
    )
    assert [(s.period_start, s.period_end) for s in segs] == [
        (D("2021-01-01"), D("2021-01-31")),
        (D("2021-02-01"), None),
    ]


def test_annulment_ends_like_a_delisting() -> None:
    segs = segments([designated("2021-01-01", 1), Step("annulled", D("2021-07-01"), 2)])
    assert in_force(segs, D("2021-07-01")) is None and segs[0].ended_by == "annulled"


def test_delisting_or_amending_what_is_not_in_force_has_no_effect() -> None:
    segs = segments(
        [
            Step("delisted", D("2021-01-01"), 1),
            Step("amended", D("2021-01-02"), 2, add_measures=frozenset({"other"})),
            designated("2021-02-01", 3, "asset-freeze"),
        ]
    )
    assert len(segs) == 1 and segs[0].measures == ("asset-freeze",)


def window(day: str, order: int, possible: str) -> Step:
    return Step("designated", D(day), order, possible_from=D(possible))


def test_an_uncertain_start_is_possible_in_its_window_and_certain_from_the_effective_date() -> None:
    segs = segments(
        [
            window("2021-07-07", 1, "2021-06-02"),
            Step("amended", D("2021-08-01"), 2, add_measures=frozenset({"other"})),
        ]
    )
    assert [s.possible_from for s in segs] == [D("2021-06-02"), D("2021-06-02")]
    assert possibly_in_force(segs, D("2021-06-01")) is None
    assert possibly_in_force(segs, D("2021-06-02")) is segs[0]
    assert possibly_in_force(segs, D("2021-07-06")) is segs[0]
    assert possibly_in_force(segs, D("2021-07-07")) is None
    assert in_force(segs, D("2021-07-07")) is segs[0]


def test_a_designation_that_continues_a_period_adds_no_window() -> None:
    segs = segments([designated("2021-03-02", 1), window("2021-07-07", 2, "2021-06-02")])
    assert [s.possible_from for s in segs] == [None, None]
    assert possibly_in_force(segs, D("2021-03-01")) is None


def test_a_later_period_keeps_its_own_window() -> None:
    segs = segments(
        [
            designated("2021-03-02", 1),
            Step("delisted", D("2021-05-01"), 2),
            window("2021-07-07", 3, "2021-06-02"),
        ]
    )
    assert [s.possible_from for s in segs] == [None, D("2021-06-02")]
    assert possibly_in_force(segs, D("2021-05-15")) is None
    assert possibly_in_force(segs, D("2021-06-15")) is segs[1]


def test_an_uncertain_start_amended_on_its_first_day_keeps_its_window() -> None:
    segs = segments(
        [
            window("2021-07-07", 1, "2021-06-02"),
            Step("amended", D("2021-07-07"), 2, add_measures=frozenset({"travel-ban"})),
        ]
    )
    assert [(s.valid_from, s.possible_from) for s in segs] == [(D("2021-07-07"), D("2021-06-02"))]
    assert possibly_in_force(segs, D("2021-06-15")) is not None


def test_a_later_uncertain_start_in_the_same_period_widens_its_window() -> None:
    segs = segments([Step("designated", D("2021-06-20"), 1), window("2021-07-07", 2, "2021-06-02")])
    assert segs[0].period_start == D("2021-06-20")
    assert possibly_in_force(segs, D("2021-06-10")) is not None
    assert possibly_in_force(segs, D("2021-06-01")) is None
