"""The `qa` command: ingest, ask, list, remove, serve, eval."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from qa.auth import add_auth_options
from qa.settings import Settings, SettingsError, load_settings


def _index_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", type=Path, help="Index directory (default: the bundled corpus in ~/.cache/citeqa/bundled).")
    parser.add_argument("--chroma-host", help="Use a Chroma server at this host instead of an embedded index.")
    parser.add_argument("--chroma-port", type=int, default=None, help="Chroma server port (default 8000).")


def llm_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--answerer", choices=("extractive", "generative"), default=None,
                        help="extractive: verbatim quotes, no model (default); generative: a model writes, every sentence verified.")
    parser.add_argument("--llm-gguf", type=Path, help="A local GGUF model run in-process (implies --answerer generative).")
    parser.add_argument("--llm-url", help="An OpenAI-compatible server, e.g. http://127.0.0.1:8080/v1 (implies --answerer generative); "
                        "its API key, if any, in $CITEQA_LLM_API_KEY.")
    parser.add_argument("--llm-model", help="Model name to ask the server for.")
    parser.add_argument("--llm-timeout", type=float, dest="llm_timeout_s", help="Seconds to wait for a written answer (default 180).")
    parser.add_argument("--llm-threads", type=int, help="CPU threads for --llm-gguf (default 1).")


def settings_from_args(args: argparse.Namespace) -> Settings:
    names = ("data_dir", "chroma_host", "chroma_port", "runtime", "answerer", "llm_gguf", "llm_url", "llm_model", "llm_timeout_s", "llm_threads")
    overrides = {name: getattr(args, name) for name in names if getattr(args, name, None) is not None}
    if "answerer" not in overrides and ("llm_gguf" in overrides or "llm_url" in overrides):
        overrides["answerer"] = "generative"  # naming a model means wanting it to write
    return load_settings(**overrides)


def _assistant(args: argparse.Namespace, settings: Settings | None = None):
    from qa.assistant import Assistant

    return Assistant(settings=settings or settings_from_args(args))


def _one_shot(settings: Settings) -> Settings:
    """Settings for a process that answers once and exits: the ONNX runtime unless one was chosen
    (CITEQA_RUNTIME, --runtime). It needs no torch import, which is most of such a process's time
    (bench/README.md: `qa ask` from a new process)."""
    return settings if "runtime" in settings.model_fields_set else settings.model_copy(update={"runtime": "onnx"})


def _listing(settings: Settings):
    """What the embedded index holds, read without opening Chroma; None when Chroma must be opened
    (a Chroma server, an unknown file layout, or the default index before the bundled corpus is in)."""
    if settings.chroma_host is not None:
        return None
    from index.listing import read_listing

    listing = read_listing(settings.data_dir, settings.collection)
    if listing is not None and not listing.documents and settings.holds_bundled:
        return None  # the first use of the default index indexes the bundled corpus
    return listing


def _no_documents(settings: Settings) -> str:
    where = "" if settings.holds_bundled else f" --data-dir {settings.data_dir}"
    return f"no documents are indexed in {settings.data_dir}; add some with `qa ingest FILE...{where}`."


def _ask(args: argparse.Namespace) -> int:
    from qa.inputs import check_question
    from qa.types import QuestionError

    # Checked before the model loads, so a bad question fails at once.
    settings = settings_from_args(args)
    try:
        question = check_question(args.question, settings.max_question_chars)
    except QuestionError as error:
        return _fail(str(error)[:1].lower() + str(error)[1:])
    listing = _listing(settings)
    if listing is not None and not listing.documents:
        return _fail(_no_documents(settings))
    answer = _remote_answer(settings, question)
    if answer is None:
        from index.gc_pause import gc_paused

        # One answer, then exit: the imports, models and catalog are all new objects, so the
        # collector only slows them down (index/gc_pause.py).
        with gc_paused():
            assistant = _assistant(args, _one_shot(settings))
            if not assistant.documents():
                return _fail(_no_documents(settings))
            answer = assistant.ask(question)
    if answer.fallback:
        print(f"qa: note: the written answer is not shown ({answer.fallback}); quoting the sources instead.", file=sys.stderr)
    if args.json:
        fields = {"question", "standalone_question", "text", "abstained", "confidence", "citations", "related", "language", "prompt_version", "latency_ms"}
        fields |= {"answerer", "sentences", "fallback", "notice"} if answer.answerer != "extractive" else set()
        print(answer.model_dump_json(indent=2, include=fields))
        return 0
    print(answer.text)
    if answer.notice:
        print(answer.notice)
    if answer.searched_otherwise:
        print(f"(searched for: {answer.searched_otherwise})")
    if answer.confidence is not None and not answer.abstained:
        print(f"\n(confidence that the documents answer: {answer.confidence:.2f})")
    if answer.abstained and answer.related:
        from prompts import prompts

        print("\n" + prompts().get("related_heading", answer.language))
        for related in answer.related:
            print(f"  - {related.text}  ({related.sentence_id}, score {related.score:.2f})")
    for citation in answer.citations:
        page = f"  p. {citation.page}" if citation.page is not None else ""
        print(f"\n[{citation.marker}] {citation.sentence_id}{page}  chars {citation.start}-{citation.end}  score {citation.score:.2f}")
        print(f"    {citation.text}")
    return 0


def _remote_answer(settings: Settings, question: str):
    """The answer from a running `qa serve` on this index (about a second), or None to answer here."""
    from qa.serving import ServerUnavailable, find_server, remote_ask

    record = find_server(settings)
    if record is None:
        return None
    try:
        return remote_ask(record, question)
    except ServerUnavailable as error:
        print(f"qa: the app at {record.url} did not answer ({error}); answering here.", file=sys.stderr)
        return None


def _ingest(args: argparse.Namespace) -> int:
    from index.loaders import load_path

    # Every file is read and checked before the model loads: a typo in a path fails at once.
    documents = [document for path in args.paths for document in load_path(path)]
    report = _assistant(args).add_documents(documents)
    print(report.summary())
    return 0


def _list(args: argparse.Namespace) -> int:
    from qa.ui.render import plural

    settings = settings_from_args(args)
    listing = _listing(settings)
    if listing is None:
        assistant = _assistant(args)
        documents = assistant.documents()
        counts = {document.id: len(assistant.catalog.of_document(document.id)) for document in documents}
    else:
        documents, counts = listing.documents, listing.sentences
    if not documents:
        message = _no_documents(settings)
        print(message[0].upper() + message[1:], file=sys.stderr)
    for document in documents:
        print(f"{document.id}\t{plural(counts.get(document.id, 0), 'sentence')}\t{document.title}")
    return 0


def _remove(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    listing = _listing(settings)
    if listing is None:
        removed = _assistant(args).remove_documents(args.doc_ids)
    else:
        from index.listing import unknown_documents

        unknown_documents(args.doc_ids, listing.ids())  # before Chroma is even imported
        # Removal needs Chroma but neither the model nor llama-index.
        from index.store import ChromaIndex, make_client

        index = ChromaIndex(make_client(settings.data_dir), settings.collection, embedding_label=None)
        # The same commit protocol as `Assistant.remove_documents`: under the writer lock, journalled, revision bumped.
        with index.writer:
            index.tidy()
            index.remove_documents(list(args.doc_ids))
            index.bump_revision()
        removed = list(args.doc_ids)
    print(f"removed {', '.join(removed)}")
    return 0


def _serve(args: argparse.Namespace) -> int:
    from qa.ui import launch

    launch(args)
    return 0


def _fail(message: str) -> int:
    print(f"qa: error: {message}", file=sys.stderr)
    return 2


def build_parser(with_eval_options: bool = True) -> argparse.ArgumentParser:
    """The parser; `with_eval_options=False` skips importing the evaluation suite (slow) when unused."""
    parser = argparse.ArgumentParser(prog="qa", description="Answers from your documents, citing the exact sentences.")
    commands = parser.add_subparsers(dest="command", required=True)

    ask = commands.add_parser("ask", help="Ask a question.")
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true", help="Print the answer with its citations as JSON.")
    ask.add_argument("--runtime", choices=("sentence-transformers", "onnx"), default=None,
                     help="How the models run when no `qa serve` is up (default onnx: no torch import; same answers).")
    _index_options(ask)
    llm_options(ask)
    ask.set_defaults(run=_ask)

    ingest = commands.add_parser("ingest", help="Add or update .txt, .md, .pdf, .jsonl files.")
    ingest.add_argument("paths", nargs="+", type=Path)
    _index_options(ingest)
    ingest.set_defaults(run=_ingest)

    listing = commands.add_parser("list", help="List the indexed documents.")
    _index_options(listing)
    listing.set_defaults(run=_list)

    remove = commands.add_parser("remove", help="Remove documents by ID.")
    remove.add_argument("doc_ids", nargs="+")
    _index_options(remove)
    remove.set_defaults(run=_remove)

    serve = commands.add_parser("serve", help="Start the chat app.")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=7860)
    add_auth_options(serve)
    _index_options(serve)
    llm_options(serve)
    serve.set_defaults(run=_serve)

    evaluation = commands.add_parser("eval", help="Run the faithfulness evaluation.")
    if with_eval_options:
        from eval.cli import add_eval_arguments, run_eval

        add_eval_arguments(evaluation)
        llm_options(evaluation)
        evaluation.set_defaults(run=run_eval)
    return parser


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(with_eval_options=bool(argv) and argv[0] == "eval").parse_args(argv)
    from index.errors import IndexUnavailableError
    from index.loaders import DocumentError
    from qa.types import QuestionError

    try:
        return args.run(args)
    except (DocumentError, QuestionError, IndexUnavailableError, SettingsError) as error:
        return _fail(str(error))


if __name__ == "__main__":
    sys.exit(main())
