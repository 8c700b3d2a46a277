"""Parties: subjects linked as one (``ledger.links``), as known at any moment.

``view_links`` holds one row per stretch of record time in which a pair's link stood
(``rec_from``/``rec_to`` as everywhere). A party as known at K is the connected group of a
subject through the links standing at K: before a link was recorded, each subject answers
alone; after an unlink (or the link's retraction), apart again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Table, and_, bindparam, or_, select, update

from projections import queries, showing
from projections.queries import PartyLink, Row, SubjectReport, known
from projections.tables import links, log

if TYPE_CHECKING:  # the aggregates load when events are applied, not for a query
    from ledger.links import Link

# ------------------------------------------------------------------ the catch-up's hook


@dataclass
class LinkWrites:
    """The ``view_links`` rows of one catch-up batch."""

    opened: dict[str, dict[str, Any]] = field(default_factory=dict)
    done: list[dict[str, Any]] = field(default_factory=list)
    close: list[dict[str, Any]] = field(default_factory=list)

    def apply(self, old: Link.Linked | Link.Relinked | None, agg: Link, position: int) -> None:
        """After one event of a pair's aggregate (``old``: its link in effect before it):
        close and open rows where that changed (a link, an unlink, a retraction of either)."""
        new = agg.standing_link()
        if old is new or (
            old is not None and new is not None and old.originator_version == new.originator_version
        ):
            return
        link_id = str(agg.id)
        if old is not None:
            row = self.opened.pop(link_id, None)
            if row is not None:
                row["rec_to"] = position
                self.done.append(row)
            else:
                self.close.append({"l": link_id, "p": position})
        if new is not None:
            a, b = sorted(new.subjects)
            self.opened[link_id] = {
                "link_id": link_id,
                "rec_from": position,
                "rec_to": None,
                "subject_a": a,
                "subject_b": b,
                "link_version": new.originator_version,
            }

    def flush(self, conn: Connection, bulk_insert: Any, table: Table = links) -> None:
        """Into ``table``: the live ``view_links``, or a rebuild's fresh one."""
        if self.close:
            conn.execute(
                update(table)
                .where(and_(table.c.link_id == bindparam("l"), table.c.rec_to.is_(None)))
                .values(rec_to=bindparam("p")),
                self.close,
            )
        bulk_insert(conn, table, self.done + list(self.opened.values()))


# ------------------------------------------------------------------ queries


def members(conn: Connection, subject_id: str, *, k: int) -> list[str]:
    """The subject's party as known at ``k``: itself first, then the others by id."""
    return showing.members(queries.runner(conn), subject_id, k)


def groups(conn: Connection, *, k: int) -> dict[str, str]:
    """Every linked subject -> its party's first id (as known at ``k``); subjects without
    a standing link are not in it (each is a party of one)."""
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for r in conn.execute(select(links.c.subject_a, links.c.subject_b).where(known(links, k))):
        ra, rb = root(r.subject_a), root(r.subject_b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return {x: root(x) for x in list(parent)}


def party_links(conn: Connection, ids: list[str], *, k: int) -> list[PartyLink]:
    """The links standing at ``k`` among these subjects, with their events' reasons."""
    return showing.party_links(queries.runner(conn), ids, k)


def show(conn: Connection, subject_id: str, *, at: date, k: int) -> SubjectReport:
    """The subject's report for its whole party: every member's designations, rulings
    and announcements on ``at`` as known at ``k``, and the links that make the party."""
    return showing.show(queries.runner(conn), subject_id, at, k, queries.unknown_subject(conn, k))


def unlinked_pairs(conn: Connection, *, k: int) -> set[tuple[str, str]]:
    """Pairs someone unlinked (the unlink standing at ``k``): not suggested again."""
    known_now = or_(log.c.retracted_by.is_(None), log.c.retracted_by > k)
    rows = conn.execute(
        select(log.c.data).where(log.c.type == "unlinked", log.c.position <= k, known_now)
    )
    pairs = {tuple(sorted(r.data["subjects"])) for r in rows}
    linked = {
        (r.subject_a, r.subject_b)
        for r in conn.execute(select(links.c.subject_a, links.c.subject_b).where(known(links, k)))
    }
    return {(a, b) for a, b in pairs if (a, b) not in linked}


@dataclass(frozen=True)
class PartyRow(Row):
    """One party in force on a date: its subjects, their names, authorities and regimes."""

    party: str
    """The party's first subject id."""
    subjects: list[str]
    names: list[str]
    authorities: list[str]
    regimes: list[str]
    designations: list[queries.Listing]


def party_rows(
    conn: Connection, listings: list[queries.Listing], *, k: int, authority: str | None = None
) -> list[PartyRow]:
    """The listings grouped by party as known at ``k``; with ``authority``, only the
    parties it designates (with all their other authorities)."""
    root = groups(conn, k=k)
    members: dict[str, set[str]] = {}
    for sid, r in root.items():
        members.setdefault(r, set()).add(sid)
    by_party: dict[str, list[queries.Listing]] = {}
    for x in listings:
        by_party.setdefault(root.get(x.subject_id, x.subject_id), []).append(x)
    names = {r.subject_id: r.name for r in queries.subjects_known(conn, k=k)} if by_party else {}
    rows = []
    for party, found in sorted(by_party.items()):
        authorities = sorted({x.authority for x in found})
        if authority and authority.upper() not in authorities:
            continue
        ids = sorted(members.get(party, {party}))
        rows.append(
            PartyRow(
                party=party,
                subjects=ids,
                names=list(dict.fromkeys(names.get(i, i) for i in ids)),
                authorities=authorities,
                regimes=sorted({f"{x.authority}: {x.regime}" for x in found}),
                designations=found,
            )
        )
    return rows
