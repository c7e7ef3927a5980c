"""All settings in one place: from QA_* environment variables, a .env file, or arguments.

Built once at each boundary (server, CLI, eval) and passed down; library code never
reads the environment itself."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from index.chunk import Chunking


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="QA_", env_file=".env", extra="ignore")

    index_dir: Path = Field(Path("data/index"), description="where the index lives")
    model: str = Field("all-MiniLM-L6-v2", description="embedding model")
    passage_sentences: int = Field(4, ge=1, description="sentences per passage")
    passage_overlap: int = Field(1, ge=0, description="sentences shared by neighbouring passages")
    top_k: int = Field(5, ge=1, le=50, description="passages read per question")
    max_citations: int = Field(2, ge=1, le=5, description="sentences cited at most")
    max_question_chars: int = Field(2000, ge=1)
    abstain_below: float = Field(0.5, description="abstain when the evidence score is below this")
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    torch_threads: int = Field(
        1, ge=1, description="threads for query-time encoding; 1 stays fast when the CPU is busy"
    )

    @property
    def chunking(self) -> Chunking:
        return Chunking(self.passage_sentences, self.passage_overlap)
