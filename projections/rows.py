"""The typed rows the read side answers with, and how a database row becomes one.

Without SQLAlchemy: the SQLite fast path (``projections.fast``) builds the same rows from
``sqlite3`` rows, and the command line's rendering loads no database code (start-up time).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any

from ledger.timeline import UNKNOWN_START


class Row:
    def as_dict(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload,no-any-return]


@dataclass(frozen=True)
class SubjectRow(Row):
    subject_id: str
    name: str
    kind: str
    aliases: list[str]
    birth_date: date | None
    nationality: str | None
    position: str | None
    alt_birth_dates: list[date] = field(default_factory=list)
    """Other birth dates the sources give ("alt. DOB")."""


@dataclass(frozen=True)
class Listing(Row):
    subject_id: str
    subject_name: str
    kind: str
    authority: str
    regime: str
    measures: list[str]
    listed_from: date
    listed_until: date | None
    legal_act: str | None
    reason: str | None
    certain: bool = True
    """False: the day asked about lies in the window before ``listed_from`` in which the
    listing, whose date the source did not give, may have happened: possibly listed."""
    listed_after: date | None = None
    """The start is uncertain: possibly listed since the day after this one."""
    start_unknown: bool = False
    """The start is uncertain: possibly listed on any day before ``listed_from``."""

    def window(self) -> str | None:
        """The uncertain start in words, or None when the start is certain."""
        return window_text(self.listed_after, self.start_unknown, self.listed_from)


def window_text(listed_after: date | None, start_unknown: bool, certain_from: date) -> str | None:
    """``listed on some date between 2021-06-02 and 2021-07-07; certain from 2021-07-07``."""
    if listed_after is not None:
        first = listed_after + timedelta(days=1)
        window = f"between {first} and {certain_from}"
    elif start_unknown:
        window = f"on or before {certain_from}"
    else:
        return None
    return f"listed on some date {window}; certain from {certain_from}"


@dataclass(frozen=True)
class Fact(Row):
    position: int
    type: str
    date: date
    title: str | None
    court: str | None
    outcome: str | None
    summary: str | None
    authorities: list[str]
    subjects: list[str]
    annuls: str | None
    sources: list[str]
    recorded_at: str


@dataclass(frozen=True)
class PartyLink(Row):
    """A ``linked`` event standing: two subjects recorded as one party, and why."""

    position: int
    subjects: list[str]
    reason: str
    despite: str | None
    recorded_at: str
    recorded_by: str
    sources: list[str]


@dataclass(frozen=True)
class SubjectReport(Row):
    subject: SubjectRow
    designations: list[Listing]
    """Those of the whole party (each row names its subject)."""
    rulings: list[Fact]
    announcements: list[Fact]
    party: list[SubjectRow] = field(default_factory=list)
    """The other subjects linked with it as one party (as known then)."""
    links: list[PartyLink] = field(default_factory=list)
    """The links that make the party."""


@dataclass(frozen=True)
class HistoryEntry(Row):
    position: int
    type: str
    effective_date: date | None
    recorded_at: str
    recorded_by: str
    sources: list[str]
    retracted_by: int | None
    retracts: int | None
    data: dict[str, Any]
    window: str | None = None
    """A designation whose start the source left uncertain, in words (see ``window_text``)."""


@dataclass(frozen=True)
class Change(Row):
    change: str
    subject_id: str
    subject_name: str
    authority: str
    regime: str
    effective_date: date
    details: dict[str, Any]


@dataclass(frozen=True)
class Stretch(Row):
    """Days ``valid_from``..``valid_to`` of one designation with constant terms."""

    valid_from: date
    valid_to: date | None
    period_start: date
    period_end: date | None
    measures: list[str]
    previous_measures: list[str] | None
    legal_act: str | None
    reason: str | None
    ended_by: str | None
    listed_after: date | None = None
    """An uncertain start: possibly listed since the day after this one (the timeline shades
    the window)."""
    start_unknown: bool = False
    """An uncertain start: possibly listed on any day before ``period_start``."""


@dataclass(frozen=True)
class Lane(Row):
    """One authority and regime of a subject's timeline: every stretch in valid time."""

    authority: str
    regime: str
    stretches: list[Stretch]


@dataclass(frozen=True)
class Timeline(Row):
    """A subject's whole story in valid time, as known at one position."""

    subject: SubjectRow
    known_at: int
    lanes: list[Lane]
    rulings: list[Fact]
    announcements: list[Fact]


def subject_row_of(r: Any) -> SubjectRow:
    return SubjectRow(
        r.subject_id,
        r.name,
        r.kind,
        list(r.aliases),
        r.birth_date,
        r.nationality,
        r.position_title,
        [date.fromisoformat(d) for d in r.alt_birth_dates or ()],
    )


def window_of(possible: date | None) -> tuple[date | None, bool]:
    """(listed_after, start_unknown) from a periods row's ``possible_from``."""
    if possible is None:
        return None, False
    if possible == UNKNOWN_START:
        return None, True
    return possible - timedelta(days=1), False


def listing_of(r: Any, certain: bool = True) -> Listing:
    listed_after, start_unknown = window_of(r.possible_from)
    return Listing(
        subject_id=r.subject_id,
        subject_name=r.subject_name,
        kind=r.kind,
        authority=r.authority,
        regime=r.regime,
        measures=sorted(r.measures),
        listed_from=r.period_start,
        listed_until=r.period_end,
        legal_act=r.legal_act,
        reason=r.reason,
        certain=certain,
        listed_after=listed_after,
        start_unknown=start_unknown,
    )


@dataclass(frozen=True)
class Filters:
    """What a list of designations is narrowed to."""

    authority: str | None = None
    regime: str | None = None
    measure: str | None = None
    kind: str | None = None
    subject_id: str | None = None


def fact_of(r: Any) -> Fact:
    data = r.data
    annuls = f"{data['authority']} / {data['regime']}" if data.get("annuls") else None
    return Fact(
        position=r.position,
        type="announcement" if r.type == "announced" else "ruling",
        date=r.effective_date,
        title=data.get("title"),
        court=data.get("court"),
        outcome=data.get("outcome"),
        summary=data.get("summary"),
        authorities=list(data.get("authorities", [])),
        subjects=list(data["subjects"]) if "subjects" in data else [data["subject"]],
        annuls=annuls,
        sources=list(data.get("sources", [])),
        recorded_at=r.recorded_at,
    )
