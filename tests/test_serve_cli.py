"""``sanctions serve`` as a real process: it binds to this machine only by default, stops on
a signal, refuses a taken port or a missing ledger with one line, and stays current."""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
from support import EXAMPLE, Sanctions
from web_support import SANCTIONS, serving

GHR = "EU Global Human Rights Sanctions Regime"


def test_serve_listens_on_the_loopback_only_unless_told_and_stops_cleanly_on_sigterm(
    sanctions: Sanctions,
) -> None:
    sanctions.ok("import", str(EXAMPLE))
    proc = subprocess.Popen(
        [SANCTIONS, "--db", sanctions.url, "serve", "--port", "0"],
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    line = proc.stderr.readline()
    assert line.startswith(f"Serving {sanctions.url} read-only at http://127.0.0.1:"), line
    port = int(line.split("http://127.0.0.1:")[1].split("/")[0])
    with socket.socket() as probe:
        probe.settimeout(2)
        probe.connect(("127.0.0.1", port))  # bound on the loopback
    deadline = time.monotonic() + 60
    while True:
        try:
            assert httpx.get(f"http://127.0.0.1:{port}/api/head").json()["position"] == 41
            break
        except httpx.TransportError:
            assert time.monotonic() < deadline
            time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == 0
    assert proc.stderr.read() == "Stopped.\n"


def test_ctrl_c_stops_the_server_cleanly(sanctions: Sanctions) -> None:
    sanctions.ok("import", str(EXAMPLE))
    proc = subprocess.Popen(
        [SANCTIONS, "--db", sanctions.url, "serve", "--port", "0"],
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    base = proc.stderr.readline().split(" at ")[1].split()[0]
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(f"{base}api/head")
            break
        except httpx.TransportError:
            assert time.monotonic() < deadline
            time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=20) == 0
    assert proc.stderr.read() == "Stopped.\n"


def test_events_appended_by_the_cli_show_up_in_a_running_server(sanctions: Sanctions) -> None:
    sanctions.ok("import", str(EXAMPLE))
    with serving(sanctions.url) as base:
        on = httpx.get(f"{base}/api/designations?authority=EU&at=2021-03-05").json()["items"]
        assert "igor-krasnov" in {row["subject_id"] for row in on}
        sanctions.ok("delist", "igor-krasnov", "--authority", "EU", "--regime", GHR,
                     "--effective", "2021-03-04")  # fmt: skip
        after = httpx.get(f"{base}/api/designations?authority=EU&at=2021-03-05").json()["items"]
        assert "igor-krasnov" not in {row["subject_id"] for row in after}
        page = httpx.get(f"{base}/subjects/igor-krasnov?at=2021-03-05").text
        assert 'class="mark mark-delisted"' in page


def test_a_taken_port_is_one_error_line(sanctions: Sanctions) -> None:
    sanctions.ok("import", str(EXAMPLE))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = subprocess.run(
            [SANCTIONS, "--db", sanctions.url, "serve", "--port", str(port)],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"Error: cannot listen on 127.0.0.1:{port}: Address already in use; choose another --port"
    ]


def test_a_missing_sqlite_ledger_is_refused_not_served_empty(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/typo.db"
    result = subprocess.run(
        [SANCTIONS, "--db", url, "serve", "--port", "0"], capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"Error: no ledger at {url}; 'sanctions init' creates one"
    ]
    assert not (tmp_path / "typo.db").exists()


def test_serve_help_ends_with_an_example(sanctions: Sanctions) -> None:
    out = sanctions.ok("serve", "--help").stdout
    assert "sanctions --db sqlite:///sanctions.db serve --port 8000" in out
    assert "--host TEXT" in out and "[default: 127.0.0.1]" in out


def test_several_workers_answer_stay_current_and_stop_together(sanctions: Sanctions) -> None:
    sanctions.ok("import", str(EXAMPLE))
    with serving(sanctions.url, "--workers", "2") as base:
        assert httpx.get(f"{base}/api/head").json()["position"] == 41
        sanctions.ok("delist", "igor-krasnov", "--authority", "EU", "--regime", GHR,
                     "--effective", "2021-03-04")  # fmt: skip
        for _ in range(8):  # new connections: whichever worker answers is current
            with httpx.Client() as client:
                rows = client.get(f"{base}/api/designations?authority=EU&at=2021-03-05").json()
                assert "igor-krasnov" not in {r["subject_id"] for r in rows["items"]}
