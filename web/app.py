"""The ASGI application of ``sanctions serve``: the API, the pages, and what every response
carries (a Content-Security-Policy allowing only the server's own resources)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import psycopg
from eventsourcing.persistence import PersistenceError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ledger import LedgerError, __version__
from ledger.errors import NotFound, ProjectionsBehind
from web import api, pages
from web.reader import BadParameter, Reader

STATIC = Path(__file__).parent / "static"

SECURITY_HEADERS = {
    # Only the server's own files: no inline script or style, nothing from another host.
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


class SecurityHeaders:
    """Adds ``SECURITY_HEADERS`` to every response (plain ASGI: no per-request task)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.headers = [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *self.headers]
            await send(message)

        await self.app(scope, receive, send_with_headers)


DB_VARIABLE = "SANCTIONS_SERVE_DB"


def from_environment() -> FastAPI:
    """The app of one worker process of ``sanctions serve --workers N``."""
    return create_app(os.environ[DB_VARIABLE])


def create_app(url: str) -> FastAPI:
    """The server for the ledger at ``url``: reads only, caught up before each answer."""
    reader = Reader(url)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        reader.close()

    app = FastAPI(
        title="sanctions-ledger",
        version=__version__,
        description="A read-only view of a bitemporal ledger of economic sanctions. "
        "`at` is the date asked about (valid time), `known_at` the moment of record "
        "(a position, a timestamp or a date), exactly as on the command line.",
        # The framework's API pages load their scripts from a CDN: none are offered.
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
        lifespan=lifespan,
    )
    app.state.reader = reader
    app.include_router(api.router(reader))
    app.include_router(pages.router(reader))
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    app.add_middleware(SecurityHeaders)

    def answer(
        request: Request, status: int, message: str, parameter: str | None = None
    ) -> Response:
        if request.url.path.startswith("/api") or request.url.path == "/openapi.json":
            return JSONResponse({"error": message, "parameter": parameter}, status_code=status)
        return pages.error_page(request, status, message)

    @app.exception_handler(BadParameter)
    async def bad_parameter(request: Request, e: BadParameter) -> Response:
        return answer(request, 400, str(e), e.parameter)

    @app.exception_handler(LedgerError)
    async def refused(request: Request, e: LedgerError) -> Response:
        if isinstance(e, NotFound):
            return answer(request, 404, str(e))
        if isinstance(e, ProjectionsBehind):
            return answer(request, 503, str(e))
        return answer(request, 400, str(e))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, e: RequestValidationError) -> Response:
        first = e.errors()[0]
        location = [str(part) for part in first.get("loc", ()) if part not in ("query", "path")]
        parameter = location[0] if location else None
        message = str(first.get("msg", "invalid value"))
        text = f"{parameter}: {message}" if parameter else message
        return answer(request, 400, text, parameter)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, e: HTTPException) -> Response:
        if e.status_code == 405:
            message = "method not allowed: this server only reads (GET)"
        elif e.status_code == 404:
            message = f"no such page: {request.url.path}"
        else:
            message = str(e.detail)
        response = answer(request, e.status_code, message)
        if e.headers:
            response.headers.update(e.headers)
        return response

    for failure in (PersistenceError, SQLAlchemyError, psycopg.Error):

        @app.exception_handler(failure)
        async def database_error(request: Request, e: Exception) -> Response:
            # The database itself failed (unreachable, locked too long): not the request.
            return answer(request, 503, f"database error: {e}")

    default_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = default_openapi()
            # Malformed parameters answer 400 with ErrorBody (above), never the default 422.
            for path in schema["paths"].values():
                for operation in path.values():
                    operation["responses"].pop("422", None)
            for name in ("HTTPValidationError", "ValidationError"):
                schema.get("components", {}).get("schemas", {}).pop(name, None)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
