"""The write queue (qa/http/uploads.py), against real uvicorn servers on loopback: uploads
wait in a bounded queue on workers of their own while questions are answered, a client
has at most half of its places, an upload's work (embedding included) is bounded in
proportion to its size, a client's work per minute too, and a reading worker ends at its
budget even when nobody is left to end it."""

from __future__ import annotations

import concurrent.futures
import pickle
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from qa.http.api import create_app
from qa.http.uploads import upload_seconds
from qa.settings import Settings
from tests.conftest import ROOT, running
from tests.pdf import flooded_pdf

TROOPS = {"question": "How many troops were shipped?"}
# 8,000 one-word sentences: 24 KB, seconds to embed (10,667 sentences and passages)
MANY = b"a. " * 8000
KEYS = [f"key-{n:02d}-abcdefgh" for n in range(8)]


@contextmanager
def serve(index_dir, embedder, **settings) -> Iterator[str]:
    app = create_app(Settings(index_dir=index_dir, **settings), embedder=embedder)
    with running(app) as url:
        yield url


def upload(url: str, name: str, data: bytes, key: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {"X-Requested-With": "tests"}
    return httpx.post(
        f"{url}/documents", files={"file": (name, data)}, headers=headers, timeout=120
    )


def test_the_budget_grows_with_the_size():
    settings = Settings(upload_seconds=10, upload_seconds_per_mb=30)
    assert upload_seconds(settings, 0) == 10
    assert upload_seconds(settings, 1_000_000) == 40


def test_embedding_past_the_budget_is_422_and_the_index_unchanged(fresh_seed_index, embedder):
    with serve(fresh_seed_index, embedder, upload_seconds=1.5, upload_seconds_per_mb=0) as url:
        started = time.monotonic()
        r = upload(url, "many.txt", MANY)
        took = time.monotonic() - started
        assert r.status_code == 422, r.text
        assert "QA_UPLOAD_SECONDS" in r.json()["detail"]
        assert "QA_UPLOAD_SECONDS" in r.json()["detail"]
        assert took < 1.5 + 3  # stopped at the budget, not after the whole embedding
        names = [d["id"] for d in httpx.get(f"{url}/documents").json()]
        assert "many.txt" not in names
        r = upload(url, "note.txt", b"The harbour of Gull Rock closes at dusk.")
        assert r.status_code == 201


def test_a_megabyte_of_text_is_refused_within_its_budget(fresh_seed_index, embedder):
    """The security tester's 1 MB text upload (110 s of server CPU before): refused at its
    budget while questions are answered."""
    sentence = b"The harbour board of Gull Rock met on a Tuesday to discuss the ferry. "
    data = sentence * (1_000_000 // len(sentence))
    settings = {"upload_seconds": 2, "upload_seconds_per_mb": 3}
    with serve(fresh_seed_index, embedder, **settings) as url:
        budget = upload_seconds(Settings(**settings), len(data))
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            started = time.monotonic()
            pending = pool.submit(upload, url, "big.txt", data)
            answered = []
            while not pending.done():
                r = httpx.post(f"{url}/ask", json=TROOPS, timeout=30)
                answered.append(r.status_code == 200 and "1,500" in r.json()["answer"])
                time.sleep(0.3)
            took = time.monotonic() - started
        r = pending.result()
        assert r.status_code == 422 and "QA_UPLOAD_SECONDS_PER_MB" in r.json()["detail"]
        assert took < budget + 5, took
        assert answered and all(answered)


def test_uploads_wait_in_a_bounded_queue_while_questions_are_answered(fresh_seed_index, embedder):
    """Eight clients upload slow files at once: one runs, four wait, three are refused at
    once with 503 and Retry-After; questions are answered all the while."""
    settings = {
        "api_keys": ",".join(KEYS),
        "upload_seconds": 1.0,
        "upload_seconds_per_mb": 0,
        "write_queue": 4,
        "write_rate_limit": 0,
    }
    with serve(fresh_seed_index, embedder, **settings) as url:
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            started = time.monotonic()
            sent = [
                pool.submit(upload, url, f"many{n}.txt", MANY, key) for n, key in enumerate(KEYS)
            ]
            answers = []
            while not all(f.done() for f in sent):
                r = httpx.post(f"{url}/ask", json=TROOPS, timeout=30)
                answers.append(r.status_code)
                time.sleep(0.2)
            replies = [f.result() for f in sent]
            took = time.monotonic() - started
        statuses = sorted(r.status_code for r in replies)
        assert statuses == [422] * 5 + [503] * 3, statuses
        busy = next(r for r in replies if r.status_code == 503)
        assert busy.headers["retry-after"] == "5" and "QA_WRITE_QUEUE" in busy.json()["detail"]
        assert set(answers) == {200} and len(answers) >= 5
        assert took < 5 * (1.0 + 3)


def test_one_client_has_at_most_half_the_places(fresh_seed_index, embedder):
    settings = {"upload_seconds": 1.0, "upload_seconds_per_mb": 0, "write_queue": 4}
    with serve(fresh_seed_index, embedder, write_rate_limit=0, **settings) as url:
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            sent = [pool.submit(upload, url, f"many{n}.txt", MANY) for n in range(4)]
            statuses = sorted(f.result().status_code for f in sent)
        assert statuses == [422, 422, 429, 429], statuses


def test_a_clients_work_per_minute_is_bounded(fresh_seed_index, embedder):
    settings = {
        "api_keys": ",".join(KEYS[:2]),
        "upload_seconds": 1.0,
        "upload_seconds_per_mb": 0,
        "write_seconds_per_minute": 0.5,
    }
    note = b"The harbour of Gull Rock closes at dusk."
    with serve(fresh_seed_index, embedder, **settings) as url:
        assert upload(url, "many.txt", MANY, KEYS[0]).status_code == 422  # a second of work
        r = upload(url, "note.txt", note, KEYS[0])
        assert r.status_code == 429 and "QA_WRITE_SECONDS_PER_MINUTE" in r.json()["detail"]
        assert 1 <= int(r.headers["retry-after"]) <= 60
        assert upload(url, "note.txt", note, KEYS[1]).status_code == 201  # another key


def test_a_reading_worker_ends_itself_at_its_budget():
    """Started as a server starts it, then left alone (its server killed): it ends shortly
    after its time instead of reading on (this PDF takes PDFium about 5 s)."""
    seconds = 1
    worker = subprocess.Popen(
        [sys.executable, "-m", "index.budget", "1024", str(seconds)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    started = time.monotonic()
    worker.stdin.write(pickle.dumps((flooded_pdf(45_000, pages=22), "slow.pdf")))
    worker.stdin.close()
    try:
        worker.wait(timeout=seconds + 5)
    finally:
        worker.kill()
    assert time.monotonic() - started < seconds + 3


def test_file_names_that_show_as_another_are_refused(fresh_seed_index, embedder):
    """U+202E shows "invoice\u202etxt.exe" as "invoiceexe.txt"; invisible characters make
    two names look alike. Refused, named by their code points."""
    with serve(fresh_seed_index, embedder) as url:
        for name in ("invoice\u202etxt.exe.txt", "no\u200bte.txt", "a\u2066b.txt"):
            r = upload(url, name, b"The harbour of Gull Rock closes at dusk.")
            assert r.status_code == 422, name
            assert "direction-changing" in r.json()["detail"] and "U+" in r.json()["detail"]
        assert upload(url, "note.txt", b"The harbour closes at dusk.").status_code == 201


def test_health_shows_no_absolute_folder(fresh_seed_index, embedder, tmp_path):
    with serve(fresh_seed_index, embedder) as url:
        health = httpx.get(f"{url}/health").json()
        assert not health["index_dir"].startswith("/") and health["index_dir"].endswith("index")
        assert not health["reranker"].startswith("/")
    with serve(tmp_path / "none", embedder) as url:
        health = httpx.get(f"{url}/health").json()
        assert health["ready"] is False and str(tmp_path) not in health["error"]
        assert "none" in health["error"]


def test_reading_is_given_only_what_is_left_of_the_upload_budget(fresh_seed_index, embedder):
    """A PDF that takes PDFium about 5 s: refused at its upload budget (1.5 s), not at
    QA_EXTRACT_SECONDS (30)."""
    settings = {"upload_seconds": 1.5, "upload_seconds_per_mb": 0}
    with serve(fresh_seed_index, embedder, **settings) as url:
        started = time.monotonic()
        r = upload(url, "slow.pdf", flooded_pdf(45_000, pages=22))
        took = time.monotonic() - started
    assert r.status_code == 422 and "QA_UPLOAD_SECONDS" in r.json()["detail"], r.text
    assert took < 1.5 + 2.5
