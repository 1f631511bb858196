"""LLM backends for the generative answerer, all through llama-index's `LLM` abstraction.

Two ways to reach a model, both spoken to with `OpenAILike` (`llama-index-llms-openai-like`):

- an OpenAI-compatible server you run (Ollama, llama.cpp's server, vLLM, a hosted API):
  `Settings.llm_url`, `llm_model`, and a key in the environment variable `llm_api_key_env`;
- a local GGUF file (`Settings.llm_gguf`), loaded in this process by llama.cpp through
  `xllamacpp`, whose embedded server listens on a local port with a random API key.

One client path for both means the JSON-schema request, streaming, timeouts and error handling
are the same code. Both packages are the optional `llm` extra (`pip install 'citeqa[llm]'`);
nothing here is imported unless a generative answer is asked for.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from qa.settings import Settings

if TYPE_CHECKING:
    from llama_index.core.llms import LLM, ChatMessage

INSTALL_HINT = "install the optional `llm` extra: pip install 'citeqa[llm]' (xllamacpp and llama-index-llms-openai-like)"
_GGUF_MAGIC = b"GGUF"


class LLMUnavailable(RuntimeError):
    """No model can be used: none configured, the extra missing, or the model file unusable."""


class LLMFailure(RuntimeError):
    """The model was reached but did not give an answer: timeout, refused connection, server error."""


def describe(settings: Settings) -> str:
    """The configured model, for messages and reports."""
    if settings.llm_gguf is not None:
        return f"local GGUF {Path(settings.llm_gguf).name} ({settings.llm_threads} thread{'s' * (settings.llm_threads > 1)})"
    if settings.llm_url:
        return f"{settings.llm_model} at {settings.llm_url}"
    return "no model"


class LocalServer:
    """llama.cpp's OpenAI-compatible server for one GGUF file, running inside this process."""

    def __init__(self, path: Path, threads: int, context: int, parallel: int = 1) -> None:
        problem = _gguf_problem(path)
        if problem:
            raise LLMUnavailable(problem)
        try:
            import xllamacpp
        except ImportError:
            raise LLMUnavailable(f"--llm-gguf needs llama.cpp: {INSTALL_HINT}.") from None
        params = xllamacpp.CommonParams()
        params.model.path = str(path)
        params.n_ctx = context
        # One answer at a time for a user: on a CPU, parallel slots only split the cores. Batch jobs
        # (eval.paraphrases) decode several requests together, which costs little more than one.
        params.n_parallel = parallel
        params.cpuparams.n_threads = threads
        params.cpuparams_batch.n_threads = threads
        params.verbosity = -1  # llama.cpp's per-request log lines would flood the terminal
        # It listens on a local port: a random key keeps other local users from using it.
        self.api_key = secrets.token_urlsafe(24)
        params.api_keys = [self.api_key]
        try:
            self._server = xllamacpp.Server(params)
        except (RuntimeError, ValueError) as error:
            raise LLMUnavailable(f"{path}: llama.cpp cannot load this model ({error}); check that it is a complete GGUF file.") from error
        self.url = self._server.listening_address.rstrip("/") + "/v1"
        self.name = path.name

    def llm(self, settings: Settings) -> LLM:
        """A llama-index client of this server, with the output limits of `settings`."""
        return _client(self.url, self.api_key, self.name, settings)


def _gguf_problem(path: Path) -> str | None:
    if not path.is_file():
        return f"{path}: no such model file; pass the path of a .gguf file to --llm-gguf (scripts/get-qwen.sh fetches one)."
    with path.open("rb") as handle:
        if handle.read(4) != _GGUF_MAGIC:
            return f"{path}: not a GGUF model file (it lacks the GGUF header); pass a .gguf file to --llm-gguf."
    return None


@lru_cache(maxsize=2)
def local_server(path: Path, threads: int, context: int, parallel: int = 1) -> LocalServer:
    """The model is loaded once per process (about 1.9 GB for a 1.5B Q4 model)."""
    return LocalServer(path.resolve(), threads, context, parallel)


def check_gguf(path: str | Path, threads: int = 1) -> str:
    """Load a GGUF file and have it write a few tokens; returns a one-line description."""
    server = local_server(Path(path), threads, 512)
    llm = server.llm(Settings(llm_max_tokens=16, llm_timeout_s=120))
    from llama_index.core.llms import ChatMessage

    reply = "".join(stream_chat(llm, [ChatMessage(role="user", content="Say OK.")], None))
    return f"{server.name} loads and answers ({reply.strip()[:40]!r})"


def load_llm(settings: Settings) -> LLM:
    """The configured model as a llama-index `LLM`; `LLMUnavailable` says what to fix."""
    if settings.llm_gguf is not None:
        server = local_server(Path(settings.llm_gguf), settings.llm_threads, settings.llm_context)
        return server.llm(settings)
    if settings.llm_url:
        # Local servers usually take any key; the client library insists on one.
        key = os.environ.get(settings.llm_api_key_env) or "not-needed"
        return _client(settings.llm_url, key, settings.llm_model, settings)
    raise LLMUnavailable(
        "the generative answerer needs a model: pass --llm-gguf PATH (a local GGUF file) or --llm-url URL "
        "(an OpenAI-compatible server), or set CITEQA_LLM_GGUF / CITEQA_LLM_URL."
    )


def _client(url: str, key: str, model: str, settings: Settings) -> LLM:
    try:
        from llama_index.llms.openai_like import OpenAILike
    except ImportError:
        raise LLMUnavailable(f"--llm-url needs the OpenAI-compatible client: {INSTALL_HINT}.") from None
    return OpenAILike(
        model=model,
        api_base=url,
        api_key=key,
        is_chat_model=True,
        context_window=settings.llm_context,
        max_tokens=settings.llm_max_tokens,
        temperature=0.0,  # the answer should be the model's best reading of the sources, not a sample
        timeout=settings.llm_timeout_s,
        # A retry after a timeout doubles the wait; the extractive answer is the better fallback.
        max_retries=0,
    )


def json_schema_format(schema: dict) -> dict:
    """The OpenAI `response_format` asking for JSON that matches `schema` (llama.cpp, vLLM and
    Ollama enforce it while sampling; servers that ignore it are still verified after)."""
    return {"type": "json_schema", "json_schema": {"name": schema.get("title", "answer"), "schema": schema, "strict": True}}


def stream_chat(llm: LLM, messages: Sequence[ChatMessage], schema: dict | None) -> Iterator[str]:
    """Text deltas of the model's reply; timeouts, refused connections and server errors become
    `LLMFailure` with a message saying what to check."""
    extra = {"response_format": json_schema_format(schema)} if schema is not None else {}
    try:
        for chunk in llm.stream_chat(list(messages), **extra):
            if chunk.delta:
                yield chunk.delta
    except Exception as error:  # noqa: BLE001 - filtered right below; the rest propagates
        message = _failure_message(error, getattr(llm, "api_base", None))
        if message is None:
            raise
        raise LLMFailure(message) from error


def _failure_message(error: Exception, where: str | None) -> str | None:
    """What went wrong talking to the model, or None when `error` is not a transport/server error."""
    import httpx

    timeouts: tuple[type[Exception], ...] = (httpx.TimeoutException, TimeoutError)
    unreachable: tuple[type[Exception], ...] = (httpx.NetworkError, ConnectionError)
    failed: tuple[type[Exception], ...] = (httpx.HTTPError,)
    try:
        import openai

        # openai's timeout error is a kind of connection error: test timeouts first.
        timeouts, unreachable, failed = (*timeouts, openai.APITimeoutError), (*unreachable, openai.APIConnectionError), (*failed, openai.APIError)
    except ImportError:  # another llama-index LLM (the tests' scripted one)
        pass
    model = f"the model at {where}" if where else "the model"
    if isinstance(error, timeouts):
        return f"{model} did not answer in time ({error}); raise --llm-timeout or use a smaller model"
    if isinstance(error, unreachable):
        return f"cannot reach {model} ({error}); check that the server is running and that the URL ends in /v1"
    if isinstance(error, failed):
        return f"{model} failed ({type(error).__name__}: {error})"
    return None
