"""Schemathesis against the served OpenAPI document: no request, however odd, gets a 5xx, and what
the API answers is what its document says (status codes, content types, response bodies).

Bounded and deterministic: a fixed number of derandomized examples per operation, so a failure
is reproducible by running the file again. `/api/v1/stream` is fuzzed only unauthenticated: signed
in, it is an endless Server-Sent Events response (tests/integration/test_api_authorization.py
covers it signed in).
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.integration.api_support import ApiUnderTest

pytestmark = pytest.mark.integration

EXAMPLES = 25
STREAM = "/api/v1/stream"
CONFORMANCE = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def _fuzz(api: ApiUnderTest, headers: dict[str, str], checks: list, skip: set[str],
          order_ids: list[str]) -> dict[str, str]:
    """Run every operation's generated cases; the first failure of each operation, by its label."""
    schema = schemathesis.openapi.from_url(f"{api.url}/api/v1/openapi.json")
    failures: dict[str, str] = {}
    ran = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path in skip:
            continue
        strategies = [operation.as_strategy(mode) for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)]
        # Random ids only ever meet the 404; real ones reach the state machine.
        if "{order_id}" in operation.path:
            strategies += [operation.as_strategy(path_parameters={"order_id": oid}) for oid in order_ids]

        @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
                  suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
        @given(case=st.one_of(strategies))
        def exercise(case) -> None:
            response = case.call(base_url=api.url, headers=headers, timeout=10)
            # Negative cases are invalid on purpose: only "never a 5xx" holds for them.
            positive = case.meta is None or case.meta.generation.mode is GenerationMode.POSITIVE
            case.validate_response(response, checks=checks if positive else [not_a_server_error])

        ran += 1
        try:
            exercise()
        except FailureGroup as group:
            failures[operation.label] = str(group.message if hasattr(group, "message") else group)[:3000]
    assert ran >= 15, f"only {ran} operations fuzzed: is the document served?"
    return failures


def test_signed_in_requests_never_get_a_server_error_and_match_the_document(module_api):
    orders = [module_api.open_order(summary="楼上装修噪音扰民，电话13912345678"),
              module_api.open_order(summary="小区路灯坏了一个多星期", address="萧山区北干街道")]
    token = module_api.services.identity.issue_token("admin", "fuzz", module_api.clock())
    failures = _fuzz(module_api, {"Authorization": f"Bearer {token}"}, CONFORMANCE, {STREAM}, orders)
    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())


def test_a_town_operator_fuzzing_gets_no_server_error_either(module_api):
    orders = [module_api.open_order(), module_api.open_order(address="萧山区北干街道")]
    token = module_api.services.identity.issue_token("xintang-system", "fuzz", module_api.clock())
    failures = _fuzz(module_api, {"Authorization": f"Bearer {token}"}, CONFORMANCE, {STREAM}, orders)
    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())


def test_anonymous_requests_never_get_a_server_error_and_match_the_document(module_api):
    failures = _fuzz(module_api, {}, CONFORMANCE, set(), [module_api.open_order()])
    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())
