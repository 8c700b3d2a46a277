"""Helpers for the web tests: the app in-process, and ``sanctions serve`` as a real process."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

SANCTIONS = str(Path(sys.executable).with_name("sanctions"))


@contextmanager
def serving(url: str, *extra: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """``sanctions serve --port 0`` on ``url``; yields its base URL, stops it with SIGINT."""
    proc = subprocess.Popen(
        [SANCTIONS, "--db", url, "serve", "--port", "0", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        found = re.search(r"at (http://\S+/) ", line)
        assert found, line + proc.stderr.read()
        base = found.group(1).rstrip("/")
        deadline = time.monotonic() + 60
        while True:  # the socket listens before the app is ready: wait for an answer
            try:
                httpx.get(base + "/api/head", timeout=5)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the server never answered"
                assert proc.poll() is None, proc.stderr.read()
                time.sleep(0.1)
        yield base
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                assert proc.wait(timeout=20) == 0
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                raise
