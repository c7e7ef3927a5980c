"""Answer backends, chosen by name (``QA_ANSWERER``). Each one returns the same ``Answer``;
nothing outside this package knows which is in use."""

from __future__ import annotations

from collections.abc import Callable

from qa.answer import Answerer
from qa.answerers.chat import ChatModel
from qa.answerers.errors import UnknownAnswerer
from qa.answerers.generative import GenerativeAnswerer
from qa.cross import CrossReader, load_reader
from qa.extractive import ExtractiveAnswerer
from qa.retrieve import HybridRetriever
from qa.settings import Settings


def _local(settings: Settings) -> ChatModel:
    from qa.answerers.local import LlamaCppModel

    return LlamaCppModel(
        settings.local_model_path, context=settings.local_context, threads=settings.local_threads
    )


def _remote(settings: Settings) -> ChatModel:
    from qa.answerers.remote import RemoteModel

    key = settings.remote_api_key
    return RemoteModel(
        settings.remote_base_url,
        settings.remote_model,
        api_key=key.get_secret_value() if key else None,
        timeout=settings.remote_timeout,
        retries=settings.remote_retries,
    )


# name -> the chat model behind it (None: no generative model)
MODELS: dict[str, Callable[[Settings], ChatModel | None]] = {
    "extractive": lambda settings: None,
    "local": _local,
    "remote": _remote,
}


class Backend:
    """The chosen backend's model, loaded once; ``answerer`` binds it to an index."""

    def __init__(
        self,
        settings: Settings,
        model: ChatModel | None = None,
        cross: CrossReader | None = None,
    ) -> None:
        if settings.answerer not in MODELS:
            raise UnknownAnswerer(
                f"unknown answerer {settings.answerer!r} (QA_ANSWERER): choose one of "
                + ", ".join(MODELS)
            )
        self.settings = settings
        self.name = settings.answerer
        self.model = model if model is not None else MODELS[settings.answerer](settings)
        if cross is None and settings.trained_model:
            cross = load_reader(settings.trained_model_dir)
        self.cross = cross

    def answerer(self, retriever: HybridRetriever) -> Answerer:
        s = self.settings
        extractive = ExtractiveAnswerer(
            retriever,
            top_k=s.top_k,
            max_citations=s.max_citations,
            abstain_below=s.abstain_below,
            cross=self.cross,
        )
        if self.model is None:
            return extractive
        return GenerativeAnswerer(
            extractive, self.model, sources=s.prompt_sentences, max_tokens=s.max_answer_tokens
        )
