"""The chat page in a real headless Chromium (Debian's, at /usr/bin/chromium; Playwright
never downloads a browser), against the app on loopback with the real model and a copy of
the seed index. Screenshots go to artifacts/; with QA_UPDATE_SCREENSHOT=1 the README's
docs/screenshot.png is refreshed too."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from qa.http.api import create_app
from qa.settings import Settings
from tests.conftest import ROOT, running
from tests.word import word_document

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

CHROMIUM = Path("/usr/bin/chromium")
# Headless on a closed network: no GPU, no sandbox as root, and none of Chromium's own
# background connections (refused here, and slow to give up on).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = ROOT / "artifacts"
README_SCREENSHOT = ROOT / "docs" / "screenshot.png"
LIGHTHOUSE = (
    "The Gull Rock lighthouse\n\n"
    "The lighthouse on Gull Rock was built in 1874 by the harbour board. "
    "Its keeper, Oswin Hale, kept the lamp lit for forty-one years. "
    "The light can be seen from twenty-two nautical miles away on a clear night."
)


@pytest.fixture(scope="module")
def browser() -> Iterator:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `bash scripts/setup-browser.sh` (or `make test`)")
    expect.set_options(timeout=30_000)
    ARTIFACTS.mkdir(exist_ok=True)
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture()
def site(fresh_seed_index, embedder) -> Iterator[str]:
    app = create_app(Settings(index_dir=fresh_seed_index), embedder=embedder)
    with running(app) as url:
        yield url


@pytest.fixture()
def page(browser, site) -> Iterator:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(site)
    yield page
    context.close()
    assert errors == [], errors


def save_small_png(source: Path, target: Path) -> None:
    """The README's copy of a screenshot, in 64 colours (a third of the size)."""
    from PIL import Image

    target.parent.mkdir(exist_ok=True)
    image = Image.open(source).convert("RGB")
    image.quantize(colors=64, method=Image.Quantize.MEDIANCUT).save(target, optimize=True)


def ask(page, question: str):
    """Type the question, send it with Enter, and return the new answer card once done."""
    before = page.locator(".answer").count()
    page.fill("#question", question)
    page.press("#question", "Enter")
    card = page.locator(".answer").nth(before)
    expect(card.locator(".pending")).to_have_count(0)
    # the page takes the next question once the answer's stream has closed
    expect(page.locator("#send")).to_be_enabled()
    return card


def upload(page, name: str, text: str) -> None:
    page.set_input_files(
        "#file", files=[{"name": name, "mimeType": "text/plain", "buffer": text.encode()}]
    )
    expect(page.locator("#docs-status")).to_contain_text(f"Added {name}")


def test_ask_cite_open_upload_delete(page):
    with page.expect_response(lambda r: r.url.endswith("/ask")) as response:
        card = ask(page, "How many troops were shipped?")
    kind = response.value.header_value("content-type") or ""
    assert kind.startswith("text/event-stream"), kind  # the answer was streamed
    expect(card).to_contain_text("1,500")
    chip = card.locator(".chip").first
    expect(chip).to_be_visible()
    page.screenshot(path=ARTIFACTS / "answer.png")

    chip.click()
    hit = page.locator("#viewer-text .hit")
    expect(hit).to_have_count(1)
    expect(hit).to_have_text(card.locator(".source .excerpt").first.inner_text())
    expect(hit).to_contain_text("1,500 special forces troops")
    expect(hit).to_be_in_viewport()
    background = hit.evaluate("node => getComputedStyle(node).backgroundColor")
    assert background not in ("rgba(0, 0, 0, 0)", "transparent")
    expect(page.locator("#viewer-text .near")).to_have_count(1)  # the first sentence has one
    page.screenshot(path=ARTIFACTS / "document.png")
    if os.environ.get("QA_UPDATE_SCREENSHOT"):
        save_small_png(ARTIFACTS / "document.png", README_SCREENSHOT)
    page.keyboard.press("Escape")
    expect(page.locator("#viewer")).to_be_hidden()

    upload(page, "lighthouse.txt", LIGHTHOUSE)
    expect(page.locator("#doc-list li")).to_have_count(2)
    # an upload is marked as such (qa index keeps it), the folder's documents are not
    expect(page.locator('#doc-list li[data-id="lighthouse.txt"]')).to_contain_text("uploaded")
    expect(
        page.locator('#doc-list li[data-id="north-korea-troops-russia.txt"]')
    ).not_to_contain_text("uploaded")
    card = ask(page, "Who kept the lighthouse lamp lit?")
    expect(card).to_contain_text("Oswin Hale")
    expect(card.locator(".source .doc").first).to_contain_text("lighthouse.txt")
    page.screenshot(path=ARTIFACTS / "uploaded.png")

    delete = page.locator('#doc-list li[data-id="lighthouse.txt"] .delete')
    delete.click()
    delete.click()  # the first click asks, the second deletes
    expect(page.locator("#docs-status")).to_contain_text("Deleted lighthouse.txt")
    expect(page.locator("#doc-list li")).to_have_count(1)
    card = ask(page, "Who kept the lighthouse lamp lit?")
    expect(card).not_to_contain_text("Oswin Hale")
    expect(card.locator(".source .doc")).not_to_contain_text(["lighthouse.txt"])
    page.screenshot(path=ARTIFACTS / "deleted.png")


def test_abstention_says_so_and_shows_the_closest_passages(page):
    card = ask(page, "What is the population of Vladivostok?")
    expect(card).to_have_class("answer abstained")
    expect(card).to_contain_text("do not answer")
    expect(card.locator(".passages li").first).to_be_visible()
    expect(card.locator(".chip")).to_have_count(0)
    card.locator(".passages .source").first.click()
    expect(page.locator("#viewer-text .hit").first).to_be_in_viewport()
    page.screenshot(path=ARTIFACTS / "abstained.png")


DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def test_a_word_document_is_picked_cited_and_shown_as_text(page):
    picker = page.locator("#file")
    assert ".docx" in (picker.get_attribute("accept") or "").split(",")
    expect(page.locator("#docs")).to_contain_text(".docx")
    data = word_document(
        "Gull Rock ferry",
        ["The ferry to Gull Rock is run by the island council."],
        table=[["Day", "First ferry"], ["Weekdays", "6:40"]],
        after="The last ferry leaves the island at 18:10 every evening.",
    )
    picker.set_input_files(files=[{"name": "ferry.docx", "mimeType": DOCX, "buffer": data}])
    expect(page.locator("#docs-status")).to_contain_text("Added ferry.docx")

    card = ask(page, "When does the last ferry leave the island?")
    expect(card).to_contain_text("18:10")
    card.locator(".chip").first.click()
    hit = page.locator("#viewer-text .hit")
    expect(hit).to_have_text("The last ferry leaves the island at 18:10 every evening.")
    expect(page.locator("#viewer-text")).to_contain_text("Weekdays | 6:40")
    page.screenshot(path=ARTIFACTS / "docx.png")


MARKUP = (
    "The harbour master of Gull Rock is Edith Marlow. "
    '<img src="x" onerror="window.__pwned = 1"> '
    "<script>window.__pwned = 2</script> "
    '<a href="javascript:window.__pwned = 3" onclick="window.__pwned = 4">click</a>'
)


def test_markup_in_a_document_is_shown_as_text_and_never_runs(page):
    # (a browser sends a double quote in a file name as %22, so the name has none)
    upload(page, "<img src=x onerror=window.__pwned=5>.txt", "Gull Rock has one pub.")
    upload(page, "markup.txt", MARKUP)
    names = page.locator("#doc-list")
    expect(names).to_contain_text("<img src=x onerror=window.__pwned=5>.txt")

    card = ask(page, "Who is the harbour master of Gull Rock?")
    expect(card).to_contain_text("Edith Marlow")
    card.locator(".chip").first.click()
    viewer = page.locator("#viewer-text")
    expect(viewer).to_contain_text('<img src="x" onerror="window.__pwned = 1">')
    expect(viewer).to_contain_text("<script>window.__pwned = 2</script>")
    page.locator('#doc-list li[data-id="markup.txt"] .open').click()
    expect(viewer).to_contain_text("javascript:window.__pwned = 3")
    viewer.get_by_text("click", exact=False).last.click()
    page.wait_for_timeout(300)

    for selector in ["img", "script", "a"]:
        expect(page.locator(f"#viewer-text {selector}, .conversation {selector}")).to_have_count(0)
    expect(page.locator("#doc-list img")).to_have_count(0)
    assert page.evaluate("typeof window.__pwned") == "undefined"
    page.screenshot(path=ARTIFACTS / "markup.png")


def test_phone_width_keyboard_and_follow_up(browser, site):
    context = browser.new_context(viewport={"width": 390, "height": 780}, is_mobile=True)
    page = context.new_page()
    page.goto(site)
    first = ask(page, "Who is NATO's chief?")
    expect(first).to_contain_text("Mark Rutte")
    follow = ask(page, "and what did he say?")
    expect(follow.locator(".note")).to_contain_text("Searched for: and what did he say?")
    expect(follow).to_contain_text("no evidence")
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], width
    expect(page.locator("#send")).to_be_in_viewport()
    page.screenshot(path=ARTIFACTS / "phone.png")

    chip = follow.locator(".chip").first
    chip.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#viewer-text .hit")).to_be_in_viewport()
    page.screenshot(path=ARTIFACTS / "phone-document.png")
    page.keyboard.press("Escape")
    expect(page.locator("#viewer")).to_be_hidden()
    expect(chip).to_be_focused()

    expect(page.locator("#docs")).to_be_hidden()
    page.click("#docs-toggle")
    expect(page.locator("#doc-list li")).to_have_count(1)
    page.screenshot(path=ARTIFACTS / "phone-documents.png")
    context.close()


def test_a_first_upload_creates_the_index(browser, tmp_path, embedder):
    app = create_app(Settings(index_dir=tmp_path / "index"), embedder=embedder)
    with running(app) as url:
        context = browser.new_context()
        page = context.new_page()
        page.goto(url)
        expect(page.locator("#docs-status")).to_contain_text("No documents yet")
        card = ask(page, "Who kept the lighthouse lamp lit?")
        expect(card).to_have_class("answer failed")
        expect(card).to_contain_text("no documents to search yet")
        upload(page, "lighthouse.txt", LIGHTHOUSE)
        expect(page.locator("#doc-list li")).to_have_count(1)
        expect(ask(page, "Who kept the lighthouse lamp lit?")).to_contain_text("Oswin Hale")
        context.close()
