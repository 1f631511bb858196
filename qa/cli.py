"""The `qa` command: ingest, ask, list, remove, serve, eval."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from qa.settings import Settings


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
    names = ("data_dir", "chroma_host", "chroma_port", "answerer", "llm_gguf", "llm_url", "llm_model", "llm_timeout_s", "llm_threads")
    overrides = {name: getattr(args, name) for name in names if getattr(args, name, None) is not None}
    if "answerer" not in overrides and ("llm_gguf" in overrides or "llm_url" in overrides):
        overrides["answerer"] = "generative"  # naming a model means wanting it to write
    return Settings(**overrides)


def _assistant(args: argparse.Namespace):
    from qa.assistant import Assistant

    uses_default_index = args.data_dir is None and args.chroma_host is None
    return Assistant(settings=settings_from_args(args), include_bundled=uses_default_index)


def _ask(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    question = args.question.strip()
    # Checked before the model loads, so a bad question fails at once.
    if not question:
        return _fail("the question is empty; ask something about the documents.")
    if len(question) > settings.max_question_chars:
        return _fail(f"the question is {len(question)} characters long; the limit is {settings.max_question_chars}.")
    assistant = _assistant(args)
    answer = assistant.ask(question)
    if answer.fallback:
        print(f"qa: note: the written answer is not shown ({answer.fallback}); quoting the sources instead.", file=sys.stderr)
    if args.json:
        fields = {"question", "text", "abstained", "citations", "related", "language", "prompt_version", "latency_ms"}
        fields |= {"answerer", "sentences", "fallback", "notice"} if answer.answerer != "extractive" else set()
        print(answer.model_dump_json(indent=2, include=fields))
        return 0
    print(answer.text)
    if answer.notice:
        print(answer.notice)
    if answer.abstained and answer.related:
        print("\n" + assistant.prompts.get("related_heading", answer.language))
        for related in answer.related:
            print(f"  - {related.text}  ({related.sentence_id}, score {related.score:.2f})")
    for citation in answer.citations:
        print(f"\n[{citation.marker}] {citation.sentence_id}  chars {citation.start}-{citation.end}  score {citation.score:.2f}")
        print(f"    {citation.text}")
    return 0


def _ingest(args: argparse.Namespace) -> int:
    report = _assistant(args).add_documents(args.paths)
    print(report.summary())
    return 0


def _list(args: argparse.Namespace) -> int:
    assistant = _assistant(args)
    for document in assistant.documents():
        sentences = len(assistant.catalog.of_document(document.id))
        print(f"{document.id}\t{sentences} sentences\t{document.title}")
    return 0


def _remove(args: argparse.Namespace) -> int:
    removed = _assistant(args).remove_documents(args.doc_ids)
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
    serve.add_argument("--username")
    serve.add_argument("--password")
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
    except (DocumentError, QuestionError, IndexUnavailableError) as error:
        return _fail(str(error))


if __name__ == "__main__":
    sys.exit(main())
