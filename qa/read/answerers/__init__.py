"""Answer backends, chosen by name (``QA_ANSWERER``): a name maps to a factory of an
Answerer (qa.read.evidence.Answerer), which takes the pipeline's evidence and returns the same
``Answer`` whatever model is behind it. A backend is one module here and one line in
``ANSWERERS``; ``Backend`` puts the chosen roles together."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from index.embed import Embedder
from qa.errors import TrainedModelError
from qa.read.abstain import LogisticAbstainer
from qa.read.answerers.chat import ChatModel
from qa.read.answerers.errors import UnknownAnswerer
from qa.read.answerers.generative import GenerativeAnswerer
from qa.read.evidence import Answerer
from qa.read.extractive import ExtractiveAnswerer
from qa.read.pipeline import Pipeline
from qa.read.rankers import chosen, ranker
from qa.read.readers import reader
from qa.read.retrieve import HybridRetriever
from qa.read.roles import Ranker
from qa.read.verify import Verifier, load_verifier
from qa.settings import Settings


def _local(settings: Settings) -> ChatModel:
    from qa.read.answerers.local import LlamaCppModel

    return LlamaCppModel(
        settings.local_model_path, context=settings.local_context, threads=settings.local_threads
    )


def _remote(settings: Settings) -> ChatModel:
    from qa.read.answerers.remote import RemoteModel

    key = settings.remote_api_key
    return RemoteModel(
        settings.remote_base_url,
        settings.remote_model,
        api_key=key.get_secret_value() if key else None,
        timeout=settings.remote_timeout,
        retries=settings.remote_retries,
    )


# name -> the chat model a generative backend words its answers with
CHAT_MODELS: dict[str, Callable[[Settings], ChatModel]] = {"local": _local, "remote": _remote}


def generative(settings: Settings, embedder: Embedder, model: ChatModel) -> GenerativeAnswerer:
    """The answerer around a chat model; ``embedder`` grounds its replies."""
    return GenerativeAnswerer(
        model, embedder, sources=settings.prompt_sentences, max_tokens=settings.max_answer_tokens
    )


# name -> the answerer, built once from the settings and the embedding model
ANSWERERS: dict[str, Callable[[Settings, Embedder], Answerer]] = {
    "extractive": lambda settings, embedder: ExtractiveAnswerer(),
    "local": lambda settings, embedder: generative(settings, embedder, _local(settings)),
    "remote": lambda settings, embedder: generative(settings, embedder, _remote(settings)),
}


def verifier_for(
    abstainer: LogisticAbstainer, ranker: Ranker, settings: Settings
) -> Verifier | None:
    """The answerability verifier the refusal model was fitted with, beside the ranker's
    model; None when it was fitted without one."""
    if not abstainer.verified:
        return None
    if ranker.model_dir is None:
        raise TrainedModelError(
            f"{abstainer.weights} was fitted with a verifier, which the {type(ranker).__name__} "
            "has not: refit it (python -m train.fit_abstain)"
        )
    return load_verifier(
        Path(ranker.model_dir), settings.runtime, settings.onnx_dir, settings.torch_threads
    )


class Backend:
    """The chosen roles, loaded once; ``pipeline`` binds them to an index's retriever.
    ``answerer``: one to use instead of the registry's (a test's model, say)."""

    def __init__(
        self, settings: Settings, embedder: Embedder, answerer: Answerer | None = None
    ) -> None:
        if settings.answerer not in ANSWERERS:
            raise UnknownAnswerer(
                f"unknown answerer {settings.answerer!r} (QA_ANSWERER): choose one of "
                + ", ".join(ANSWERERS)
            )
        self.settings = settings
        self.name = settings.answerer
        self.ranking = chosen(settings)
        self.ranker = ranker(self.ranking, settings)
        self.reader = reader(self.ranker.reader, settings)
        # the refusal model fitted on this ranker's scores: its own, or an error
        self.abstainer = LogisticAbstainer(self.ranker.abstain_weights, settings.abstain_below)
        self.verifier = verifier_for(self.abstainer, self.ranker, settings)
        self.answerer = answerer or ANSWERERS[settings.answerer](settings, embedder)

    def pipeline(self, retriever: HybridRetriever) -> Pipeline:
        s = self.settings
        return Pipeline(
            retriever,
            self.ranker,
            self.reader,
            self.abstainer,
            self.answerer,
            top_k=s.top_k,
            max_citations=s.max_citations,
            verifier=self.verifier,
        )
