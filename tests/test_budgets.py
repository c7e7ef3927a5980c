"""Budgets nobody else can spend (issue 30), against real uvicorn servers on loopback: a
request refused before it is parsed (another site's page, a form or `text/plain` post,
invalid JSON) leaves the client's question budget untouched, a page of another origin
cannot ask at all, and wrong API keys are throttled per address. The browser test runs the
attacker's page in Chromium from a second loopback origin."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from qa.http.api import create_app
from qa.settings import Settings
from tests.conftest import running
from tests.test_page import browser, expect  # noqa: F401 (fixture)

TROOPS = {"question": "How many troops were shipped?"}
CHAT = {"model": "qa", "messages": [{"role": "user", "content": TROOPS["question"]}]}


def serve(index_dir, embedder, **settings):
    return running(create_app(Settings(index_dir=index_dir, **settings), embedder=embedder))


def test_requests_refused_before_parsing_spend_no_question(seed_index_dir, embedder):
    with serve(seed_index_dir, embedder, rate_limit=3) as url:
        ask, chat = f"{url}/ask", f"{url}/v1/chat/completions"
        for _ in range(4):
            # what a page of another site can send without a preflight
            r = httpx.post(
                ask, content=b'{"question": "x"}', headers={"content-type": "text/plain"}
            )
            assert r.status_code == 422
            r = httpx.post(ask, data={"question": "x"})
            assert r.status_code == 422
            r = httpx.post(
                ask, content=b'{"question": "Who', headers={"content-type": "application/json"}
            )
            assert r.status_code == 422
            r = httpx.post(
                chat, content=b'{"model": "qa"', headers={"content-type": "application/json"}
            )
            assert r.status_code == 400
            r = httpx.post(ask, json=TROOPS, headers={"Origin": "http://evil.example"})
            assert r.status_code == 403 and "may not ask questions" in r.json()["detail"]
            r = httpx.post(chat, json=CHAT, headers={"Origin": "null"})
            assert r.status_code == 403 and r.json()["error"]["type"]
        for _ in range(3):
            assert httpx.post(ask, json=TROOPS, timeout=30).status_code == 200
        r = httpx.post(ask, json=TROOPS, timeout=30)
        assert r.status_code == 429 and "QA_RATE_LIMIT" in r.json()["detail"]
        r = httpx.post(chat, json=CHAT, timeout=30)
        assert r.status_code == 429 and r.json()["error"]["type"] == "rate_limit_error"
        # the server's own page (its Origin) still asks
        r = httpx.post(ask, json=TROOPS, headers={"Origin": url, "Authorization": ""}, timeout=30)
        assert r.status_code == 429


def test_wrong_keys_are_throttled_per_address(seed_index_dir, embedder):
    with serve(seed_index_dir, embedder, api_keys="right-key-0001", wrong_key_limit=5) as url:
        statuses = [
            httpx.post(
                f"{url}/documents",
                files={"file": ("a.txt", b"A note.")},
                headers={"Authorization": f"Bearer guess-{n}"},
            ).status_code
            for n in range(40)
        ]
        assert statuses[:5] == [403] * 5 and set(statuses[5:]) == {429}
        # even the right key waits: the address is guessing
        r = httpx.get(f"{url}/documents", headers={"Authorization": "Bearer right-key-0001"})
        assert r.status_code == 429 and "QA_WRONG_KEY_LIMIT" in r.json()["detail"]
        assert int(r.headers["retry-after"]) >= 1
        # requests without a key are not held up
        assert httpx.post(f"{url}/ask", json=TROOPS, timeout=30).status_code == 200


# What the security tester's page did (150 no-cors text/plain posts at /ask; 40 here, past
# the test's budget of 10 and the tarpit's burst of 30), and the same with a typeless body
# (no Content-Type: read as JSON) and a form.
FLOOD_PAGE = """<!doctype html>
<html><body><script>
const target = new URLSearchParams(location.search).get("target");
async function flood() {
  const question = JSON.stringify({question: "How many troops were shipped?"});
  const sends = [];
  for (let i = 0; i < 40; i++) {
    sends.push(fetch(target + "/ask", {method: "POST", mode: "no-cors", body: question,
                                        headers: {"Content-Type": "text/plain"}}).catch(() => 0));
    sends.push(fetch(target + "/ask", {method: "POST", mode: "no-cors",
                                        body: new Blob([question])}).catch(() => 0));
  }
  const form = new URLSearchParams({question: "x"});
  for (let i = 0; i < 20; i++) {
    sends.push(fetch(target + "/ask", {method: "POST", mode: "no-cors", body: form}).catch(() => 0));
  }
  await Promise.all(sends);
  document.body.dataset.done = "yes";
}
flood();
</script></body></html>
"""


def refused_questions(url: str) -> int:
    """How many POST /ask the server refused with 403, as its metrics count them."""
    wanted = ('handler="/ask"', 'status="403"', 'method="POST"')
    for line in httpx.get(f"{url}/metrics").text.splitlines():
        if line.startswith("http_requests_total{") and all(w in line for w in wanted):
            return int(float(line.split()[-1]))
    return 0


@pytest.fixture()
def attacker() -> Iterator[str]:
    async def page(request):
        return HTMLResponse(FLOOD_PAGE)

    with running(Starlette(routes=[Route("/", page)])) as url:
        yield url


def test_a_page_of_another_origin_cannot_spend_the_users_questions(
    browser,  # noqa: F811 (the fixture imported above)
    attacker,
    seed_index_dir,
    embedder,
):
    with serve(seed_index_dir, embedder, rate_limit=10) as site:
        context = browser.new_context()
        try:
            page = context.new_page()
            page.goto(f"{attacker}/?target={site}")
            expect(page.locator("body")).to_have_attribute("data-done", "yes")
        finally:
            context.close()
        # every post reached the server and was refused there, before its body was read
        assert refused_questions(site) == 100
        # the user's own questions: the whole budget is left
        for _ in range(10):
            r = httpx.post(f"{site}/ask", json=TROOPS, timeout=30)
            assert r.status_code == 200 and "1,500" in r.json()["answer"]
