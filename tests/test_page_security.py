"""The page's security in a real headless Chromium (as tests/test_page.py runs it): a page of
another loopback origin cannot change the documents (CSRF), the chat page itself still can,
under its Content-Security-Policy; with keys configured it asks for one; a document with
instruction-like sentences is marked."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from qa.http.api import create_app
from qa.settings import Settings
from tests.conftest import SEED_FILE, running
from tests.test_injected_documents import INJECTED
from tests.test_page import LIGHTHOUSE, ask, browser, expect, upload  # noqa: F401 (fixture)

SEED_ID = SEED_FILE.name
FORGED = "North Korea has shipped 99,999 special forces troops to Russia’s far east."

# What the security tester's page did, and more: a no-cors multipart fetch replacing the
# seed document, a CORS fetch that asks to send the header, and a real form post with a file.
ATTACKER_PAGE = """<!doctype html>
<html><body>
<form id="form" method="post" enctype="multipart/form-data" target="sink">
  <input id="file" type="file" name="file">
</form>
<iframe name="sink"></iframe>
<script>
const target = new URLSearchParams(location.search).get("target");
const forged = new File([FORGED], SEED, {type: "text/plain"});
async function attack() {
  const body = new FormData();
  body.append("file", forged);
  try {  // the request is sent; its answer is withheld from this page (CORP)
    await fetch(target + "/documents", {method: "POST", mode: "no-cors", body});
  } catch (error) { /* carry on */ }
  try {
    await fetch(target + "/documents", {method: "POST", body, headers: {"X-Requested-With": "x"}});
    document.body.dataset.cors = "sent";
  } catch (error) {
    document.body.dataset.cors = "blocked";
  }
  const files = new DataTransfer();
  files.items.add(new File([FORGED], "forged.txt", {type: "text/plain"}));
  document.getElementById("file").files = files.files;
  const form = document.getElementById("form");
  form.action = target + "/documents";
  form.submit();
  document.body.dataset.done = "yes";
}
attack();
</script>
</body></html>
""".replace("FORGED", json.dumps(FORGED)).replace("SEED", json.dumps(SEED_ID))


@pytest.fixture()
def attacker() -> Iterator[str]:
    """A second loopback origin serving the attacker's page."""

    async def page(request):
        return HTMLResponse(ATTACKER_PAGE)

    with running(Starlette(routes=[Route("/", page)])) as url:
        yield url


def serve(index_dir, embedder, **settings):
    return running(create_app(Settings(index_dir=index_dir, **settings), embedder=embedder))


@pytest.fixture()
def context(browser) -> Iterator:  # noqa: F811 (the fixture imported above)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    yield context
    context.close()


def watch(page) -> list[str]:
    """The page's script errors and Content-Security-Policy violations."""
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on(
        "console",
        lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None,
    )
    return problems


def test_a_page_of_another_origin_cannot_change_the_documents(
    context, attacker, fresh_seed_index, embedder
):
    with serve(fresh_seed_index, embedder) as site:
        page = context.new_page()
        posts = []
        page.on(
            "response",
            lambda r: (
                posts.append(r.status)
                if r.url == f"{site}/documents" and r.request.method == "POST"
                else None
            ),
        )
        with page.expect_response(
            lambda r: r.url == f"{site}/documents" and r.frame.name == "sink"
        ):
            page.goto(f"{attacker}/?target={site}")
            expect(page.locator("body")).to_have_attribute("data-done", "yes")
        expect(page.locator("body")).to_have_attribute("data-cors", "blocked")
        assert posts and all(status == 403 for status in posts), posts

        documents = httpx.get(f"{site}/documents", timeout=30).json()
        assert [d["id"] for d in documents] == [SEED_ID]
        text = httpx.get(f"{site}/documents/{SEED_ID}", timeout=30).json()["text"]
        assert text == SEED_FILE.read_text(encoding="utf-8")
        answer = httpx.post(
            f"{site}/ask", json={"question": "How many troops were shipped?"}, timeout=30
        ).json()
        assert "1,500" in answer["answer"] and "99,999" not in answer["text"]

        # the chat page itself still adds documents, and shows who added them
        own = context.new_page()
        problems = watch(own)
        own.goto(site)
        upload(own, "lighthouse.txt", LIGHTHOUSE)
        item = own.locator('#doc-list li[data-id="lighthouse.txt"]')
        expect(item).to_contain_text("added by http")
        expect(ask(own, "Who kept the lighthouse lamp lit?")).to_contain_text("Oswin Hale")
        own.locator(".answer .chip").first.click()
        expect(own.locator("#viewer-text .hit")).to_have_count(1)
        assert problems == []


def test_with_keys_the_page_asks_for_one_and_sends_it(context, fresh_seed_index, embedder):
    with serve(fresh_seed_index, embedder, api_keys="page-key-0001") as site:
        page = context.new_page()
        problems = watch(page)
        page.goto(site)
        expect(page.locator("#doc-list li")).to_have_count(1)  # reads need no key
        expect(page.locator("#key-form")).to_be_hidden()
        page.set_input_files(
            "#file",
            files=[
                {"name": "lighthouse.txt", "mimeType": "text/plain", "buffer": LIGHTHOUSE.encode()}
            ],
        )
        expect(page.locator("#docs-status")).to_contain_text("needs an API key")
        expect(page.locator("#key-form")).to_be_visible()
        page.screenshot(path="artifacts/key.png")

        page.fill("#api-key", "page-key-0001")
        page.click("#key-form button[type=submit]")
        expect(page.locator("#key-form")).to_be_hidden()
        upload(page, "lighthouse.txt", LIGHTHOUSE)
        expect(page.locator('#doc-list li[data-id="lighthouse.txt"]')).to_contain_text(
            "added by key1"
        )
        # the key is kept for the tab only
        assert page.evaluate("sessionStorage.getItem('qa-api-key')") == "page-key-0001"
        assert page.evaluate("localStorage.length") == 0
        assert problems == []


def test_with_keys_for_reads_the_page_asks_before_listing(context, fresh_seed_index, embedder):
    with serve(fresh_seed_index, embedder, api_keys="page-key-0001", keys_for_reads=True) as site:
        page = context.new_page()
        page.goto(site)
        expect(page.locator("#key-form")).to_be_visible()
        page.fill("#api-key", "page-key-0001")
        page.press("#api-key", "Enter")
        expect(page.locator("#doc-list li")).to_have_count(1)
        expect(ask(page, "How many troops were shipped?")).to_contain_text("1,500")


def test_a_document_with_instructions_is_marked(context, fresh_seed_index, embedder):
    with serve(fresh_seed_index, embedder) as site:
        page = context.new_page()
        page.goto(site)
        upload(page, "notice.txt", INJECTED)
        item = page.locator('#doc-list li[data-id="notice.txt"]')
        expect(item.locator(".flag")).to_contain_text("3 instruction-like sentences, never cited")
        expect(page.locator(f'#doc-list li[data-id="{SEED_ID}"] .flag')).to_have_count(0)
        item.locator(".open").click()
        expect(page.locator("#viewer-text .flagged")).to_have_count(3)
        card = ask(page, "What should readers do?")
        expect(card).not_to_contain_text("PWNED")
        expect(card).not_to_contain_text("evil.example")
        page.screenshot(path="artifacts/flagged.png")
