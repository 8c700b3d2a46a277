"""How a party (subjects linked as one) reads in ``show``, ``list --parties`` and ``search``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from cli.render import render

if TYPE_CHECKING:
    from cli.context import Session
    from cli.terminal import Answer
    from projections.rows import Listing, SubjectReport


PARTY_COLUMNS = ["party", "subjects", "names", "authorities", "regimes"]


def render_parties(
    session: Session,
    listings: list[Listing],
    authority: str | None,
    known_at: str | None,
    fmt: str,
) -> None:
    """``list --parties``: the listings grouped by party, one row each."""
    rows = session.views.parties(listings, authority=authority, known_at=known_at)
    render([r.as_dict() for r in rows], fmt, PARTY_COLUMNS, empty="No party in force.")


def warn_if_known(session: Session, subject_id: str) -> None:
    """On standard error: the subjects this new one may be (same name, a birth date in
    common), and the command that would link them."""
    from projections.suggest import similar

    for other in similar(session.views, subject_id):
        dates = {*other.alt_birth_dates, *([other.birth_date] if other.birth_date else [])}
        born = ", ".join(str(d) for d in sorted(dates))
        click.echo(
            f"Warning: {subject_id} may be {other.subject_id} ({other.name}, born {born}); "
            f"if they are one party: sanctions link {subject_id} {other.subject_id} "
            '--reason "..." (--quiet silences this)',
            err=True,
        )


def echo_party(report: SubjectReport, out: Answer) -> None:
    """The other subjects of the party and the links that make it (nothing when alone)."""
    if not report.party:
        return
    out.line("")
    out.line(f"One party with {len(report.party)} other subject(s):")
    for s in report.party:
        born = f", born {s.birth_date}" if s.birth_date else ""
        out.line(f"  {s.subject_id}: {s.name} ({s.kind}{born})")
    out.line("")
    render(
        [{**link.as_dict(), "subjects": " = ".join(link.subjects)} for link in report.links],
        "table",
        ["position", "subjects", "reason", "despite", "recorded_at", "recorded_by"],
        title="Links:",
        out=out,
    )
