"""Several writers of one index (a server's uploads and deletes, `qa index`): none saves over
a newer index, a server answers from what is on disk, a writer's death loses nothing, a full
disk is a clear error, and each change reads, splits and embeds only what it changes."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import index.build
import qa.http.documents
from index.build import build, index_paths
from index.chunk import Chunking
from index.lock import writing
from index.read import Document, read_documents
from index.store import load_index
from index.stores.segments import SegmentStore
from qa.engine import Engine
from qa.http.api import create_app
from qa.settings import Settings
from tests.conftest import ROOT, SEED_FILE, running
from tests.pdf import flooded_pdf
from tests.test_cli import run
from tests.test_documents_api import LIGHTHOUSE, SEED_ID, Server, serve

FERRY = "The Gull Rock ferry leaves at 6:40 every morning. It returns at 18:10."
MUSEUM = "The Gull Rock museum opens at ten o'clock. Entry costs four pounds."


def generation(index_dir: Path) -> int:
    return json.loads((index_dir / "manifest.json").read_text(encoding="utf-8"))["generation"]


@pytest.fixture()
def server(fresh_seed_index, embedder) -> Iterator[Server]:
    yield from serve(fresh_seed_index, embedder)


def test_qa_index_into_a_running_servers_folder_is_seen_and_kept(server, tmp_path):
    """The server reloads what `qa index` saved, and its next upload builds on it (before:
    it saved its stale index over the CLI's, and the CLI's documents were gone)."""
    assert server.upload("lighthouse.txt", LIGHTHOUSE).status_code == 201
    folder = tmp_path / "docs"
    folder.mkdir()
    shutil.copy(SEED_FILE, folder / SEED_ID)
    (folder / "ferry.txt").write_text(FERRY, encoding="utf-8")
    (folder / "museum.txt").write_text(MUSEUM, encoding="utf-8")
    before = generation(server.index_dir)

    done = run("index", str(folder), "--index-dir", str(server.index_dir))

    assert done.returncode == 0, done.stderr
    assert generation(server.index_dir) == before + 1
    listed = {d["id"] for d in server.client.get("/documents").json()}
    assert listed == {SEED_ID, "ferry.txt", "museum.txt", "lighthouse.txt"}
    assert "6:40" in server.ask("When does the ferry leave?")["text"]
    assert server.upload("notes.txt", "The harbour board meets on Tuesdays.").status_code == 201
    # in the order they were added: the seed's segment was kept as it was
    assert load_index(server.index_dir).doc_ids == [
        SEED_ID, "lighthouse.txt", "ferry.txt", "museum.txt", "notes.txt"
    ]  # fmt: skip
    assert generation(server.index_dir) == before + 2


def test_qa_index_rebuilds_on_an_upload_saved_while_it_was_embedding(tmp_path, embedder):
    """`qa index` embeds without the lock; an upload saved meanwhile is kept, not lost."""
    index_dir = tmp_path / "ix"
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "ferry.txt").write_text(FERRY, encoding="utf-8")
    index_paths([folder], index_dir, embedder, Chunking())
    (folder / "museum.txt").write_text(MUSEUM, encoding="utf-8")

    calls = []

    def upload_meanwhile(batches: list, documents: int) -> list:
        calls.append(documents)
        with writing(index_dir):  # what a server's upload does, while `qa index` embeds
            upload = build([Document("l.txt", LIGHTHOUSE, True)], embedder, Chunking())
            SegmentStore(index_dir).add(upload.new_documents())
        return batches

    counts, kept = index_paths([folder], index_dir, embedder, Chunking(), upload_meanwhile)

    assert kept == ["l.txt"] and calls == [1]  # only museum.txt was embedded, once
    assert load_index(index_dir).doc_ids == ["ferry.txt", "l.txt", "museum.txt"]
    assert counts.documents == 3 and generation(index_dir) == 3


def test_a_change_waits_for_another_writer_then_gives_up_with_503(server, monkeypatch):
    monkeypatch.setattr(qa.http.documents, "WRITE_WAIT_SECONDS", 0.5)
    before = server.disk()
    with writing(server.index_dir):  # as `qa index` holds it while it saves
        r = server.upload("lighthouse.txt", LIGHTHOUSE)
    assert r.status_code == 503 and r.headers["retry-after"] == "5"
    assert "another process is writing the index" in r.json()["detail"]
    assert server.disk() == before
    assert server.upload("lighthouse.txt", LIGHTHOUSE).status_code == 201


KILLED_MID_SAVE = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import index.store
    from index.lock import writing
    from index.store import load_index, save_index

    index_dir = Path(sys.argv[1])
    stored = load_index(index_dir)
    def stuck(new, target):  # the temporary is written whole; the process dies here
        print("saving", flush=True)
        time.sleep(600)
    index.store._swap = stuck
    with writing(index_dir):
        save_index(stored, index_dir)
    """
)


def test_a_writer_killed_mid_save_leaves_the_index_loadable_and_its_temporary_removed(
    fresh_seed_index, embedder
):
    writer = subprocess.Popen(
        [sys.executable, "-c", KILLED_MID_SAVE, str(fresh_seed_index)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert writer.stdout.readline().strip() == "saving"
        leftovers = list(fresh_seed_index.parent.glob(f".{fresh_seed_index.name}.tmp-*"))
        assert len(leftovers) == 1 and (leftovers[0] / "manifest.json").is_file()
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait()
    assert load_index(fresh_seed_index).doc_ids == [SEED_ID]
    # the lock died with its holder; the next writer (a server starting) removes the copy
    engine = Engine(Settings(index_dir=fresh_seed_index), embedder)
    assert engine.ready
    assert not list(fresh_seed_index.parent.glob(f".{fresh_seed_index.name}.tmp-*"))


def test_changes_split_and_embed_only_the_document_they_change(server, monkeypatch):
    """Uploading a document of 8,000 sentences, then more changes: no change splits any
    stored document again (before, every change re-split them all, 7 s each after that
    upload), and only the new document is embedded."""
    splits: list[int] = []
    real = index.build.split_sentences
    monkeypatch.setattr(index.build, "split_sentences", lambda t: splits.append(len(t)) or real(t))

    r = server.upload("many.txt", "a. " * 8000)
    assert r.status_code == 201 and r.json()["sentences"] == 8000
    server.embedder.texts.clear()
    assert server.upload("lighthouse.txt", LIGHTHOUSE).status_code == 201
    assert server.client.delete("/documents/many.txt").status_code == 200
    assert server.upload("ferry.txt", FERRY).status_code == 201

    assert splits == []  # the uploads were split by the reading worker, the rest reused
    new = server.disk()["documents"]
    # their sentences only: passages are pooled from them
    assert len(server.embedder.texts) == sum(
        new[d]["sentences"] for d in ("lighthouse.txt", "ferry.txt")
    )
    assert set(load_index(server.index_dir).doc_ids) == {SEED_ID, "lighthouse.txt", "ferry.txt"}


def test_a_hostile_upload_is_422_naming_the_limit_and_changes_nothing(server):
    before = server.disk()
    r = server.upload("flood.pdf", flooded_pdf(500_000))
    assert r.status_code == 422 and "content operators" in r.json()["detail"]
    assert server.disk() == before


def test_an_upload_past_its_time_budget_is_422(fresh_seed_index, embedder):
    for s in serve(fresh_seed_index, embedder, extract_seconds=1):
        r = s.upload("slow.pdf", flooded_pdf(45_000, pages=22))  # about 5 s (PDFium)
        assert r.status_code == 422
        assert "more than 1 s to read (the QA_EXTRACT_SECONDS setting)" in r.json()["detail"]


def test_links_out_of_the_folder_are_skipped_with_a_warning(tmp_path, caplog):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("The vault code is 1234.", encoding="utf-8")
    folder = tmp_path / "docs"
    (folder / "sub").mkdir(parents=True)
    (folder / "notes.txt").write_text("Gulls nest on the cliffs.", encoding="utf-8")
    (folder / "hosts.txt").symlink_to(outside / "secret.txt")
    (folder / "sub" / "elsewhere").symlink_to(outside, target_is_directory=True)
    (folder / "same.txt").symlink_to(folder / "notes.txt")  # inside: kept
    with caplog.at_level("WARNING"):
        docs = read_documents([folder])
    assert [d.doc_id for d in docs] == ["notes.txt", "same.txt"]
    warned = " ".join(r.getMessage() for r in caplog.records)
    assert "hosts.txt" in warned and "outside" in warned and "elsewhere" in warned


@pytest.fixture()
def small_disk(tmp_path) -> Iterator[Path]:
    """A real 8 MB filesystem (tmpfs) to fill; skipped where mounting is not allowed."""
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_is_507_for_an_upload_and_one_line_from_qa_index(
    small_disk, seed_index_dir, embedder, tmp_path
):
    index_dir = small_disk / "index"
    shutil.copytree(seed_index_dir, index_dir)
    # the disk filled by something else, all but less than one more copy of the index
    size = sum(f.stat().st_size for f in index_dir.rglob("*") if f.is_file())
    free = shutil.disk_usage(small_disk).free
    (small_disk / "filler").write_bytes(b"\0" * (free - size // 2))
    app = create_app(Settings(index_dir=index_dir), embedder=embedder)
    with running(app) as url:
        before = httpx.get(f"{url}/documents").json()
        r = httpx.post(
            f"{url}/documents",
            files={"file": ("l.txt", LIGHTHOUSE.encode())},
            headers={"X-Requested-With": "tests"},
        )
        assert r.status_code == 507, r.text
        assert "no space left" in r.json()["detail"]
        assert httpx.get(f"{url}/documents").json() == before
        answer = httpx.post(f"{url}/ask", json={"question": "How many troops were shipped?"})
        assert "1,500" in answer.json()["answer"]
    assert not list(small_disk.glob(".index.tmp-*"))
    assert load_index(index_dir).doc_ids == [SEED_ID]

    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "l.txt").write_text(LIGHTHOUSE, encoding="utf-8")
    done = run("index", str(folder), "--index-dir", str(index_dir))
    assert done.returncode == 1
    assert done.stderr.strip().count("\n") == 0 and "error: no space left" in done.stderr
    assert load_index(index_dir).doc_ids == [SEED_ID]
