"""Point-in-time questions: list, show, history, diff, announcements, rulings."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import TYPE_CHECKING, Any

import click

from cli.completion import complete_authority
from cli.context import Session, pass_session
from cli.parties import echo_party, render_parties
from cli.render import answer, render, render_object
from cli.terminal import no_pager_option
from cli.types import DATE, FORMAT, KIND, KNOWN_AT, MEASURE
from ledger.vocabulary import today
from projections.rows import Filters
from projections.serialize import LISTING_COLUMNS

if TYPE_CHECKING:
    from projections.rows import Listing

LIST_COLUMNS = LISTING_COLUMNS
FACT_COLUMNS = [
    "position",
    "type",
    "date",
    "title",
    "court",
    "outcome",
    "authorities",
    "subjects",
    "annuls",
]
HISTORY_COLUMNS = [
    "position",
    "type",
    "effective_date",
    "recorded_at",
    "recorded_by",
    "retracted_by",
    "summary",
]


def at_option(f: Any) -> Any:
    return click.option(
        "--at",
        type=DATE,
        default=None,
        help="The date asked about (valid time; default: today, UTC).",
    )(f)


def known_at_option(f: Any) -> Any:
    return click.option(
        "--known-at",
        type=KNOWN_AT,
        default=None,
        help="Answer as the ledger knew it then: a position (42), a timestamp or a date "
        "(end of that UTC day). Default: now.",
    )(f)


def format_option(f: Any) -> Any:
    f = no_pager_option(f)
    return click.option(
        "--format",
        "fmt",
        type=FORMAT,
        default="table",
        show_default=True,
        help="Output format: table (fitted to a terminal; tab-separated lines in a pipe), "
        "json, jsonl or csv.",
    )(f)


include_uncertain_option = click.option(
    "--include-uncertain",
    is_flag=True,
    help="Also the designations possibly in force on the date: listed on a date the source "
    "does not give, in a window that contains it (marked as such).",
)


@click.command("list")
@click.option(
    "--authority",
    "-a",
    default=None,
    shell_complete=complete_authority,
    help="Only this authority (e.g. EU, US-OFAC).",
)
@click.option("--regime", "-r", default=None, help="Only this regime, exactly as recorded.")
@click.option("--measure", "-m", type=MEASURE, default=None, help="Only designations with it.")
@click.option("--kind", "-k", type=KIND, default=None, help="Only subjects of this kind.")
@at_option
@known_at_option
@include_uncertain_option
@click.option(
    "--parties",
    is_flag=True,
    help="One row per party (subjects linked as one), naming its subjects and all its "
    "authorities and regimes; --authority keeps the parties it designates.",
)
@format_option
@pass_session
def list_command(
    session: Session,
    authority: str | None,
    regime: str | None,
    measure: str | None,
    kind: str | None,
    at: date | None,
    known_at: str | None,
    include_uncertain: bool,
    parties: bool,
    fmt: str,
) -> None:
    """Who is sanctioned on a date: one row per designation in force.

    A designation first seen in a list snapshot without its own listing date is certain
    from that snapshot and only possibly in force before it; those are counted on standard
    error, and shown with --include-uncertain.

    \b
    Example:
      sanctions list --authority EU --at 2021-03-03
      sanctions list --authority US-OFAC --at 2021-03-01 --known-at 2021-03-10 --format json
      sanctions list --authority US-OFAC --at 2021-06-15 --include-uncertain
      sanctions list --parties --authority UN --at 2018-11-01
    """
    if parties:
        rows = session.views.listings(
            regime=regime,
            measure=measure,
            kind=kind,
            at=at,
            known_at=known_at,
            include_uncertain=True,
        )
        shown = rows if include_uncertain else [r for r in rows if r.certain]
        render_parties(session, shown, authority, known_at, fmt)
        return
    views = session.views
    k = views.resolve_known_at(known_at)  # one moment for the rows and the count after them
    filters = Filters(authority, regime, measure, kind)
    listings = views.stream_listings(filters, at=at, k=k, uncertain=include_uncertain)
    columns = LIST_COLUMNS + (["certain", "window"] if include_uncertain else [])
    counted: list[int] = []

    def uncertain() -> int:
        """How many are only possibly in force (when not shown): counted, never held."""
        if include_uncertain:
            return 0
        if not counted:
            rest = views.stream_listings(filters, at=at, k=k, certain=False, uncertain=True)
            counted.append(sum(1 for _ in rest))
        return counted[0]

    # Never a bare "none" while some are possibly in force: the note below says how many.
    render(
        (listing_row(r, fmt) for r in listings),
        fmt,
        columns,
        empty=lambda: (
            "No designation certainly in force." if uncertain() else "No designation in force."
        ),
    )
    if uncertain():
        day = at if at is not None else today()
        click.echo(
            f"{uncertain()} more possibly listed on {day}; --include-uncertain shows them",
            err=True,
        )


def listing_row(listing: Listing, fmt: str) -> dict[str, Any]:
    """A listing for the renderer: in tables and CSV, ``certain`` as true/false and the
    uncertain start in words."""
    row = listing.as_dict()
    if fmt.lower() not in ("json", "jsonl"):
        row["certain"] = "true" if listing.certain else "false"
        row["window"] = listing.window()
    return row


def status(listing: Listing) -> str:
    """``listed``, or ``possibly listed (listed on some date between ...; certain from ...)``."""
    window = listing.window()
    if not listing.certain:
        return f"possibly listed ({window})"
    return f"listed (start uncertain: {window})" if window else "listed"


@click.command("show")
@click.argument("subject")
@at_option
@known_at_option
@format_option
@pass_session
def show_command(
    session: Session, subject: str, at: date | None, known_at: str | None, fmt: str
) -> None:
    """One subject's status across all authorities on a date, with rulings and announcements.

    \b
    Example:
      sanctions show igor-krasnov --at 2021-03-03
    """
    from projections import fast

    # On a current SQLite ledger without loading SQLAlchemy (start-up time); else as usual.
    report = fast.show(session.db, subject, at=at, known_at=known_at) or session.views.show(
        subject, at=at, known_at=known_at
    )
    if fmt != "table":
        if fmt == "json":
            render_object(report.as_dict(), fmt)
        else:
            rows = [listing_row(r, fmt) for r in report.designations]
            render(rows, fmt, [*LIST_COLUMNS, "certain", "window"])
        return
    s = report.subject
    with answer() as out:
        out.line(f"{s.name} ({s.subject_id}, {s.kind})")
        births = [*filter(None, [s.birth_date]), *s.alt_birth_dates]
        for label, value in (
            ("aliases", ", ".join(s.aliases)),
            ("born", ", or ".join(d.isoformat() for d in births)),
            ("nationality", s.nationality or ""),
            ("position", s.position or ""),
        ):
            if value:
                out.line(f"  {label}: {value}")
        echo_party(report, out)
        out.line("")
        render(
            [{**r.as_dict(), "status": status(r)} for r in report.designations],
            fmt,
            [
                *(["subject_id"] if report.party else []),
                "authority",
                "regime",
                "status",
                "measures",
                "listed_from",
                "listed_until",
                "legal_act",
                "reason",
            ],
            title="Designations in force:",
            empty="  none",
            out=out,
        )
        if report.rulings:
            out.line("")
            render(
                [r.as_dict() for r in report.rulings],
                fmt,
                ["position", "date", "court", "outcome", "annuls", "summary"],
                title="Rulings:",
                out=out,
            )
        if report.announcements:
            out.line("")
            render(
                [r.as_dict() for r in report.announcements],
                fmt,
                ["position", "date", "title", "authorities"],
                title="Announcements:",
                out=out,
            )


def _summary(entry: dict[str, Any]) -> str:
    data = entry["data"]
    if entry["type"] == "retracted":
        return f"retracts {data['position']}: {data['reason']}"
    parts = []
    for key in (
        "subjects",
        "name",
        "authority",
        "regime",
        "measures",
        "add_measures",
        "remove_measures",
        "until",
        "legal_act",
        "court",
        "outcome",
        "title",
        "reason",
        "despite",
    ):
        value = data.get(key)
        if value:
            parts.append(f"{key}={', '.join(value) if isinstance(value, list) else value}")
    if entry.get("window"):
        parts.append(f"start uncertain: {entry['window']}")
    return "; ".join(parts)


@click.command("history")
@click.argument("subject")
@known_at_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "jsonl", "csv"]),
    default="table",
    show_default=True,
)
@no_pager_option
@pass_session
def history_command(session: Session, subject: str, known_at: str | None, fmt: str) -> None:
    """Every event touching a subject, in order of record, with retractions marked.

    \b
    Example:
      sanctions history igor-krasnov
    """

    def rows() -> Iterator[dict[str, Any]]:
        for entry in session.views.stream_history(subject, known_at=known_at):
            row = entry.as_dict()
            if fmt not in ("json", "jsonl"):
                row["summary"] = _summary(row)
            yield row

    columns = HISTORY_COLUMNS if fmt == "table" else None
    render(rows(), fmt, columns)


@click.command("diff")
@click.argument("start", metavar="FROM", type=DATE)
@click.argument("end", metavar="TO", type=DATE)
@click.option(
    "--authority",
    "-a",
    default=None,
    shell_complete=complete_authority,
    help="Only this authority.",
)
@known_at_option
@click.option(
    "--include-uncertain",
    is_flag=True,
    help="Also the designations possibly added in the range: listed on a date the source "
    "does not give, in a window that reaches into it ('possibly added').",
)
@format_option
@pass_session
def diff_command(
    session: Session,
    start: date,
    end: date,
    authority: str | None,
    known_at: str | None,
    include_uncertain: bool,
    fmt: str,
) -> None:
    """What changed after FROM and up to TO: designations added, removed, changed.

    A designation whose listing date the source did not give is added on the date it was
    first seen; if its window reaches into the range it was possibly added there: those
    are counted on standard error, and shown with --include-uncertain.

    \b
    Example:
      sanctions diff 2021-03-01 2021-03-31 --authority EU
    """
    changes = session.views.stream_diff(start, end, authority=authority, known_at=known_at)
    hidden = 0

    def rows() -> Iterator[dict[str, Any]]:
        nonlocal hidden
        for change in changes:
            if change.change == "possibly added" and not include_uncertain:
                hidden += 1  # counted, never held
                continue
            row = change.as_dict()
            if fmt.lower() not in ("json", "jsonl"):
                d = row["details"]
                row["details"] = "; ".join(
                    f"{k}={', '.join(v) if isinstance(v, list) else v}"
                    for k, v in d.items()
                    if v not in (None, [], "")
                )
            yield row

    render(
        rows(),
        fmt,
        [
            "change",
            "effective_date",
            "authority",
            "regime",
            "subject_id",
            "subject_name",
            "details",
        ],
        empty="No changes.",
    )
    if hidden:
        click.echo(
            f"{hidden} more possibly added after {start} and up to {end}; "
            "--include-uncertain shows them",
            err=True,
        )


@click.command("announcements")
@at_option
@click.option(
    "--authority",
    "-a",
    default=None,
    shell_complete=complete_authority,
    help="Only announcements naming it.",
)
@click.option("--subject", default=None, help="Only announcements linking this subject.")
@known_at_option
@format_option
@pass_session
def announcements_command(
    session: Session,
    at: date | None,
    authority: str | None,
    subject: str | None,
    known_at: str | None,
    fmt: str,
) -> None:
    """Coordination announcements dated on or before a date (default: all).

    \b
    Example:
      sanctions announcements --authority EU --at 2021-03-31
    """
    rows = session.views.stream_facts(
        "announced", at=at, authority=authority, subject=subject, known_at=known_at
    )
    render(
        (r.as_dict() for r in rows),
        fmt,
        ["position", "date", "title", "authorities", "subjects"],
        empty="No announcements.",
    )


@click.command("rulings")
@at_option
@click.option("--subject", default=None, help="Only rulings about this subject.")
@known_at_option
@format_option
@pass_session
def rulings_command(
    session: Session, at: date | None, subject: str | None, known_at: str | None, fmt: str
) -> None:
    """Court rulings dated on or before a date (default: all).

    \b
    Example:
      sanctions rulings --subject alexei-navalny
    """
    rows = session.views.stream_facts("ruling_recorded", at=at, subject=subject, known_at=known_at)
    render(
        (r.as_dict() for r in rows),
        fmt,
        ["position", "date", "court", "subjects", "outcome", "annuls", "summary"],
        empty="No rulings.",
    )


COMMANDS = [
    list_command,
    show_command,
    history_command,
    diff_command,
    announcements_command,
    rulings_command,
]
