"""The service's state: the embedding model, the index and the answerer built on them.
Loaded once (server start-up, one CLI call, one eval run) and shared by every question."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Generator, Sequence

from index.embed import Embedder, load_embedder
from index.errors import IndexNotFound
from index.stores.interface import Counts, DocumentEntry, Scope, Store
from qa.errors import BadQuestion, TooLong
from qa.read.answer import Answer
from qa.read.answerers import Backend
from qa.read.pipeline import Pipeline
from qa.read.retrieve import HybridRetriever
from qa.scope import resolve_scope
from qa.settings import Settings
from qa.stores import store_kind
from qa.threads import set_query_threads

log = logging.getLogger(__name__)


def lone_surrogate(text: str) -> int | None:
    """Where ``text`` holds a lone surrogate ("\\ud800", which JSON may carry and no UTF-8
    text can hold), or None."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return exc.start
    return None


class Engine:
    def __init__(
        self, settings: Settings, embedder: Embedder | None = None, backend: Backend | None = None
    ) -> None:
        started = time.perf_counter()
        self.settings = settings
        set_query_threads(settings.torch_threads, settings.runtime)
        # questions are embedded by the answering runtime (int8 where auto picks it)
        self.embedder = embedder or load_embedder(
            settings.model, settings.runtime, settings.onnx_dir, settings.torch_threads
        )
        # uploaded documents by the question embedder, unless that is plain int8 (vectors
        # within 0.03 cosine of fp32's: not for documents): then in fp32, loaded at the
        # first upload. Smoothed by its recipe, int8's are within 0.003 (index/embed.py)
        plain_int8 = getattr(self.embedder, "runtime", None) == "int8" and not getattr(
            self.embedder, "smoothed", False
        )
        self._documents_embedder = None if plain_int8 else self.embedder
        self.backend = backend or Backend(settings, self.embedder)
        self._lock = threading.Lock()
        self._reload_lock = threading.Lock()
        # Answering is CPU-bound: more at once than there are cores only makes each slower
        # (and starves the event loop of the GIL); the others admitted wait their turn.
        self._answering = threading.BoundedSemaphore(settings.answer_workers)
        self.store: Store | None = None
        self._version: str | None = None  # of the store when last read
        self.answerer: Pipeline | None = None
        self.load_error: str | None = None
        # called with every answer given (the metrics count answers and refusals)
        self.observers: list[Callable[[Answer], None]] = []
        self.kind = store_kind(settings)
        self.kind.clean(settings)  # removes what a writer that died left behind
        self.reload()
        # seconds to load the models and the index (reported by GET /metrics)
        self.load_seconds = time.perf_counter() - started

    @property
    def document_embedder(self) -> Embedder:
        """What embeds uploaded documents: the question embedder, unless that is plain int8."""
        if self._documents_embedder is None:
            with self._lock:
                if self._documents_embedder is None:
                    self._documents_embedder = load_embedder(
                        self.settings.model, "onnx", self.settings.onnx_dir, 1
                    )
        return self._documents_embedder

    @property
    def uploads_runtime(self) -> str | None:
        """What embeds uploaded documents (without loading it): int8, onnx or torch."""
        if self._documents_embedder is None:
            return "onnx"
        return getattr(self._documents_embedder, "runtime", None)

    def reload(self) -> None:
        """(Re)open the index; without one the engine stays up and says so."""
        try:
            store = self.kind.open(self.settings, self.embedder.name)
        except IndexNotFound as exc:
            self.store, self.answerer, self.load_error = None, None, str(exc)
            log.info("%s", exc)
            return
        self.use(store)

    def changed(self) -> bool:
        """Whether the index on disk is not the one in memory (one stat call)."""
        store = self.store
        if store is None:
            return self.kind.exists(self.settings)
        return store.version() != self._version

    def refresh(self) -> None:
        """Read what another process (``qa index``, another server) changed: one stat call
        when nothing changed, so it is done before every request."""
        if not self.changed():
            return
        with self._reload_lock:
            if not self.changed():
                return
            log.info("the index in %s changed: reloading", self.kind.where(self.settings))
            if self.store is None:
                self.reload()
                return
            try:
                self.store.refresh()
            except IndexNotFound:  # the folder was removed: say so until there is one
                self.reload()
                return
            self._version = self.store.version()

    def use(self, store: Store) -> None:
        """Answer from ``store`` now."""
        retriever = HybridRetriever(store, self.embedder)
        answerer = self.backend.pipeline(retriever)
        with self._lock:
            self.store, self.answerer, self.load_error = store, answerer, None
            self._version = store.version()

    @property
    def ready(self) -> bool:
        return self.answerer is not None

    def require_store(self) -> Store:
        """The index, or IndexNotFound saying how to build one."""
        store = self.store
        if store is None:
            raise IndexNotFound(self.kind.where(self.settings))
        return store

    def _require_answerer(self) -> Pipeline:
        answerer = self.answerer
        if answerer is None:
            raise IndexNotFound(self.kind.where(self.settings))
        return answerer

    def check_question(self, question: str) -> str:
        question = question.strip()
        if not question:
            raise BadQuestion("question is empty")
        if (at := lone_surrogate(question)) is not None:
            raise BadQuestion(f"question is not valid Unicode: a lone surrogate at character {at}")
        if len(question) > self.settings.max_question_chars:
            raise TooLong(
                f"question is {len(question)} characters; at most "
                f"{self.settings.max_question_chars} are allowed"
            )
        return question

    def scope(self, documents: Sequence[str] = (), tags: Sequence[str] = ()) -> Scope | None:
        """The documents a question is asked over (qa.scope); None: all of them."""
        if not documents and not tags:
            return None
        return resolve_scope(self.require_store().documents(), documents, tags)

    def ask(
        self,
        question: str,
        top_k: int | None = None,
        documents: Sequence[str] = (),
        tags: Sequence[str] = (),
    ) -> Answer:
        """The answer from the documents named by ``documents`` and ``tags`` (all of them
        when neither names any)."""
        question = self.check_question(question)
        answerer = self._require_answerer()
        only = self.scope(documents, tags)
        with self._answering:
            t0 = time.perf_counter()
            result = answerer.answer(question, top_k, only)
        return self._observed(_timed(result, t0))

    def stream(
        self,
        question: str,
        top_k: int | None = None,
        documents: Sequence[str] = (),
        tags: Sequence[str] = (),
    ) -> Generator[str | Answer, None, None]:
        """Pieces of the answer text as they are produced, then the final ``Answer``. The
        question, the scope and the index are checked now, before the first piece is asked
        for."""
        question = self.check_question(question)
        answerer = self._require_answerer()
        only = self.scope(documents, tags)

        def events() -> Generator[str | Answer, None, None]:
            with self._answering:
                t0 = time.perf_counter()
                for event in answerer.stream(question, top_k, only):
                    yield self._observed(_timed(event, t0)) if isinstance(event, Answer) else event

        return events()

    def _observed(self, result: Answer) -> Answer:
        for observe in self.observers:
            observe(result)
        return result

    def documents(self) -> list[DocumentEntry]:
        store = self.store
        return store.documents() if store is not None else []

    def counts(self) -> Counts:
        store = self.store
        return store.counts() if store is not None else Counts(0, 0, 0)


def _timed(result: Answer, t0: float) -> Answer:
    result.timings_ms["total"] = (time.perf_counter() - t0) * 1000
    result.timings_ms.update({k: round(v, 2) for k, v in result.timings_ms.items()})
    return result
