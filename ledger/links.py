"""Links: two subjects recorded as one party (or no longer), as events of the pair.

One aggregate per unordered pair of subject ids (``uuid5`` of the sorted pair), with
``linked`` and ``unlinked`` events. A link is a fact about identity, not about a date: its
events carry no effective date, only their record time, so a query as known at K uses the
links standing at K. A party is a connected group of linked subjects (links are transitive);
that grouping is the read side's (``projections.parties``).

Module path and class names are stored with every event (``ledger.links:Link.Linked``):
never move or rename them.
"""

from __future__ import annotations

from datetime import date
from typing import Any, ClassVar
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate

from ledger.domain import NAMESPACE, LedgerAggregate, SubjectState
from ledger.errors import Conflict, LinkRefused, NotLinked

_SEP = "\x1f"


def link_uuid(a: str, b: str) -> UUID:
    """The pair's aggregate: the same for (a, b) and (b, a)."""
    first, second = sorted((a, b))
    return uuid5(NAMESPACE, f"link{_SEP}{first}{_SEP}{second}")


def birth_dates(state: SubjectState) -> set[date]:
    """Every birth date a subject's record gives (the first and the alternatives)."""
    found = set(state.alt_birth_dates)
    if state.birth_date is not None:
        found.add(state.birth_date)
    return found


def check_same_party(a: SubjectState, b: SubjectState, despite: str | None) -> None:
    """The rules for calling two subjects one party; ``despite`` overrides only the birth
    dates (lists get them wrong), never the subject itself or its kind."""
    if a.subject_id == b.subject_id:
        raise LinkRefused(f"cannot link {a.subject_id} to itself")
    if a.kind != b.kind:
        raise LinkRefused(
            f"cannot link {a.subject_id} ({a.kind}) and {b.subject_id} ({b.kind}): "
            "a party is of one kind"
        )
    dates_a, dates_b = birth_dates(a), birth_dates(b)
    if dates_a and dates_b and not dates_a & dates_b and despite is None:
        raise LinkRefused(
            f"{a.subject_id} and {b.subject_id} have no birth date in common "
            f"({_dates(dates_a)} / {_dates(dates_b)}); if they are one party all the same, "
            "say why with --despite TEXT"
        )


def _dates(values: set[date]) -> str:
    return ", ".join(d.isoformat() for d in sorted(values))


class Link(LedgerAggregate):
    """Two subjects: one party while a ``linked`` event stands after the last ``unlinked``."""

    class Linked(LedgerAggregate.Event, Aggregate.Created):
        subjects: list[str]
        reason: str
        despite: str | None
        """Why they are one party although their birth dates differ (kept with the link)."""
        type_name: ClassVar[str] = "linked"

    class Relinked(LedgerAggregate.Event):
        """Linked again, after an unlink or a retraction."""

        subjects: list[str]
        reason: str
        despite: str | None
        type_name: ClassVar[str] = "linked"

    class Unlinked(LedgerAggregate.Event):
        subjects: list[str]
        reason: str
        type_name: ClassVar[str] = "unlinked"

    def standing_link(self) -> Link.Linked | Link.Relinked | None:
        """The link event in effect, or None when the pair is not (or no longer) linked."""
        current: Link.Linked | Link.Relinked | None = None
        for e in self.standing():
            if isinstance(e, Link.Linked | Link.Relinked):
                current = e
            elif isinstance(e, Link.Unlinked):
                current = None
        return current

    def unlinked(self) -> bool:
        """Whether the last standing word on the pair is an unlink (a human said no)."""
        said = [e for e in self.standing() if isinstance(e, LINK_EVENTS)]
        return bool(said) and isinstance(said[-1], Link.Unlinked)

    @classmethod
    def link(cls, agg: Link | None, a: SubjectState, b: SubjectState, **fields: Any) -> Link:
        """Record that ``a`` and ``b`` are one party; refused when the rules say they
        cannot be, or when they are linked already."""
        if agg is not None and agg.standing_link() is not None:
            raise Conflict(f"{a.subject_id} and {b.subject_id} are already linked")
        check_same_party(a, b, fields["despite"])
        fields["subjects"] = [a.subject_id, b.subject_id]
        if agg is None:
            return cls._create(cls.Linked, id=link_uuid(a.subject_id, b.subject_id), **fields)
        agg.trigger_event(cls.Relinked, **fields)
        return agg

    def unlink(self, a: str, b: str, **fields: Any) -> None:
        if self.standing_link() is None:
            raise NotLinked(_not_linked(a, b))
        self.trigger_event(self.Unlinked, subjects=[a, b], **fields)


LINK_EVENTS = (Link.Linked, Link.Relinked, Link.Unlinked)


def _not_linked(a: str, b: str) -> str:
    return (
        f"no link between {a} and {b} stands; unlink names two subjects linked directly "
        f"('sanctions show {a}' lists its links)"
    )


def not_linked(a: str, b: str) -> NotLinked:
    return NotLinked(_not_linked(a, b))
