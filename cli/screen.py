"""``sanctions screen | check-certificate``: a names file against the lists, and its proof."""

from __future__ import annotations

import csv
import io
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import date
from typing import IO, Any

import click

from cli.context import Session, pass_session
from cli.lists import progress_bar
from cli.queries import at_option, known_at_option
from ledger.errors import InvalidValue, LedgerError
from projections.serialize import dumps


class ScreeningIncomplete(LedgerError):
    """Some rows could not be screened: not every name was checked."""


class CertificateDoesNotHold(LedgerError):
    """The ledger or the matcher now answers a certified screening otherwise."""


CSV_COLUMNS = [
    "line",
    "id",
    "name",
    "status",
    "score",
    "subject_id",
    "subject_name",
    "matched",
    "designations",
    "other_candidates",
    "error",
]


def _designations(hit: dict[str, Any]) -> str:
    parts = []
    for d in hit["designations"]:
        text = f"{d['authority']}: {d['regime']}"
        if not d["certain"]:
            after = d.get("listed_after")
            text += f" (possibly listed: after {after}" if after else " (possibly listed"
            text += f", by {d['listed_from']})"
        parts.append(text)
    return "; ".join(parts)


def _flat(row: dict[str, Any]) -> dict[str, Any]:
    hits = row["candidates"]
    top = hits[0] if hits else None
    return {
        "line": row["line"],
        "id": row["id"] or "",
        "name": row["name"],
        "status": row["status"],
        "score": "" if row["score"] is None else f"{row['score']:.3f}",
        "subject_id": top["subject_id"] if top else "",
        "subject_name": top["name"] if top else "",
        "matched": top["matched"] if top else "",
        "designations": _designations(top) if top else "",
        "other_candidates": "; ".join(f"{h['subject_id']} {h['score']:.3f}" for h in hits[1:]),
        "error": row["error"] or "",
    }


class Output:
    """Rows written as they come: a plain table, CSV or a JSON array."""

    def __init__(self, fmt: str) -> None:
        self.fmt = fmt
        self.count = 0
        if fmt == "csv":
            self._csv(CSV_COLUMNS)
        elif fmt == "json":
            click.echo("[", nl=False)

    def _csv(self, values: list[Any]) -> None:
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerow(values)
        click.echo(buf.getvalue(), nl=False)

    def add(self, row: dict[str, Any]) -> None:
        self.count += 1
        if self.fmt == "json":
            click.echo(("\n  " if self.count == 1 else ",\n  ") + dumps(row), nl=False)
            return
        flat = _flat(row)
        if self.fmt == "csv":
            self._csv([flat[c] for c in CSV_COLUMNS])
            return
        head = f"{flat['line']:>6}  {flat['status']:<8} {flat['score']:>5}  {flat['name']}"
        if flat["error"]:
            click.echo(f"{head}: {flat['error']}")
        elif flat["subject_id"]:
            click.echo(
                f"{head} -> {flat['subject_name']} ({flat['subject_id']}; matched "
                f"{flat['matched']!r}): {flat['designations']}"
                + (f" [also {flat['other_candidates']}]" if flat["other_candidates"] else "")
            )
        else:
            click.echo(head)

    def close(self) -> None:
        if self.fmt == "json":
            click.echo("\n]" if self.count else "]")


@contextmanager
def _written_whole(path: str) -> Iterator[IO[str]]:
    """A file that appears under ``path`` only once fully written; removed if writing fails.

    (click's ``open_file(atomic=True)`` keeps a half-written file when an error interrupts.)
    """
    folder = os.path.dirname(os.path.abspath(path))
    fd, temporary = tempfile.mkstemp(prefix=".certificate-", dir=folder)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(temporary, 0o666 & ~umask)  # as any file written (mkstemp makes it private)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            yield f
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def _writable_certificate(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> str | None:
    if value is None:
        return None
    folder = os.path.dirname(os.path.abspath(value))
    if not os.path.isdir(folder) or not os.access(folder, os.W_OK | os.X_OK):
        raise click.BadParameter(f"cannot write into the folder {folder!r}", ctx, param)
    return value


def _count_lines(path: str) -> int | None:
    if path == "-" or not os.path.isfile(path):
        return None
    with open(path, "rb") as f:
        return sum(1 for _ in f)


@click.command("screen")
@click.argument(
    "path", metavar="FILE", type=click.Path(exists=True, dir_okay=False, allow_dash=True)
)
@at_option
@known_at_option
@click.option(
    "--authority",
    "-a",
    "authorities",
    multiple=True,
    help="Only designations by this authority (repeatable; default: all).",
)
@click.option(
    "--threshold",
    type=click.FloatRange(min=0.0, max=1.0, min_open=True),
    default=None,
    help="The score from which a name is a match (default: the measured one, 0.87); "
    "possible from 0.07 below it.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json"], case_sensitive=False),
    default="table",
    show_default=True,
)
@click.option(
    "--certificate",
    "certificate",
    type=click.Path(dir_okay=False, writable=True),
    callback=_writable_certificate,
    default=None,
    metavar="OUT.json",
    help="Write what was asked and answered, for 'sanctions check-certificate'.",
)
@pass_session
@click.pass_context
def screen_command(
    ctx: click.Context,
    session: Session,
    path: str,
    at: date | None,
    known_at: str | None,
    authorities: tuple[str, ...],
    threshold: float | None,
    fmt: str,
    certificate: str | None,
) -> None:
    """Screen a file of names against the designations in force on a date.

    FILE is a CSV with a 'name' column (optional 'id', 'birth_date' YYYY-MM-DD, 'country',
    'kind': person, organization, vessel, aircraft), separated by , ; tabs or |, or a
    text file of one name a line; '-' reads standard input. A header without a 'name'
    column is refused. Each row gets a status: match, possible or clear, its best
    candidates with scores (0-1), and their designations on --at as known at --known-at.
    A bad row (empty name, bad date) is reported by line; the others go on.

    Exit status: 0 when every row is clear, 3 when any row is a match or possible, 1 when
    a row could not be screened (or another error), 2 for a malformed option.

    \b
    Example:
      sanctions screen customers.csv --at 2021-03-03 --certificate screening.json
      sanctions screen names.txt --authority EU --authority US-OFAC --format csv
    """
    from projections import screening as s
    from projections.matching import DEFAULT_THRESHOLD

    screening = s.Screening(
        session.views,
        at=at,
        known_at=known_at,
        authorities=authorities,
        threshold=DEFAULT_THRESHOLD if threshold is None else threshold,
    )
    screening.require_candidates()
    total = _count_lines(path) if sys.stderr.isatty() else None
    hits, errors = 0, []
    with ExitStack() as stack:
        stream: IO[bytes] = (
            sys.stdin.buffer if path == "-" else stack.enter_context(open(path, "rb"))
        )
        names = s.NamesFile(stream, "standard input" if path == "-" else path)
        writer = None
        if certificate is not None:
            out = stack.enter_context(_written_whole(certificate))
            writer = s.CertificateWriter(out, s.certificate_header(screening, session.views))
        output = Output(fmt.lower())
        advance = stack.enter_context(progress_bar("Screening", "names")) if total else None
        for result in screening.run(
            names.rows(), (lambda line: advance(line, total)) if advance and total else None
        ):
            row = result.as_dict()
            if writer is not None:
                writer.add(row)
            output.add(row)
            if result.status == "error":
                errors.append(result.line)
            elif result.status != "clear":
                hits += 1
        output.close()
        if writer is not None:
            writer.close(
                {"input": {"name": path, "sha256": names.sha256.hexdigest(), "rows": output.count}}
            )
    if errors:
        shown = ", ".join(map(str, errors[:10])) + (", ..." if len(errors) > 10 else "")
        raise ScreeningIncomplete(
            f"{len(errors)} of {output.count} rows could not be screened (line "
            f"{shown}); {hits} {'row is' if hits == 1 else 'rows are'} a match or possible; "
            "fix those rows and screen them again"
        )
    if hits:
        ctx.exit(3)


@click.command("check-certificate")
@click.argument("path", metavar="CERT.json", type=click.Path(dir_okay=False, exists=True))
@pass_session
def check_certificate_command(session: Session, path: str) -> None:
    """Check a screening certificate against this ledger (the same one or a later one).

    The ledger must still extend the certificate's head (its hash chain); every row is
    screened again as known at the certificate's position, on its date, with its threshold.
    Prints 'valid', or each row that would now be answered differently and why (the ledger
    was rewritten; the matcher changed). Corrections recorded after the certificate change
    nothing for it: it was answered as known then.

    \b
    Example:
      sanctions check-certificate screening.json
    """
    from projections.screening import check_certificate

    try:
        with open(path, encoding="utf-8") as f:
            document = json.load(f)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InvalidValue(
            f"{path} is not a certificate (not JSON: {e}); give a file written by "
            "'sanctions screen --certificate'"
        ) from None
    if not isinstance(document, dict):
        raise InvalidValue(
            f"{path} is not a certificate; give a file written by 'sanctions screen --certificate'"
        )
    report = check_certificate(session.views, document)
    for change in report.changes:
        click.echo(
            f"line {change.line} {change.name!r}: certified {change.was}, now {change.now}: "
            f"{change.why}"
        )
    if report.ledger_rewritten:
        raise CertificateDoesNotHold(
            "the ledger was rewritten: it no longer extends the certificate's head; "
            f"{len(report.changes)} of {report.rows} rows are answered differently"
        )
    if report.changes:
        raise CertificateDoesNotHold(
            f"{len(report.changes)} of {report.rows} rows are answered differently "
            f"as known at position {report.position}"
        )
    click.echo(
        f"valid: {report.rows} rows answered alike as known at position {report.position} "
        f"(the ledger extends the certified head; now at position {report.head_position})"
    )


COMMANDS = [screen_command, check_certificate_command]
