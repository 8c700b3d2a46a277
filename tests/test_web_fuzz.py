"""The OpenAPI description fuzzed with schemathesis: over a thousand generated requests, valid
and invalid, against the example ledger; no 5xx, every response as the description says."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from starlette.testclient import TestClient
from support import EXAMPLE, Sanctions, sqlite_url_in

from web.app import create_app

REQUESTS = 1200
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def test_over_a_thousand_generated_requests_get_no_5xx_and_match_the_schema(
    tmp_path: Path,
) -> None:
    url = sqlite_url_in(tmp_path)
    Sanctions(url).ok("import", str(EXAMPLE))
    app = create_app(url)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    cases = st.one_of(
        schema.as_strategy(generation_mode=GenerationMode.POSITIVE),
        schema.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    )
    statuses: Counter[int] = Counter()
    operations: Counter[str] = Counter()

    with TestClient(app):  # the app's lifespan, as under the server

        @settings(
            max_examples=REQUESTS,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=cases)
        def check(case: Case) -> None:
            response = case.call_and_validate(checks=CHECKS)
            statuses[response.status_code] += 1
            operations[case.operation.label] += 1

        check()

    assert sum(statuses.values()) >= 1000, statuses
    assert not [s for s in statuses if s >= 500], statuses
    assert statuses[200] >= 100 and statuses[400] >= 100, statuses  # both paths exercised
    assert len(operations) == 11, operations
