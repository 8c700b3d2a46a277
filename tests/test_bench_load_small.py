"""The load run of ``sanctions serve`` (bench/load.py) end to end at a small size: it starts
the server, asks every scenario, gets no error and reports every figure. Its speed is not
checked here (bench/results holds the 1,000,000-event run)."""

from __future__ import annotations

import shutil
from pathlib import Path
from types import ModuleType

import pytest
from support import EXAMPLE, Sanctions, bench_script, sqlite_url_in


def load_module() -> ModuleType:
    return bench_script("load")


@pytest.mark.parametrize("client", ["python", "wrk"])
def test_a_small_load_run_reports_every_scenario_without_errors(
    tmp_path: Path, client: str
) -> None:
    if client == "wrk" and shutil.which("wrk") is None:
        pytest.skip("wrk is not installed (Debian: apt-get install wrk)")
    url = sqlite_url_in(tmp_path)
    Sanctions(url).ok("import", str(EXAMPLE))
    results = load_module().run_load(url, clients=3, seconds=1.5, requests=60, client=client)
    assert results["head"]["position"] == 41
    assert list(results["scenarios"]) == [
        "floor (GET /api/head)",
        "subject (GET /api/subjects/{id})",
        "list, first page of 100 (GET /api/designations)",
        "subject page, HTML (GET /subjects/{id})",
    ]
    for figures in results["scenarios"].values():
        assert figures["errors"] == 0, figures["first_errors"]
        assert 0 < figures["requests"] <= 60
        assert figures["p50_ms"] <= figures["p95_ms"] <= figures["p99_ms"]
        assert figures["server_cpu_ms_per_request"] > 0
        assert figures["client_cpu_ms_per_request"] >= 0
    assert [t["target"] for t in results["targets"]] == ["subject p95 <= 100 ms", "no errors"]


def test_a_status_other_than_200_is_counted_as_an_error_by_either_client(tmp_path: Path) -> None:
    url = sqlite_url_in(tmp_path)
    Sanctions(url).ok("import", str(EXAMPLE))
    load = load_module()
    clients = ["python"] + (["wrk"] if shutil.which("wrk") else [])
    with load.server(url) as (host, port, _):
        for client in clients:
            figures = load.CLIENTS[client](
                host, port, lambda r: "/api/subjects/no-such-subject", 2, 1.0, 10, 1
            )
            assert figures["errors"] == figures["requests"] == 10, (client, figures)
