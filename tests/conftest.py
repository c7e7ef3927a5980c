"""Shared real parts: the packaged embedding model (loaded once), a FAISS index of the
seed article, and a uvicorn server on loopback."""

from __future__ import annotations

import hashlib
import json
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

import httpx
import pytest
import uvicorn

from index.build import index_paths
from index.chunk import Chunking
from index.embed import MiniLMEmbedder
from index.stores.segments import SegmentStore
from qa.http.api import create_app
from qa.http.server import server_config
from qa.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
SEED_FILE = SEEDS / "north-korea-troops-russia.txt"
# the shared data sets: beside the checkout, or where this machine keeps them (a fresh clone
# elsewhere, as CI makes, still finds them); tests that need them skip without them
SHARED = next(
    (p for p in (ROOT.parent / "shared", Path("/work/shared")) if (p / "data").is_dir()),
    ROOT.parent / "shared",
)


def on_disk(index_dir: Path) -> dict:
    """What the index at ``index_dir`` holds: its manifest and, by id, its documents."""
    manifest = json.loads((index_dir / "manifest.json").read_text(encoding="utf-8"))
    documents = {d.doc_id: asdict(d) for d in SegmentStore(index_dir).documents()}
    return {**manifest, "documents": documents}


@pytest.fixture(scope="session")
def embedder() -> MiniLMEmbedder:
    return MiniLMEmbedder()


@pytest.fixture(scope="session")
def graphs() -> Path:
    """The folder of the encoders' ONNX graphs the tests' servers use (QA_ONNX_DIR), with
    both graphs exported."""
    from index.embed import load_embedder
    from qa.read.cross import MODEL_DIR, load_cross_model

    settings = Settings()
    folder = settings.onnx_dir
    for runtime in dict.fromkeys(("onnx", settings.runtime)):  # and the one auto picks
        load_embedder(runtime=runtime, graphs=folder)
        load_cross_model(MODEL_DIR, runtime, folder)
    return folder


@pytest.fixture(scope="session")
def seed_index_dir(tmp_path_factory, embedder) -> Path:
    index_dir = tmp_path_factory.mktemp("seed") / "index"
    index_paths([SEEDS], index_dir, embedder, Chunking())
    return index_dir


@pytest.fixture()
def fresh_seed_index(tmp_path, seed_index_dir) -> Path:
    """A copy of the seed index a test may change."""
    target = tmp_path / "index"
    shutil.copytree(seed_index_dir, target)
    return target


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running(app, settings: Settings | None = None) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free loopback port; yield its base URL. With
    ``settings``, as `qa serve` runs it (its connection limits and timeouts)."""
    port = free_port()
    if settings is None:
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    else:
        config = server_config(app, settings.model_copy(update={"port": port}))
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def seed_server(seed_index_dir, embedder) -> Iterator[str]:
    app = create_app(Settings(index_dir=seed_index_dir), embedder=embedder)
    with running(app) as url:
        yield url


@pytest.fixture()
def client(seed_server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=seed_server, timeout=30) as c:
        yield c


@pytest.fixture(scope="session")
def milvus_uri(tmp_path_factory) -> Iterator[str]:
    """One real Milvus (milvus-lite server on loopback) for the whole session; tests keep
    apart by their collections' prefix (``milvus_prefix``)."""
    from tests.milvus import milvus_lite_server

    with milvus_lite_server(tmp_path_factory.mktemp("milvus") / "data") as uri:
        yield uri


@pytest.fixture()
def milvus_prefix(request) -> str:
    """A collection prefix of this test's own."""
    return "t" + hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:12]
