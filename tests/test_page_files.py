"""The chat page and the original files, in a real headless Chromium: a citation into a PDF
opens its page drawn by pdf.js with the sentence marked (and the extracted text on a
toggle), the Documents panel scopes questions, and an uploaded HTML file served back
cannot run script in qa's origin."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from index.build import index_paths
from index.chunk import Chunking
from index.files import KeptFiles, files_beside
from qa.http.api import create_app
from qa.settings import Settings
from tests.conftest import SHARED, running
from tests.placed import BREAKWATER, write_folder
from tests.test_page import ARTIFACTS, ask, browser, expect  # noqa: F401 (a fixture)


@pytest.fixture(scope="module")
def placed_index(tmp_path_factory, embedder) -> Path:
    root = tmp_path_factory.mktemp("placed-page")
    write_folder(root / "docs")
    index_dir = root / "index"
    kept = KeptFiles(files_beside(index_dir))
    index_paths([root / "docs"], index_dir, embedder, Chunking(), files=kept)
    return index_dir


@pytest.fixture()
def site(placed_index, tmp_path, embedder) -> Iterator[str]:
    index_dir = tmp_path / "index"
    shutil.copytree(placed_index, index_dir)
    shutil.copytree(files_beside(placed_index), files_beside(index_dir))
    app = create_app(Settings(index_dir=index_dir), embedder=embedder)
    with running(app) as url:
        yield url


@pytest.fixture()
def page(browser, site) -> Iterator:  # noqa: F811
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    errors: list[str] = []  # script errors, and pdf.js breaking the page's CSP
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "console",
        lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.goto(site)
    yield page
    context.close()
    assert errors == [], errors


def test_a_citation_into_a_pdf_opens_its_page_with_the_sentence_marked(page):
    card = ask(page, "How much did the new breakwater cost?")
    expect(card.locator(".source .doc").first).to_contain_text("report.pdf · page 3")
    card.locator(".chip").first.click()
    sheet = page.locator('#viewer-pdf .pdf-page[data-page="3"][data-ready="true"]')
    expect(sheet).to_be_visible()
    expect(page.locator("#viewer-where")).to_have_text("page 3")
    expect(page.locator("#viewer-pdf .pdf-nav")).to_contain_text("Page 3 of 3")
    marked = sheet.locator(".textLayer span.hit")
    expect(marked.first).to_be_visible()
    assert "breakwater cost 4.2 million" in " ".join(marked.all_text_contents())
    # the page is drawn: the canvas holds more than white
    inked = sheet.locator("canvas").evaluate(
        """canvas => {
            const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
            for (let i = 0; i < data.length; i += 4) if (data[i] < 128) return true;
            return false;
        }"""
    )
    assert inked
    page.screenshot(path=ARTIFACTS / "pdf-page.png")

    page.click("#viewer-mode")  # the extracted text instead
    expect(page.locator("#viewer-pdf")).to_be_hidden()
    expect(page.locator("#viewer-text .hit")).to_have_text(BREAKWATER)
    page.click("#viewer-mode")
    expect(sheet).to_be_visible()


def test_ticked_documents_scope_the_question(page):
    item = page.locator('#doc-list li[data-id="ferry-2024.txt"]')
    expect(item).to_be_visible()
    with page.expect_request(lambda r: r.url.endswith("/ask")) as asked:
        item.locator(".pick").check()
        expect(page.locator("#scope")).to_contain_text("Asking only ferry-2024.txt")
        card = ask(page, "When does the island ferry depart?")
    assert asked.value.post_data_json["documents"] == ["ferry-2024.txt"]
    expect(card).to_contain_text("half past seven")
    expect(card.locator(".source .doc")).to_contain_text(["ferry-2024.txt"])
    page.click("#scope-clear")
    expect(page.locator("#scope")).to_be_hidden()
    expect(item.locator(".pick")).not_to_be_checked()


def test_tags_are_edited_in_the_documents_panel_and_scope_the_question(page):
    item = page.locator('#doc-list li[data-id="ferry-2019.txt"]')
    item.locator(".tags-edit").click()
    item.locator(".tag-form input").fill("early, timetables")
    item.locator(".tag-form button").click()
    expect(page.locator("#docs-status")).to_contain_text("ferry-2019.txt: #early #timetables")
    expect(item.locator(".tags")).to_have_text("#early #timetables")
    with page.expect_request(lambda r: r.url.endswith("/ask")) as asked:
        page.locator('#tag-list [data-tag="early"] input').check()
        expect(page.locator("#scope")).to_contain_text("the documents tagged #early")
        card = ask(page, "When does the island ferry depart?")
    assert asked.value.post_data_json["tags"] == ["early"]
    expect(card).to_contain_text("nine o'clock")


def test_an_uploaded_html_file_cannot_run_script_in_qas_origin(page, site):
    evil = (
        b"<html><body><h1>Notice</h1><p>The office opens at nine.</p>"
        b"<script>window.ran = true; localStorage.setItem('owned', '1');</script>"
        b'<img src=x onerror="window.ran = true"></body></html>'
    )
    page.set_input_files(
        "#file", files=[{"name": "notice.html", "mimeType": "text/html", "buffer": evil}]
    )
    expect(page.locator("#docs-status")).to_contain_text("Added notice.html")
    response = page.goto(f"{site}/documents/notice.html/file")
    assert response.status == 200 and response.body() == evil
    assert page.evaluate("document.contentType") == "text/plain"
    assert page.evaluate("window.ran") is None
    assert page.evaluate("window.origin") == "null"  # sandboxed: not qa's origin
    page.goto(site)
    assert page.evaluate("localStorage.getItem('owned')") is None


REAL_PDFS = SHARED / "data" / "real-pdfs"


@pytest.mark.skipif(not REAL_PDFS.is_dir(), reason="the shared real-pdfs data set is not here")
@pytest.mark.parametrize("name", ["pdflatex-4-pages.pdf", "multicolumn.pdf"])
def test_sentences_of_real_pdfs_are_found_on_their_page(page, site, name):
    """PDFs as pdfTeX writes them (embedded fonts, ligatures, hyphenation, two columns):
    the page a sentence is on is drawn, and the sentence is found in its text layer."""
    data = (REAL_PDFS / name).read_bytes()
    page.set_input_files(
        "#file", files=[{"name": name, "mimeType": "application/pdf", "buffer": data}]
    )
    expect(page.locator("#docs-status")).to_contain_text(f"Added {name}")
    doc = httpx.get(f"{site}/documents/{name}", timeout=30).json()
    long = [(a, b) for a, b in doc["sentences"] if 60 <= b - a <= 400]
    chosen = [long[len(long) * k // 4] for k in (1, 2, 3)]
    for start, end in chosen:
        on = max(p for offset, p in doc["pages"] if offset <= start)
        page.evaluate(f"openDocument({name!r}, {start}, {end})")
        sheet = page.locator(f'#viewer-pdf .pdf-page[data-page="{on}"][data-ready="true"]')
        expect(sheet).to_be_visible()
        marked = " ".join(sheet.locator(".textLayer span.hit").all_text_contents())
        words = doc["text"][start:end].split()
        assert words[0].strip("“”\"'([") in marked and words[1] in marked, (
            doc["text"][start:end],
            marked,
        )
    page.screenshot(path=ARTIFACTS / f"real-{name}.png")
