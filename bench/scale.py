"""Benchmark: qa as the collection grows. Per size it prints ingest documents/s, index
bytes, cold start to the first answer, serving memory, /ask p50/p95 over HTTP, the time to
add one document over HTTP, and approximate search's recall@10 against exact search.

    .venv/bin/python bench/scale.py --sizes 1,10          # real text, real embeddings
    nice .venv/bin/python bench/scale.py --sizes 100 --generated-above 10
    nice .venv/bin/python bench/scale.py --sizes 1M       # dense retrieval, vectors only

Sizes are multiples of the 856 SQuAD dev13 documents: 1x is dev13, 10x adds SQuAD train
paragraphs, 100x adds documents of shuffled sentences of those. Above ``--generated-above``
the vectors are generated (each near the vector of a real sentence, so they cluster as
real ones do; the text, BM25 and everything else are real), because embedding 85,000
documents takes hours on 2 cores. "1M" is 1,000,000 passage and 3,000,000 sentence
vectors alone (generated the same way): dense retrieval as the retriever runs it (two
searches of 50), its memory and recall, no text. Servers answer on 1 thread.

Prints figures; asserts nothing. Talks only to 127.0.0.1."""

from __future__ import annotations

import argparse
import gzip
import hashlib
import importlib.util
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.latency import free_port, pct
from bench.machine import print_cpu

DATA = next(p for p in (ROOT.parent / "shared" / "data", Path("/work/shared/data")) if p.is_dir())
DEV13 = DATA / "squad11-dev13"
TRAIN = DATA / "squad11-train" / "squad11_train_paragraphs.jsonl.gz"
BASE = 856  # documents of 1x
FACTORIES = ("IVF{nlist},SQ8", "HNSW32_SQ8")


def collection(size: int, folder: Path) -> list[str]:
    """Write ``size`` x 856 documents into ``folder``; their ids."""
    folder.mkdir(parents=True, exist_ok=True)
    docs = {p.name: p.read_text(encoding="utf-8") for p in sorted((DEV13 / "docs").iterdir())}
    want = BASE * size
    with gzip.open(TRAIN, "rt", encoding="utf-8") as f:
        train = [json.loads(line) for line in f]
    for row in train:
        if len(docs) >= want:
            break
        docs[f"{row['title']}__t{row['para_index']:03d}.txt"] = row["context"]
    sentences = [s for text in docs.values() for s in re.split(r"(?<=[.!?])\s+", text) if s]
    rng = random.Random(size)
    while len(docs) < want:
        docs[f"shuffled_{len(docs):06d}.txt"] = " ".join(rng.sample(sentences, 5))
    for name, text in docs.items():
        (folder / name).write_text(text, encoding="utf-8")
    return list(docs)


class GeneratedEmbedder:
    """Vectors near real ones, for collections too large to embed here: the vector of a
    text is a real sentence vector (chosen by the text's hash) plus noise. Named as the
    real model, so the service takes the index (a benchmark-only stand-in)."""

    dim = 384

    def __init__(self, real: np.ndarray, noise: float = 0.6) -> None:
        from index.embed import DEFAULT_MODEL

        self.name = DEFAULT_MODEL
        self.real = real
        self.noise = noise

    def encode(self, texts):
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for k, text in enumerate(texts):
            h = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
            rng = np.random.default_rng(h)
            v = self.real[h % len(self.real)] + self.noise * rng.standard_normal(self.dim) / 19.6
            out[k] = v / np.linalg.norm(v)
        return out


def generated(real: np.ndarray, n: int, seed: int, noise: float = 0.6) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = np.empty((n, real.shape[1]), dtype=np.float32)
    for start in range(0, n, 200_000):
        m = min(200_000, n - start)
        v = real[rng.integers(0, len(real), m)]
        v = v + noise * rng.standard_normal(v.shape, dtype=np.float32) / np.sqrt(real.shape[1])
        out[start : start + m] = v / np.linalg.norm(v, axis=1, keepdims=True)
    return out


def questions(n: int) -> list[str]:
    with open(DEV13 / "qa.jsonl", encoding="utf-8") as f:
        rows = [json.loads(line)["question"] for line in f]
    return random.Random(0).sample(rows, n)


def folder_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def ingest(docs: Path, index_dir: Path, embedder) -> tuple[float, float]:
    """Seconds and peak MiB of indexing ``docs`` (``qa index`` in a process of its own
    when the vectors are real)."""
    if embedder is None:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "qa", "index", str(docs), "--index-dir", str(index_dir)],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _, status, usage = os.wait4(proc.pid, 0)
        if status:
            raise RuntimeError(f"qa index failed ({status})")
        return time.perf_counter() - t0, usage.ru_maxrss / 1024
    from index.build import build
    from index.chunk import Chunking
    from index.read import read_documents
    from index.split import Span
    from index.store import save_index

    # sentences split at ". " instead of by pysbd (an hour for 85,000 documents here):
    # what is served is the same kind of index, only the vectors and the splitting differ
    t0 = time.perf_counter()
    documents = read_documents([docs])
    split = {
        d.doc_id: [
            Span(m.start(), m.end())
            for m in re.finditer(r"\S.*?(?:[.!?](?=\s)|$)", d.text, re.MULTILINE)
        ]
        for d in documents
    }
    save_index(build(documents, embedder, Chunking(), split=split), index_dir)
    return time.perf_counter() - t0, float("nan")


def rss(pid: int) -> dict[str, float]:
    """Resident MiB of a process: all, anonymous (its own), file-backed (mapped files)."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile"):
            fields[key] = int(value.split()[0]) / 1024
    return fields


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def started(
    command: list[str], env: dict, first: str, cwd: Path = ROOT
) -> Iterator[tuple[int, str, float]]:
    """A server process on a free port, run in ``cwd``: (pid, url, seconds from start to its
    first answer)."""
    port = free_port()
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [*command, str(port)],
        env={**os.environ, **env},
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        while True:
            try:
                if (
                    httpx.post(f"{url}/ask", json={"question": first}, timeout=60).status_code
                    == 200
                ):
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.perf_counter() - t0 > 600:
                raise RuntimeError(f"{command} did not answer")
            time.sleep(0.05)
        yield proc.pid, url, time.perf_counter() - t0
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def qa_server(index_dir: Path) -> tuple[list[str], dict]:
    command = [sys.executable, "-m", "qa", "serve", "--host", "127.0.0.1", "--port"]
    env = {
        "QA_INDEX_DIR": str(index_dir),
        "QA_TORCH_THREADS": "1",
        "QA_RATE_LIMIT": "0",
        "QA_WRITE_RATE_LIMIT": "0",
    }
    return command, env


def measure(
    servers: dict[str, tuple[int, str, float]],
    asked: list[str],
    new_docs: list[tuple[str, str]],
) -> dict[str, dict]:
    """Every question asked of each server in turn (the order rotating), then memory,
    then documents added one by one (each server in turn)."""
    out: dict[str, dict] = {
        name: {"cold_s": cold, "times": []} for name, (_, _, cold) in servers.items()
    }
    clients = {
        name: httpx.Client(base_url=url, timeout=300) for name, (_, url, _) in servers.items()
    }
    names = list(servers)
    cpu = {name: cpu_seconds(pid) for name, (pid, _, _) in servers.items()}
    try:
        for k, q in enumerate(asked):
            turn = k % len(names)
            for name in names[turn:] + names[:turn]:
                t = time.perf_counter()
                clients[name].post("/ask", json={"question": q}).raise_for_status()
                out[name]["times"].append((time.perf_counter() - t) * 1000)
        for name, (pid, _, _) in servers.items():
            # the server's CPU per question (it does nothing else meanwhile)
            out[name]["cpu_ms"] = (cpu_seconds(pid) - cpu[name]) * 1000 / len(asked)
            out[name]["rss"] = rss(pid)
            times = out[name].pop("times")
            out[name]["p50"], out[name]["p95"] = pct(times, 50), pct(times, 95)
            out[name]["adds"] = []
        for doc_name, text in new_docs:
            for name in names:
                t = time.perf_counter()
                clients[name].post(
                    "/documents",
                    files={"file": (doc_name, text.encode())},
                    headers={"X-Requested-With": "bench"},
                ).raise_for_status()
                out[name]["adds"].append(time.perf_counter() - t)
        for name in names:
            out[name]["add_s"] = statistics.median(out[name].pop("adds"))
    finally:
        for client in clients.values():
            client.close()
    return out


def recall(matrix: np.ndarray, qvecs: np.ndarray, factory: str) -> tuple[float, float, float]:
    """recall@10 of ``factory`` (candidates re-scored exactly, as the store does) against
    exact search, its p50 ms per search on one thread, and its build seconds."""
    import faiss

    from index.ann import build_ann, search, tune

    faiss.omp_set_num_threads(os.cpu_count() or 1)
    t0 = time.perf_counter()
    index = tune(build_ann(matrix, factory))
    built = time.perf_counter() - t0
    faiss.omp_set_num_threads(1)
    truth = _exact(matrix, qvecs, 10)
    found, times = [], []
    for q, want in zip(qvecs, truth, strict=True):
        t = time.perf_counter()
        _, scores = search(index, matrix, q, 10)
        top = np.sort(scores)[::-1][:10]
        times.append((time.perf_counter() - t) * 1000)
        # tie-aware: a generated collection repeats sentences, so equal vectors abound and
        # which of equals is returned is arbitrary; a result counts if it scores as high as
        # the exact 10th
        tenth = float(np.sort(np.asarray(matrix[want]) @ q)[0])
        found.append(float(np.sum(top >= tenth - 1e-6)) / 10)
    return float(np.mean(found)), statistics.median(times), built


def _exact(matrix: np.ndarray, qvecs: np.ndarray, k: int) -> np.ndarray:
    best = np.zeros((len(qvecs), 0), dtype=np.int64)
    scores = np.zeros((len(qvecs), 0), dtype=np.float32)
    for start in range(0, len(matrix), 500_000):
        s = np.asarray(matrix[start : start + 500_000]) @ qvecs.T
        ids = np.argsort(-s, axis=0)[:k].T + start
        scores = np.concatenate([scores, np.take_along_axis(s.T, ids - start, 1)], axis=1)
        best = np.concatenate([best, ids], axis=1)
        order = np.argsort(-scores, axis=1)[:, :k]
        best, scores = np.take_along_axis(best, order, 1), np.take_along_axis(scores, order, 1)
    return best


def size_point(size: int, work: Path, args, real: np.ndarray, qvecs: np.ndarray) -> None:
    from index.stores.segments import SegmentStore

    docs = work / f"docs-{size}x"
    ids = collection(size, docs)
    index_dir = work / f"index-{size}x"
    embedder = GeneratedEmbedder(real) if size > args.generated_above else None
    with gzip.open(TRAIN, "rt", encoding="utf-8") as f:
        spare = [json.loads(line)["context"] for line in f][-3:]
    new_docs = [(f"added-{k}.txt", text) for k, text in enumerate(spare)]
    asked = questions(args.questions)
    ingests = {"qa": ingest(docs, index_dir, embedder)}
    counts = SegmentStore(index_dir).counts()
    sizes = {"qa": folder_bytes(index_dir)}
    peers = embedder is None and args.txtai
    if peers:  # txtai indexes the same documents, timed in a process of its own
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "bench.peers", "index", str(docs), str(work / f"txtai-{size}x")],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _, status, usage = os.wait4(proc.pid, 0)
        if status:
            raise RuntimeError("txtai indexing failed")
        ingests["txtai"] = (time.perf_counter() - t0, usage.ru_maxrss / 1024)
        sizes["txtai"] = folder_bytes(work / f"txtai-{size}x")
    with ExitStack() as stack:
        servers = {"qa": stack.enter_context(started(*qa_server(index_dir), asked[0]))}
        if peers:
            command = [sys.executable, "-m", "bench.peers", "serve", str(work / f"txtai-{size}x")]
            servers["txtai"] = stack.enter_context(started(command, {}, asked[0]))
        served = measure(servers, asked, new_docs)
    vectors = "generated" if embedder is not None else "real"
    for name, out in served.items():
        seconds, peak = ingests[name]
        print(
            f"| {size}x | {name} | {len(ids):,} | {counts.passages:,} | {vectors} | "
            f"{len(ids) / seconds:.1f} | {peak:.0f} | {sizes[name] / 2**20:.0f} | "
            f"{out['cold_s']:.2f} | {out['rss']['VmRSS']:.0f} ({out['rss']['RssAnon']:.0f} + "
            f"{out['rss']['RssFile']:.0f}) | {out['p50']:.1f} / {out['p95']:.1f} | "
            f"{out['cpu_ms']:.1f} | {out['add_s'] * 1000:.0f} |",
            flush=True,
        )
    if peers:
        RATIOS.append(
            f"{size}x: qa /ask p50 {served['qa']['p50'] / served['txtai']['p50']:.2f}x txtai's "
            f"retrieval-only p50, p95 {served['qa']['p95'] / served['txtai']['p95']:.2f}x, "
            f"server CPU per question {served['qa']['cpu_ms'] / served['txtai']['cpu_ms']:.2f}x; "
            f"ingest {ingests['txtai'][0] / ingests['qa'][0]:.2f}x txtai's documents/s"
        )
    store = SegmentStore(index_dir)
    seg = max(store._view.segments, key=lambda s: s.size("sentence"))
    for kind in ("passage", "sentence"):
        for factory in FACTORIES:
            r, ms, built = recall(seg.vectors[kind], qvecs, factory)
            ANN_ROWS.append(
                f"| {size}x | {kind} | {seg.size(kind):,} | {factory} | {r:.3f} | {ms:.2f} | "
                f"{built:.1f} |"
            )


def million_point(work: Path, real: np.ndarray, qvecs: np.ndarray, passages: int) -> None:
    """Dense retrieval over ``passages`` passage and 3x as many sentence vectors."""
    script = work / "million.py"
    script.write_text(MILLION, encoding="utf-8")
    np.save(work / "real.npy", real)
    np.save(work / "questions.npy", qvecs)
    done = subprocess.run(
        [sys.executable, str(script), str(work), str(passages)],
        check=False,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise RuntimeError(done.stderr[-2000:])
    print(done.stdout, end="", flush=True)


# run in a process of its own, so its memory is the serving memory of the vectors alone
MILLION = """
import sys, time, statistics
from pathlib import Path
import numpy as np
sys.path.insert(0, ".")
from bench.scale import generated, recall, rss, _exact
from index.ann import build_ann, search, tune
from index.rows import Rows
import faiss, os
from bench.machine import print_cpu

work, passages = Path(sys.argv[1]), int(sys.argv[2])
real, qvecs = np.load(work / "real.npy"), np.load(work / "questions.npy")
files = {}
for kind, n, seed in (("passage", passages, 1), ("sentence", 3 * passages, 2)):
    path = work / f"{kind}.vectors.npy"
    if not path.exists():
        np.save(path, generated(real, n, seed))
    ann = work / f"{kind}.ann"
    if not ann.exists():
        t0 = time.perf_counter()
        matrix = np.load(path, mmap_mode="r")
        faiss.omp_set_num_threads(os.cpu_count())
        ann.write_bytes(faiss.serialize_index(build_ann(matrix, "IVF{nlist},SQ8")))
        print(f"built the {kind} index of {n:,} vectors in {time.perf_counter() - t0:.0f} s")
    files[kind] = (path, ann)
# exact search first, on mappings of its own dropped before measuring: it reads every
# vector, which a server never does
truth = {k: _exact(np.load(p, mmap_mode="r"), qvecs, 10) for k, (p, _) in files.items()}
# what a server holds: the approximate indexes, and the vector files open to read the
# candidates' rows (index.rows), as the store does for a segment searched approximately
faiss.omp_set_num_threads(1)
before = rss(os.getpid())
held = {k: (Rows(p), tune(faiss.read_index(str(a)))) for k, (p, a) in files.items()}
loaded = rss(os.getpid())
times, found = [], []
for n, q in enumerate(qvecs):
    t = time.perf_counter()
    for kind, (matrix, index) in held.items():
        units, scores = search(index, matrix, q, 50)
        top = units[np.argsort(-scores)[:50]]
        if kind == "passage":
            found.append(len(set(top[:10].tolist()) & set(truth[kind][n].tolist())) / 10)
    times.append((time.perf_counter() - t) * 1000)
after = rss(os.getpid())
print(
    f"| {passages:,} passages + {3 * passages:,} sentences (generated vectors) | "
    f"{statistics.median(times):.1f} / {np.percentile(times, 95):.1f} | "
    f"{after['VmRSS'] - before['VmRSS']:.0f} ({after['RssAnon'] - before['RssAnon']:.0f} + "
    f"{after['RssFile'] - before['RssFile']:.0f}) | {np.mean(found):.3f} |"
)
"""
ANN_ROWS: list[str] = []
RATIOS: list[str] = []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,10", help="comma-separated: 1, 10, 100, 1M")
    parser.add_argument(
        "--generated-above", type=int, default=10, help="size (x) above which vectors are generated"
    )
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--work", type=Path, help="keep collections and indexes here")
    parser.add_argument(
        "--txtai", action="store_true", help="txtai beside qa (sizes with real vectors)"
    )
    args = parser.parse_args()
    print_cpu()
    if args.txtai and importlib.util.find_spec("txtai") is None:
        parser.error("--txtai needs txtai: pip install -c constraints.txt '.[bench]'")

    from index.embed import MiniLMEmbedder

    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        embedder = MiniLMEmbedder()
        real_texts = [
            s
            for p in sorted((DEV13 / "docs").iterdir())[:400]
            for s in re.split(r"(?<=[.!?])\s+", p.read_text(encoding="utf-8"))
            if s
        ]
        real = embedder.encode(real_texts)
        qvecs = embedder.encode(questions(args.questions))
        sizes = args.sizes.split(",")
        numeric = [int(s) for s in sizes if s.isdigit()]
        if numeric:
            print(
                "| size | system | documents | passages | vectors | ingest docs/s | "
                "ingest peak MiB | index MiB | cold start s | serving RSS MiB (own + mapped) | "
                "/ask p50 / p95 ms | server CPU ms per question | add one document ms |"
            )
            print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
            for size in numeric:
                size_point(size, work, args, real, qvecs)
            print()
            print("\n".join(RATIOS))
            print()
            print("| size | kind | vectors | ANN | recall@10 vs exact | ms per search | build s |")
            print("|---|---|---|---|---|---|---|")
            print("\n".join(ANN_ROWS))
        for s in sizes:
            if s.upper().endswith("M"):
                print()
                print(
                    "| collection | dense retrieval p50 / p95 ms | RSS MiB (own + mapped) | passage recall@10 |"
                )
                print("|---|---|---|---|")
                million_point(work, real, qvecs, int(float(s[:-1]) * 1_000_000))


if __name__ == "__main__":
    main()
