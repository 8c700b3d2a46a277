"""The JSON API under ``/api``: each endpoint parses, makes one call into the read side, and
answers with the rows the CLI prints for ``--format json`` (``projections.serialize``)."""

from __future__ import annotations

from typing import Annotated, Any, Generic, TypeVar

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from ledger.records import to_json
from ledger.vocabulary import MEASURES, SUBJECT_KINDS
from projections import queries
from projections.search import SearchHit, hits, words
from projections.serialize import dumps, json_rows, line_of
from web.reader import BadParameter, Reader, choice, day

T = TypeVar("T")

PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
MAX_SEARCH = 1000
"""Search ranks every name once per request: a page must end within the best thousand."""


class Page(BaseModel, Generic[T]):
    """A page of a long answer: rows as the CLI prints them, and the next page's URL."""

    items: list[T]
    next: str | None


class Head(BaseModel):
    position: int
    digest: str


class LogLine(BaseModel):
    """One event as ``sanctions log --format json`` and ``export`` print it."""

    position: int
    type: str
    data: dict[str, Any]
    recorded_at: str
    recorded_by: str
    digest: str


class ErrorBody(BaseModel):
    error: str
    parameter: str | None = None


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "A malformed or unacceptable parameter"},
    503: {"model": ErrorBody, "description": "The projections cannot be brought up to date"},
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    404: {"model": ErrorBody, "description": "Unknown subject"},
}

AtQuery = Annotated[
    str | None,
    Query(
        description="The date asked about (valid time), YYYY-MM-DD; default today (UTC).",
        json_schema_extra={"format": "date"},
    ),
]
KnownAtQuery = Annotated[
    str | None,
    Query(
        description="Answer as the ledger knew it then: a position (42), a timestamp "
        "(2021-03-10T12:00:00Z) or a date (the end of that UTC day); default now.",
        max_length=100,
    ),
]
OffsetQuery = Annotated[int, Query(ge=0, le=10_000_000, description="Rows to skip.")]
LimitQuery = Annotated[
    int, Query(ge=1, le=MAX_PAGE_SIZE, description=f"Rows per page (at most {MAX_PAGE_SIZE}).")
]
SubjectPath = Annotated[str, Path(description="The subject's id, e.g. igor-krasnov.")]
TextQuery = Annotated[str | None, Query(max_length=500)]


def json_response(value: Any) -> Response:
    return Response(dumps(value), media_type="application/json")


def paged(
    request: Request, rows: list[Any], offset: int, limit: int, pinned: dict[str, Any]
) -> Response:
    """``rows`` holds up to ``limit + 1`` rows from ``offset``: one more means a next page,
    whose URL pins the date and known-at answered, so that paging never mixes two states."""
    more = len(rows) > limit
    next_url = None
    if more:
        params = dict(request.query_params)
        params.update({k: str(v) for k, v in pinned.items() if v is not None})
        params["offset"] = str(offset + limit)
        params["limit"] = str(limit)
        next_url = str(request.url.include_query_params(**params))
    return json_response({"items": json_rows(rows[:limit]), "next": next_url})


def _window(rows: list[Any], offset: int, limit: int) -> list[Any]:
    return rows[offset : offset + limit + 1]


def router(reader: Reader) -> APIRouter:
    api = APIRouter(prefix="/api", tags=["ledger"])

    @api.get("/head", response_model=Head, responses=ERRORS)
    def head() -> Response:
        """The ledger's head: its last position and that event's digest (``sanctions head``)."""
        position, digest = reader.ledger.head()
        return json_response({"position": position, "digest": digest})

    @api.get("/search", response_model=Page[SearchHit], responses=ERRORS)
    def search(
        request: Request,
        q: Annotated[str, Query(min_length=1, max_length=200, description="A name or alias.")],
        at: AtQuery = None,
        known_at: KnownAtQuery = None,
        offset: OffsetQuery = 0,
        limit: Annotated[int, Query(ge=1, le=100)] = 10,
    ) -> Response:
        """Subjects by name, best first, with scores (``sanctions search``)."""
        views, position = reader.current()
        k = reader.known_position(views, position, known_at)
        if offset + limit > MAX_SEARCH:
            raise BadParameter("offset", f"offset + limit must be at most {MAX_SEARCH}")
        if not words(q):
            raise BadParameter("q", f"q {q!r} has no letters or digits to search for; give a name")
        found = hits(
            views,
            reader.name_index(views, k),
            q,
            limit=offset + limit + 1,
            at=day(at),
            known_at=str(k),
        )
        return paged(request, found[offset:], offset, limit, {"at": day(at), "known_at": k})

    @api.get("/subjects", response_model=Page[queries.SubjectRow], responses=ERRORS)
    def subjects(
        request: Request,
        known_at: KnownAtQuery = None,
        offset: OffsetQuery = 0,
        limit: LimitQuery = PAGE_SIZE,
    ) -> Response:
        """Every subject known, with name, aliases and attributes (``sanctions subject list``)."""
        views, position = reader.current()
        k = reader.known_position(views, position, known_at)
        rows = views.subjects(known_at=str(k))
        return paged(request, _window(rows, offset, limit), offset, limit, {"known_at": k})

    @api.get("/subjects/{subject_id}", response_model=queries.SubjectReport, responses=NOT_FOUND)
    def subject(
        subject_id: SubjectPath, at: AtQuery = None, known_at: KnownAtQuery = None
    ) -> Response:
        """One subject on a date as known at a moment (``sanctions show --format json``)."""
        views, position = reader.current()
        k = reader.known_position(views, position, known_at)
        return json_response(views.show(subject_id, at=day(at), known_at=str(k)))

    @api.get(
        "/subjects/{subject_id}/timeline", response_model=queries.Timeline, responses=NOT_FOUND
    )
    def timeline(subject_id: SubjectPath, known_at: KnownAtQuery = None) -> Response:
        """Every designation of a subject in all valid time, with rulings and announcements:
        what the subject page draws."""
        views, position = reader.current()
        k = reader.known_position(views, position, known_at)
        return json_response(views.timeline(subject_id, known_at=str(k)))

    @api.get(
        "/subjects/{subject_id}/history",
        response_model=Page[queries.HistoryEntry],
        responses=NOT_FOUND,
    )
    def history(
        request: Request,
        subject_id: SubjectPath,
        known_at: KnownAtQuery = None,
        offset: OffsetQuery = 0,
        limit: LimitQuery = PAGE_SIZE,
    ) -> Response:
        """Every event touching a subject, in order of record (``sanctions history``)."""
        views, position = reader.current()
        k = reader.known_position(views, position, known_at)
        rows = views.history(subject_id, known_at=str(k))
        return paged(request, _window(rows, offset, limit), offset, limit, {"known_at": k})

    @api.get("/designations", response_model=Page[queries.Listing], responses=ERRORS)
    def designations(
        request: Request,
        authority: TextQuery = None,
        regime: TextQuery = None,
        measure: Annotated[str | None, Query(description=", ".join(MEASURES))] = None,
        kind: Annotated[str | None, Query(description=", ".join(SUBJECT_KINDS))] = None,
        at: AtQuery = None,
        known_at: KnownAtQuery = None,
        offset: OffsetQuery = 0,
        limit: LimitQuery = PAGE_SIZE,
    ) -> Response:
        """Designations in force on a date (``sanctions list``)."""
        views, position = reader.current()
        k = reader.known_position(views, position, known_at)
        rows = views.listings(
            authority=authority or None,
            regime=regime or None,
            measure=choice(measure, MEASURES, "measure"),
            kind=choice(kind, SUBJECT_KINDS, "kind"),
            at=day(at),
            known_at=str(k),
            offset=offset,
            limit=limit + 1,
        )
        return paged(request, rows, offset, limit, {"at": day(at), "known_at": k})

    @api.get("/diff", response_model=Page[queries.Change], responses=ERRORS)
    def diff(
        request: Request,
        start: Annotated[
            str,
            Query(alias="from", description="YYYY-MM-DD", json_schema_extra={"format": "date"}),
        ],
        end: Annotated[
            str, Query(alias="to", description="YYYY-MM-DD", json_schema_extra={"format": "date"})
        ],
        authority: TextQuery = None,
        known_at: KnownAtQuery = None,
        offset: OffsetQuery = 0,
        limit: LimitQuery = PAGE_SIZE,
    ) -> Response:
        """Designations added, removed or changed after ``from`` and up to ``to``
        (``sanctions diff``)."""
        views, position = reader.current()
        k = reader.known_position(views, position, known_at)
        first, last = day(start, "from"), day(end, "to")
        if last < first:
            raise BadParameter("to", f"the end date {last} is before the start date {first}")
        rows = views.diff(first, last, authority=authority or None, known_at=str(k))
        return paged(request, _window(rows, offset, limit), offset, limit, {"known_at": k})

    @api.get("/announcements", response_model=Page[queries.Fact], responses=ERRORS)
    def announcements(
        request: Request,
        at: AtQuery = None,
        authority: TextQuery = None,
        subject: TextQuery = None,
        known_at: KnownAtQuery = None,
        offset: OffsetQuery = 0,
        limit: LimitQuery = PAGE_SIZE,
    ) -> Response:
        """Coordination announcements dated on or before ``at`` (default: all)."""
        views, position = reader.current()
        k = reader.known_position(views, position, known_at)
        rows = views.announcements(
            at=day(at) if at else None,
            authority=authority or None,
            subject=subject or None,
            known_at=str(k),
        )
        return paged(request, _window(rows, offset, limit), offset, limit, {"known_at": k})

    @api.get("/rulings", response_model=Page[queries.Fact], responses=ERRORS)
    def rulings(
        request: Request,
        at: AtQuery = None,
        subject: TextQuery = None,
        known_at: KnownAtQuery = None,
        offset: OffsetQuery = 0,
        limit: LimitQuery = PAGE_SIZE,
    ) -> Response:
        """Court rulings dated on or before ``at`` (default: all)."""
        views, position = reader.current()
        k = reader.known_position(views, position, known_at)
        rows = views.rulings(at=day(at) if at else None, subject=subject or None, known_at=str(k))
        return paged(request, _window(rows, offset, limit), offset, limit, {"known_at": k})

    @api.get("/log", response_model=Page[LogLine], responses=ERRORS)
    def log(
        request: Request,
        start: Annotated[
            int, Query(alias="from", ge=1, le=2**62, description="The first position.")
        ] = 1,
        limit: LimitQuery = PAGE_SIZE,
    ) -> Response:
        """The raw ledger in order of record, from a position (``sanctions log --format json``)."""
        lines = [line_of(e) for e in reader.ledger.read_log(start, limit + 1)]
        next_url = None
        if len(lines) > limit:
            last = lines[limit - 1]["position"]
            next_url = str(request.url.include_query_params(**{"from": last + 1, "limit": limit}))
        return json_response({"items": to_json(lines[:limit]), "next": next_url})

    return api
