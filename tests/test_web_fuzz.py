"""Property-based fuzzing of the JSON API with schemathesis against the published OpenAPI
schema: whatever a client sends, the console answers without a server error (5xx), and
its answers conform to the schema it publishes.

Every operation is called with a live bearer token (an approver's, so grant actions reach
the library's rules) and without one; logout is left out so the token survives the run.
The assessment and risk register operations run again with the DPO's token, so that their
edits reach the library's checks instead of the refusal.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from handover.web.app import create_app
from web_support import TestClock, api_token, build_scanned_workspace


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    path: Path = tmp_path_factory.mktemp("fuzz") / "ws"
    ready = build_scanned_workspace(path, customers=60)
    app = create_app(path, clock=TestClock(ready + dt.timedelta(minutes=1)))
    yield app


@pytest.fixture(scope="module")
def fuzz_schema(fuzz_app: Any) -> Any:
    return schemathesis.openapi.from_asgi("/api/openapi.json", fuzz_app).exclude(path="/api/logout")


@pytest.fixture(scope="module")
def tokens(fuzz_app: Any) -> dict[str, dict[str, str]]:
    """An approver's and the DPO's bearer headers, taken before any fuzzing (the login
    throttle refuses the client after the fuzzer's wrong passwords), and an assessment
    for the ids to find."""
    from starlette.testclient import TestClient

    with TestClient(fuzz_app) as client:
        out = {"approver": api_token(client, "zhoujie"), "dpo": api_token(client, "wangmin")}
        r = client.post("/api/pia", json={"title": "fuzz"}, headers=out["dpo"])
        assert r.status_code == 200, r.text
    return out


CHECKS = (
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
)


def fuzz_all(operations: list[Any], *tokens: dict[str, str]) -> list[int]:
    """Each operation in its own Hypothesis run (schemathesis's pytest plugin does not
    load with this pytest; the strategies are the same), each case called with every one
    of ``tokens``; the status codes answered."""
    calls: list[int] = []
    for op in operations:

        @given(case=op.as_strategy())
        @settings(
            max_examples=25,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def fuzz(case: Any) -> None:
            for headers in tokens:
                response = case.call(headers=headers)
                calls.append(response.status_code)
                assert response.status_code < 500, (case.method, case.path, response.text[:300])
                case.validate_response(response, checks=CHECKS)

        fuzz()
    return calls


def test_api_has_no_server_error(fuzz_schema: Any, tokens: dict[str, dict[str, str]]) -> None:
    operations = [r.ok() for r in fuzz_schema.get_all_operations()]
    assert len(operations) >= 12
    calls = fuzz_all(operations, tokens["approver"], {})
    assert len(calls) >= 12 * 2 and max(calls) < 500


def test_records_api_as_the_dpo_has_no_server_error(
    fuzz_schema: Any, tokens: dict[str, dict[str, str]]
) -> None:
    """The assessment and risk register calls fuzzed with the DPO's token, so that the
    edits reach the library's checks (an approver's token is refused before them)."""
    records = fuzz_schema.include(path_regex=r"^/api/(pia|risks)")
    operations = [r.ok() for r in records.get_all_operations()]
    assert len(operations) >= 9
    calls = fuzz_all(operations, tokens["dpo"])
    assert 200 in calls and max(calls) < 500


def test_governance_and_incidents_api_as_the_dpo_has_no_server_error(
    fuzz_schema: Any, tokens: dict[str, dict[str, str]]
) -> None:
    """The NDA, training, vendor, incident and drill calls fuzzed with the DPO's token
    (``governance.manage`` and ``incident.manage``), so that the bodies reach the
    library's checks."""
    routes = fuzz_schema.include(path_regex=r"^/api/(ndas|training|vendors|incidents|drills)")
    operations = [r.ok() for r in routes.get_all_operations()]
    assert len(operations) >= 20
    calls = fuzz_all(operations, tokens["dpo"])
    assert 200 in calls and max(calls) < 500
