"""Property-based tests of every endpoint from the OpenAPI schema (schemathesis): over a
thousand generated requests, valid and not, against a real server on a copy of the seed
index; none may get a 5xx.

Cases are drawn with hypothesis from each operation's strategy directly: schemathesis's
pytest plugin does not run under this pytest."""

from __future__ import annotations

import shutil

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from qa.http.api import create_app
from qa.settings import Settings
from tests.conftest import running

pytestmark = pytest.mark.slow

EXAMPLES = 260  # per operation that has that many (four do; /health and /documents one)


def checked(operation, url: str, calls: list[tuple[str, int]]):
    """A hypothesis test calling the server with ``operation``'s generated cases."""

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def call(case) -> None:
        response = case.call(base_url=url, timeout=60)
        calls.append((operation.label, response.status_code))
        case.validate_response(response, checks=[not_a_server_error])

    return call


def test_no_generated_request_gets_a_server_error(tmp_path, seed_index_dir, embedder):
    index_dir = tmp_path / "index"
    shutil.copytree(seed_index_dir, index_dir)
    # a thousand generated requests, many refused: refusals sent at once (no tarpit)
    config = Settings(
        index_dir=index_dir, max_upload_bytes=100_000, extract_seconds=10, refusal_wait_seconds=0
    )
    app = create_app(config, embedder=embedder)
    calls: list[tuple[str, int]] = []
    with running(app, config) as url:
        schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
        operations = [result.ok() for result in schema.get_all_operations()]
        for operation in operations:
            checked(operation, url, calls)()
    labels = {label for label, _ in calls}
    assert len(calls) >= 1000 and len(labels) == len(operations) >= 6, (len(calls), labels)
    assert not [c for c in calls if c[1] >= 500]
