"""``sanctions import-list | export-ftm | search``: official lists in, FollowTheMoney out, names."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import IO, TYPE_CHECKING, Any

import click

from cli.context import Session, pass_session
from cli.interrupts import both, pause, pause_at
from cli.progress import progress, quiet, quiet_option
from cli.queries import at_option, format_option, include_uncertain_option, known_at_option
from cli.render import answer, render, render_object
from cli.types import DATE, KIND
from ledger.errors import InvalidValue
from ledger.vocabulary import today

if TYPE_CHECKING:  # the importers (and the aggregates they check) load for import-list only
    from ledger.adapters import DelistingLimit, ImportReport


@contextmanager
def progress_bar(label: str, unit: str = "") -> Iterator[Callable[[int, int], None] | None]:
    """Progress (done, total) on standard error when it is a terminal (see cli.progress)."""
    with progress(label, unit) as step:
        yield step


def describe(report: ImportReport) -> list[str]:
    head = f"{report.list_name} of {report.published} ({report.counts})"
    if report.already_imported:
        return [f"Already imported: {head}; nothing added"]
    if report.dry_run:
        lines = [f"Dry run: {head}: would record {report.planned} events; nothing written"]
    else:
        lines = [f"Imported {head}: {report.events} events"]
    if report.receipts:
        lines[0] += f" (positions {report.receipts[0].position}..{report.receipts[-1].position})"
    lines.append(f"  {report.changes()}")
    if report.previous is not None:
        lines.append(f"  compared with the snapshot of {report.previous}")
    if report.left_alone:
        lines.append(f"  {report.left_alone} listed by hand already: left alone")
    for note in report.notes:
        lines.append(f"  note: {note}")
    if report.dry_run:
        if report.refusal is not None:
            lines.append(f"  the import would be refused: {report.refusal}")
        else:
            lines.append(
                f"  within the delisting limit: {report.delisted:,} of {report.in_force:,} "
                f"in force (--max-delistings {report.limit})"
            )
    return lines


def as_json(report: ImportReport) -> dict[str, Any]:
    """The report for machines: the summary, the limit's verdict, every change."""
    return {
        "dry_run": report.dry_run,
        "list": report.list_name,
        "published": report.published,
        "previous": report.previous,
        "digest": report.digest,
        "entries": report.entries,
        "counts": report.counts,
        "already_imported": report.already_imported,
        "events": report.planned if report.dry_run else report.events,
        "positions": [r.position for r in report.receipts[:1] + report.receipts[-1:]],
        "registered": report.registered,
        "subjects_amended": report.subjects_amended,
        "designated": report.designated,
        "amended": report.amended,
        "delisted": report.delisted,
        "left_alone": report.left_alone,
        "in_force": report.in_force,
        "max_delistings": str(report.limit),
        "refused": report.refusal is not None,
        "refusal": report.refusal,
        "notes": list(report.notes),
        "changes": [c.as_dict() for c in report.every_change],
    }


LIST_KINDS = ("ofac-sdn", "un")
"""The lists import-list reads: ``ledger.adapters.PARSERS``' names (a test compares them)."""


class DelistingLimitType(click.ParamType["DelistingLimit", Any]):
    name = "N|N%"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> DelistingLimit:
        from ledger.adapters import DelistingLimit

        if isinstance(value, DelistingLimit):
            return value
        try:
            return DelistingLimit.parse(str(value))
        except InvalidValue as e:
            self.fail(str(e), param, ctx)


@click.command("import-list")
@click.argument("kind", metavar="LIST", type=click.Choice(LIST_KINDS))
@click.argument("path", metavar="FILE", type=click.Path(exists=True))
@click.option(
    "--published",
    type=DATE,
    default=None,
    help="The publication date, where the file does not carry it (OFAC SDN CSV).",
)
@click.option(
    "--max-delistings",
    type=DelistingLimitType(),
    default=None,
    help="Refuse the import if it would delist more than N designations, or N% of this "
    "list's designations in force (default 10%).",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Compare and report every change, and whether the import would be refused; write nothing.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"], case_sensitive=False),
    default="table",
    show_default=True,
    help="Output format of the report (json: the summary and every change).",
)
@quiet_option
@pass_session
def import_list(
    session: Session,
    kind: str,
    path: str,
    published: date | None,
    max_delistings: DelistingLimit | None,
    dry_run: bool,
    fmt: str,
) -> None:
    """Import a snapshot of an official list: the changes since the last one become events.

    \b
    LIST is 'un' (the UN Security Council consolidated list XML; its date is the file's
    dateGenerated) or 'ofac-sdn' (a folder with the OFAC SDN legacy CSV files sdn.csv,
    add.csv, alt.csv, sdn_comments.csv; give --published). New entries are designated,
    changed ones amended, vanished ones delisted on the publication date; all or nothing.
    The same snapshot twice adds nothing; an older snapshot than the last is refused.

    \b
    The file must be whole (a truncated, mis-encoded or damaged file is refused, naming
    the line), and an import that would delist more than 10% of the list's designations
    in force is refused unless --max-delistings allows it. --dry-run prints every change
    and whether the import would be refused, and writes nothing.

    \b
    Example:
      sanctions import-list un consolidated.xml --dry-run
      sanctions import-list un consolidated.xml
      sanctions import-list ofac-sdn ./sdn-2021-06-01 --published 2021-06-01
      sanctions import-list un consolidated.xml --max-delistings 25%
    """
    from ledger.adapters import parse

    views = session.views  # caught up before the write: afterwards only the import is left
    with progress_bar("Reading the list", "bytes") as advance:
        progress = both(advance, pause_at("reading"))
        snapshot = parse(kind, path, published=published, progress=progress)
    with (
        progress_bar("Comparing", "entries") as advance,
        progress_bar("Writing", "events") as writing,
    ):
        progress = both(advance, pause_at("comparing"))
        report = session.ledger.import_snapshot(
            snapshot,
            progress=progress,
            max_delistings=max_delistings,
            dry_run=dry_run,
            writing=writing,
        )
    if not dry_run:
        pause("committed")
        session.catch_up(views, pause_at("catching-up"))
    if quiet():
        return
    if fmt.lower() == "json":
        render_object(as_json(report), "json")
        return
    with answer() as out:
        for line in describe(report):
            out.line(line)
        if dry_run and not report.already_imported:
            render(
                (c.as_dict() for c in report.every_change),
                "table",
                ["subject", "regime", "change", "effective", "reference"],
                empty="No changes.",
                out=out,
            )


@contextmanager
def _written_whole(path: str) -> Iterator[IO[str]]:
    """FILE replaced only once everything is written: a failed export leaves no part of one
    (click's ``atomic=True`` moves its temporary file into place even after an error)."""
    if path == "-":
        with click.open_file("-", "w", encoding="utf-8") as stdout:
            yield stdout
        return
    target = os.path.abspath(path)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(target), prefix=".export-ftm-")
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # as an ordinary new file, not mkstemp's 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            yield file
        os.replace(tmp, target)
    except BaseException:
        os.unlink(tmp)
        raise


@click.command("export-ftm")
@click.argument("path", metavar="[FILE]", type=click.Path(dir_okay=False), default="-")
@at_option
@known_at_option
@include_uncertain_option
@pass_session
def export_ftm(
    session: Session, path: str, at: date | None, known_at: str | None, include_uncertain: bool
) -> None:
    """Write the subjects in force as FollowTheMoney entities (JSON lines), with Sanctions.

    One entity per subject (Person, Organization, Vessel, Airplane) and one Sanction per
    designation in force on --at, as the ledger knew it at --known-at: the format of
    OpenSanctions and its tools. FILE defaults to standard output.

    A designation only possibly in force on --at (listed on a date the source does not give,
    in a window that contains it) is counted on standard error and written with
    --include-uncertain, its Sanction's status saying "possibly listed" and the window.

    \b
    Example:
      sanctions export-ftm --at 2021-03-03 sanctions.ftm.json
      sanctions export-ftm --at 2021-06-15 --include-uncertain sanctions.ftm.json
    """
    from projections import ftm  # its country table loads only for an export

    with _written_whole(path) as file:
        summary = ftm.export(
            session.views, file, at=at, known_at=known_at, include_uncertain=include_uncertain
        )
    for warning in summary.warnings:
        click.echo(warning, err=True)
    if summary.uncertain:
        click.echo(
            f"{summary.uncertain} more possibly listed on {at or today()}; "
            "--include-uncertain exports them",
            err=True,
        )
    if path != "-":
        click.echo(
            f"Exported {summary.subjects} subjects and {summary.sanctions} sanctions to {path}",
            err=True,
        )


@click.command("search")
@click.argument("name")
@click.option(
    "--limit", type=click.IntRange(min=1), default=10, show_default=True, help="At most N hits."
)
@click.option(
    "--threshold",
    type=click.FloatRange(min=0.0, max=1.0, min_open=True),
    default=None,
    help="The score from which a hit is a match (default: the measured one, 0.87); hits "
    "from 0.07 below it are shown as possible.",
)
@click.option("--kind", "-k", type=KIND, default=None, help="Only subjects of this kind.")
@at_option
@known_at_option
@format_option
@pass_session
def search_command(
    session: Session,
    name: str,
    limit: int,
    threshold: float | None,
    kind: str | None,
    at: date | None,
    known_at: str | None,
    fmt: str,
) -> None:
    """Find subjects by name or alias, tolerant of spelling, script and word order.

    Each hit shows its score (0 to 1: 1 is the same name once transliterated and folded),
    whether it is a match, possible, or a partial hit (part of the name, such as a surname
    alone, from 0.6), the name that matched, and where the subject is sanctioned on --at.

    \b
    Example:
      sanctions search "Aleksandr Kalashnikov"
      sanctions search "KALASHNIKOV, Alexander" --at 2021-03-03
      sanctions search "Калашников" --format json
    """
    from projections.matching import DEFAULT_THRESHOLD
    from projections.search import search  # its libraries load only for a search

    hits = search(
        session.views,
        name,
        limit=limit,
        at=at,
        known_at=known_at,
        threshold=DEFAULT_THRESHOLD if threshold is None else threshold,
        kind=kind,
    )
    render(
        [h.as_dict() for h in hits],
        fmt,
        ["score", "status", "subject_id", "name", "kind", "matched", "sanctions"]
        + (["party"] if any(h.party for h in hits) else []),  # linked subjects, when any
        empty="No subject matches.",
    )


COMMANDS = [import_list, export_ftm, search_command]
