"""The README's HTTP API table names the fields the API really returns."""

import re

import pytest

from tests.conftest import ROOT


def documented_fields(route: str) -> set[str]:
    """The field names in the answer column of the README's row for ``route``."""
    for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines():
        if line.startswith(f"| `{route}`"):
            answer = line.split("|")[2]
            return set(re.findall(r'"(\w+)"', answer))
    raise AssertionError(f"no README row for {route}")


@pytest.mark.parametrize(
    "route, request_",
    [
        ("POST /ask", ("post", "/ask", {"question": "How many troops were shipped?"})),
        ("GET /health", ("get", "/health", None)),
    ],
)
def test_readme_fields_are_the_api_fields(client, route, request_):
    method, path, body = request_
    r = client.request(method, path, json=body)
    assert r.status_code == 200
    assert documented_fields(route) == set(r.json())
