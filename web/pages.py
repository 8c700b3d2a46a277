"""The web pages: each parses its URL, makes one call into the read side, renders a template.

A page's whole state is in its URL (``at``, ``known_at``, filters), so an analyst can cite
"as known at 2021-03-10". Forms use GET; no script runs in the browser.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from ledger.vocabulary import BUILTIN_AUTHORITIES, MEASURES, SUBJECT_KINDS
from projections.search import hits
from projections.serialize import LISTING_COLUMNS, cell, csv_text, gist, json_rows, line_of
from web.reader import BadParameter, Reader, choice, day
from web.timeline import layout

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000

env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def url(path: str, **params: Any) -> str:
    """``path`` with the given query parameters, empty ones left out."""
    query = {k: str(v) for k, v in params.items() if v not in (None, "")}
    return path + ("?" + urlencode(query) if query else "")


def subject_url(subject_id: str, **params: Any) -> str:
    return url("/subjects/" + quote(subject_id, safe=""), **params)


def is_link(source: str) -> bool:
    """Only web addresses become links: a ``javascript:`` source stays text."""
    return source.startswith(("https://", "http://"))


env.globals.update(url=url, subject_url=subject_url, cell=cell, is_link=is_link, gist=gist)


def render(name: str, status: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(env.get_template(name).render(**context), status_code=status)


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    return render("error.html", status, title=f"Error {status}", message=message)


def _int(value: str | None, parameter: str, default: int, low: int, high: int) -> int:
    if value is None or value == "":
        return default
    if not value.isdigit() or not low <= int(value) <= high:
        raise BadParameter(parameter, f"{parameter} {value!r} must be a whole number {low}..{high}")
    return int(value)


def router(reader: Reader) -> APIRouter:
    pages = APIRouter(include_in_schema=False)

    def state(known_at: str | None, at: str | None = None) -> dict[str, Any]:
        """What every page shows about time: the date asked about, the moment of record."""
        views, position = reader.current()
        k = reader.known_position(views, position, known_at)
        position, digest = reader.ledger.head()
        return {
            "views": views,
            "k": k,
            "at": day(at),
            "at_param": at or "",
            "known_at": known_at or "",
            "head_position": position,
            "head_digest": digest,
        }

    @pages.get("/", response_class=HTMLResponse)
    def home(q: str | None = None, at: str | None = None, known_at: str | None = None) -> Response:
        s = state(known_at, at)
        found = None
        if q:
            views, k = s["views"], s["k"]
            found = hits(
                views, reader.name_index(views, k), q, limit=25, at=s["at"], known_at=str(k)
            )
        return render("home.html", title="Search", q=q or "", found=found, **s)

    @pages.get("/subjects/{subject_id}", response_class=HTMLResponse)
    def subject(subject_id: str, at: str | None = None, known_at: str | None = None) -> Response:
        s = state(known_at, at)
        views, k = s["views"], s["k"]
        tl = views.timeline(subject_id, known_at=str(k))
        report = views.show(subject_id, at=s["at"], known_at=str(k))
        history = views.history(subject_id, known_at=str(k))
        # The party as known at k: before a link was recorded, report.party is empty.
        party = [views.timeline(p.subject_id, known_at=str(k)) for p in report.party]
        return render(
            "subject.html",
            title=tl.subject.name,
            subject=tl.subject,
            timeline=tl,
            picture=layout(tl, s["at"], party),
            report=report,
            history=history,
            **s,
        )

    def _listing_args(params: Mapping[str, str], s: dict[str, Any]) -> dict[str, Any]:
        return {
            "authority": params.get("authority") or None,
            "regime": params.get("regime") or None,
            "measure": choice(params.get("measure"), MEASURES, "measure"),
            "kind": choice(params.get("kind"), SUBJECT_KINDS, "kind"),
            "at": s["at"],
            "known_at": str(s["k"]),
        }

    @pages.get("/designations", response_class=HTMLResponse)
    def designations(request: Request) -> Response:
        params = dict(request.query_params)
        s = state(params.get("known_at"), params.get("at"))
        offset = _int(params.get("offset"), "offset", 0, 0, 10_000_000)
        limit = _int(params.get("limit"), "limit", PAGE_SIZE, 1, MAX_PAGE_SIZE)
        args = _listing_args(params, s)
        rows = s["views"].listings(**args, offset=offset, limit=limit + 1)
        pinned = {
            **{k: v for k, v in params.items() if k not in ("offset", "limit")},
            "at": s["at"].isoformat(),
            "known_at": s["k"],
        }
        return render(
            "designations.html",
            title="Designations in force",
            rows=rows[:limit],
            columns=LISTING_COLUMNS,
            filters=params,
            measures=MEASURES,
            kinds=SUBJECT_KINDS,
            # Suggestions only (any code can be typed): registered ones would mean a log scan.
            authorities=sorted(BUILTIN_AUTHORITIES),
            offset=offset,
            limit=limit,
            previous_url=url("/designations", **pinned, offset=max(0, offset - limit), limit=limit)
            if offset
            else None,
            next_url=url("/designations", **pinned, offset=offset + limit, limit=limit)
            if len(rows) > limit
            else None,
            csv_url=url("/designations.csv", **pinned),
            **s,
        )

    @pages.get("/designations.csv")
    def designations_csv(request: Request) -> Response:
        """The whole answer as ``sanctions list --format csv`` prints it."""
        params = dict(request.query_params)
        s = state(params.get("known_at"), params.get("at"))
        rows = s["views"].listings(**_listing_args(params, s))
        name = f"designations-{s['at'].isoformat()}-known-at-{s['k']}.csv"
        return Response(
            csv_text(json_rows(rows), LISTING_COLUMNS),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    @pages.get("/diff", response_class=HTMLResponse)
    def diff(request: Request) -> Response:
        params = dict(request.query_params)
        s = state(params.get("known_at"))
        start_text, end_text = params.get("from"), params.get("to")
        changes = None
        start = end = None
        if start_text or end_text:
            start, end = day(start_text, "from"), day(end_text, "to")
            if end < start:
                raise BadParameter("to", f"the end date {end} is before the start date {start}")
            changes = s["views"].diff(
                start, end, authority=params.get("authority") or None, known_at=str(s["k"])
            )
        return render(
            "diff.html",
            title="What changed",
            changes=changes,
            start=start_text or "",
            end=end_text or "",
            authority=params.get("authority") or "",
            authorities=sorted(BUILTIN_AUTHORITIES),
            **s,
        )

    @pages.get("/log", response_class=HTMLResponse)
    def log(request: Request) -> Response:
        params = dict(request.query_params)
        start = _int(params.get("from"), "from", 1, 1, 2**62)
        limit = _int(params.get("limit"), "limit", PAGE_SIZE, 1, MAX_PAGE_SIZE)
        position, digest = reader.ledger.head()
        lines = [line_of(e) for e in reader.ledger.read_log(start, limit + 1)]
        return render(
            "log.html",
            title="Audit log",
            lines=lines[:limit],
            start=start,
            limit=limit,
            next_url=url("/log", **{"from": lines[limit - 1]["position"] + 1}, limit=limit)
            if len(lines) > limit
            else None,
            previous_url=url("/log", **{"from": max(1, start - limit)}, limit=limit)
            if start > 1
            else None,
            head_position=position,
            head_digest=digest,
        )

    @pages.get("/favicon.ico")
    def favicon() -> Response:
        return FileResponse(STATIC / "favicon.svg", media_type="image/svg+xml")

    return pages
