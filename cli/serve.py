"""``sanctions serve``: the read-only HTTP API and web pages (the ``web`` package)."""

from __future__ import annotations

import os
import signal
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click

from cli.context import Session, pass_session
from ledger import LedgerError


def listen(host: str, port: int) -> socket.socket:
    """The listening socket, bound before the server starts, so that a taken port or a bad
    host is one ``Error:`` line and not a traceback from the server's thread."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as e:
        raise LedgerError(
            f"cannot listen on {host}: {e.strerror}; give --host an address"
        ) from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(128)
    except OSError as e:
        sock.close()
        raise LedgerError(
            f"cannot listen on {host}:{port}: {e.strerror}; choose another --port"
        ) from None
    return sock


def _server_class() -> type:
    import uvicorn

    class StoppingServer(uvicorn.Server):
        """SIGINT and SIGTERM stop the server gracefully and the command exits 0: stopping is
        what they ask for (uvicorn would raise the signal again, and click print "Aborted!")."""

        @contextmanager
        def capture_signals(self) -> Iterator[None]:
            previous = {sig: signal.signal(sig, self.handle_exit) for sig in STOP_SIGNALS}
            try:
                yield
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)

    return StoppingServer


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@click.command("serve")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="The address to listen on; only this machine unless you say otherwise.",
)
@click.option(
    "--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="The port."
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Server processes sharing the port (more answer more requests at once).",
)
@pass_session
def serve_command(session: Session, host: str, port: int, workers: int) -> None:
    """Serve the ledger read-only over HTTP: a JSON API (/api, described at /openapi.json)
    and web pages for search, a subject's timeline, lists, diffs and the audit log.

    No endpoint writes. Events appended meanwhile (by the CLI) show up on the next request.

    \b
    Example:
      sanctions --db sqlite:///sanctions.db serve --port 8000
    """
    # Opening refuses a place with no ledger: serving a typo as an empty ledger would answer
    # "not sanctioned" to everything.
    session.ledger  # noqa: B018
    import uvicorn  # the server and its framework load only for this command

    from web.app import DB_VARIABLE, create_app

    Server = _server_class()

    sock = listen(host, port)
    bound_host, bound_port = sock.getsockname()[:2]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    click.echo(
        f"Serving {session.db} read-only at http://{shown}:{bound_port}/ (Ctrl-C stops)",
        err=True,
    )
    sys.stderr.flush()
    if workers == 1:
        config = uvicorn.Config(
            create_app(session.db), log_level="warning", access_log=False, lifespan="on"
        )
        Server(config).run(sockets=[sock])
    else:
        from uvicorn.supervisors import Multiprocess

        # Each worker process builds its own app from the URL (an app object cannot be
        # handed to another process); the supervisor stops them all on SIGINT or SIGTERM.
        os.environ[DB_VARIABLE] = session.db
        config = uvicorn.Config(
            "web.app:from_environment", factory=True, workers=workers, log_level="warning",
            access_log=False, lifespan="on",
        )  # fmt: skip
        Multiprocess(config, sockets=[sock]).run()
    click.echo("Stopped.", err=True)


COMMANDS = [serve_command]
