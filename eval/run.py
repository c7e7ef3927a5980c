"""One evaluation run from start to finish: read the Q&A set, check it against the docs,
index (in-process) or check the service (``url``), ask, score, write the outputs."""

from __future__ import annotations

import logging
import random
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

from eval.collection import ensure_index, excluded_index_dir, load_documents, missing_docs
from eval.data import QAItem, load_qa
from eval.errors import EvalError
from eval.report import write_outputs
from eval.runner import EngineRunner, HttpRunner, Runner, ask_all
from eval.scoring import score, summarize, summarize_by_type
from eval.unanswerable import make_unanswerable
from index.build import progress_bar
from index.embed import Embedder
from qa.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunConfig:
    qa: Path
    out: Path
    docs: Path | None = None
    url: str | None = None
    index_dir: Path | None = None
    top_k: int | None = None
    limit: int | None = None
    sample: int | None = None
    seed: int = 0
    strict: bool = False
    unanswerable_share: float = 0.0
    progress: bool = True


@dataclass(frozen=True)
class Outcome:
    metrics: dict
    paths: dict[str, Path]


def select(
    items: Sequence[QAItem], limit: int | None, sample: int | None, seed: int
) -> list[QAItem]:
    """A seeded random sample (kept in file order), then the first ``limit``."""
    chosen = list(items)
    if sample is not None and sample < len(chosen):
        keep = set(random.Random(seed).sample(range(len(chosen)), sample))
        chosen = [item for i, item in enumerate(chosen) if i in keep]
    return chosen[:limit] if limit is not None else chosen


ROOT = Path(__file__).resolve().parents[1]


def code_version(root: Path = ROOT) -> str | None:
    """``git describe --always --dirty`` of the code being measured, when it is a checkout."""
    try:
        done = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except OSError:
        return None
    return done.stdout.strip() or None


def _bar(total: int, desc: str, unit: str, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=unit, disable=None if enabled else True)


def evaluate(
    config: RunConfig,
    settings: Settings,
    *,
    embedder: Embedder | None = None,
    client: httpx.Client | None = None,
) -> Outcome:
    started = datetime.now(UTC).isoformat(timespec="seconds")
    if config.url is None and config.docs is None:
        raise EvalError("give --docs (to index and ask in-process) or --url (a running service)")
    if config.unanswerable_share and config.url:
        raise EvalError(
            "--unanswerable-share re-indexes the docs without some paragraphs, so it runs "
            "in-process only: drop --url"
        )
    qa_set = load_qa(config.qa, config.strict)
    items = qa_set.items
    documents = load_documents(config.docs) if config.docs else None
    doc_texts = {d.doc_id: d.text for d in documents} if documents else None
    run: dict = {
        "qa": str(config.qa),
        "docs": str(config.docs) if config.docs else None,
        "url": config.url,
        "top_k": config.top_k,
        "started": started,
        "code": code_version(),
        "skipped_lines": qa_set.problems,
        "missing_docs": [],
    }

    if doc_texts is not None:
        missing = missing_docs(items, set(doc_texts))
        if missing:
            examples = ", ".join(f"{m.id} → {m.doc}" for m in missing[:3])
            problem = (
                f"{len(missing)} question(s) name a doc that is not in {config.docs} "
                f"(e.g. {examples})"
            )
            if config.strict:
                raise EvalError(f"{problem} (stopped by --strict)")
            log.warning("%s; skipped", problem)
            run["missing_docs"] = [{"id": m.id, "doc": m.doc} for m in missing]
            items = [item for item in items if item.doc in doc_texts]

    exclusion = None
    if config.unanswerable_share:
        exclusion = make_unanswerable(items, doc_texts, config.unanswerable_share, config.seed)
        items = exclusion.items
        log.warning(
            "made %d of %d questions unanswerable by leaving out %d of %d candidate paragraphs",
            exclusion.unanswerable,
            len(items),
            len(exclusion.docs),
            exclusion.candidates,
        )
        if exclusion.unanswerable < config.unanswerable_share * len(items):
            log.warning(
                "that is less than the share asked for: only %d paragraphs have answers that "
                "occur in no other document (refusal rates are per group, so they still hold)",
                exclusion.candidates,
            )
        run.update(
            unanswerable_share=config.unanswerable_share,
            seed=config.seed,
            made_unanswerable=exclusion.unanswerable,
            excluded_docs=sorted(exclusion.docs),
            candidate_docs=exclusion.candidates,
        )
    items = select(items, config.limit, config.sample, config.seed)
    if config.sample is not None:
        run["sample"], run["seed"] = config.sample, config.seed
    if not items:
        raise EvalError("no questions left to ask")

    runner: Runner
    if config.url:
        http = HttpRunner(config.url, client=client)
        try:
            run["service"] = http.check()
            with _bar(len(items), "asking", "q", config.progress) as bar:
                result = ask_all(items, http, config.top_k, bar.update)
        finally:
            if client is None:
                http.close()
    else:
        runner, index_info = _in_process(config, settings, documents, exclusion, embedder)
        run.update(index_info)
        with _bar(len(items), "asking", "q", config.progress) as bar:
            result = ask_all(items, runner, config.top_k, bar.update)
    scored = [score(a.item, a.response, a.latency_ms, doc_texts, a.error) for a in result.asked]
    metrics = {
        "run": run,
        "overall": summarize(scored, result.wall_s),
        "by_type": summarize_by_type(scored),
    }
    paths = write_outputs(config.out, metrics, scored)
    return Outcome(metrics, paths)


def _in_process(config, settings, documents, exclusion, embedder) -> tuple[Runner, dict]:
    from index.embed import document_embedder
    from qa.engine import Engine

    base_dir = config.index_dir or config.out / "index"
    # the index is built as `qa index` builds it (QA_INDEX_RUNTIME); the engine answers with
    # the encoders the settings choose (QA_ENCODER_RUNTIME), as `qa serve` does
    serving = embedder
    embedder = embedder or document_embedder(
        settings.model, settings.indexing_runtime[0], settings.onnx_dir
    )
    index_dir, reuse_from = base_dir, ()
    if exclusion is not None:
        documents = [d for d in documents if d.doc_id not in exclusion.docs]
        index_dir, reuse_from = excluded_index_dir(base_dir, set(exclusion.docs)), (base_dir,)
    t0 = time.perf_counter()

    progress = progress_bar(None if config.progress else True)
    reused = ensure_index(documents, index_dir, embedder, settings.chunking, reuse_from, progress)
    index_s = time.perf_counter() - t0
    # the Engine sets query-time threads: index first, while every core still helps
    engine = Engine(settings.model_copy(update={"index_dir": index_dir}), serving)
    info = {
        "index_dir": str(index_dir),
        "index_reused": reused,
        "index_s": round(index_s, 2),
        # what answered, and below which answer probability it refused (as /health says)
        "reranker": engine.backend.ranker.model_dir,
        "verifier": engine.backend.verifier is not None,
        "refuses_below": engine.backend.abstainer.below,
    }
    return EngineRunner(engine), info
