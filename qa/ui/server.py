"""Command-line options and launching: `python app.py` and `qa serve` both end here."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import gradio as gr

STATIC_DIR = Path(__file__).resolve().parent / "static"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
DEFAULT_PORT = 7860


def parser() -> argparse.ArgumentParser:
    cli = argparse.ArgumentParser(
        description="Chat with the indexed documents in the browser; answers cite the exact sentences."
    )
    cli.add_argument("--host", default="127.0.0.1", help="Address to bind (default 127.0.0.1: this machine only).")
    cli.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"Port to listen on (default {DEFAULT_PORT}).")
    cli.add_argument("--data-dir", type=Path, help="Index directory (default: the bundled corpus in ~/.cache/citeqa/bundled).")
    cli.add_argument("--chroma-host", help="Use a Chroma server instead of the embedded index.")
    cli.add_argument("--chroma-port", type=int, help="Port of the Chroma server.")
    cli.add_argument("--username", help="Require this username to open the app (with --password).")
    cli.add_argument("--password", help="Require this password to open the app (with --username).")
    from qa.cli import llm_options

    llm_options(cli)
    return cli


def page_assets() -> dict[str, object]:
    """Theme, CSS and JavaScript of the page; Gradio 6 takes these in `launch()`, not in `Blocks`."""
    return {
        # Fonts shipped with Gradio or the system only: the page must load with no internet.
        "theme": gr.themes.Soft(
            primary_hue="teal",
            secondary_hue="slate",
            neutral_hue="slate",
            font=(gr.themes.LocalFont("Source Sans Pro", weights=(400, 600)), "ui-sans-serif", "system-ui", "sans-serif"),
        ),
        "css": (STATIC_DIR / "app.css").read_text(encoding="utf-8"),
        "js": (STATIC_DIR / "app.js").read_text(encoding="utf-8"),
    }


def serve(
    app: gr.Blocks, host: str, port: int, auth: tuple[str, str] | None = None, *, block: bool = True, quiet: bool = False
) -> None:
    """Start the server; with `block=False` return once it is up (tests, embedding in other programs)."""
    app.queue(default_concurrency_limit=4).launch(
        server_name=host,
        server_port=port,
        auth=auth,
        prevent_thread_lock=not block,
        show_error=True,
        quiet=quiet,
        footer_links=["api", "settings"],
        **page_assets(),
    )


def options(argv: list[str] | argparse.Namespace | None = None) -> tuple[argparse.Namespace, tuple[str, str] | None]:
    """The options (parsed here, or already parsed by `qa serve`) and the (username, password)
    pair, if any; bad combinations exit with usage."""
    cli = parser()
    args = argv if isinstance(argv, argparse.Namespace) else cli.parse_args(argv)
    if bool(args.username) != bool(args.password):
        cli.error("--username and --password go together; give both or neither.")
    return args, (args.username, args.password) if args.username else None


def exposure_warning(host: str, auth: tuple[str, str] | None) -> str | None:
    """A warning when the app is reachable from other machines without a password."""
    if host in LOOPBACK_HOSTS or auth is not None:
        return None
    return (
        f"warning: serving on {host} without --username/--password; anyone who can reach this "
        "address can read the documents and change the index."
    )


def launch(argv: list[str] | argparse.Namespace | None = None) -> None:
    """Parse options, open the index (the bundled corpus by default) and serve until interrupted."""
    args, auth = options(argv)
    if warning := exposure_warning(args.host, auth):
        print(warning, file=sys.stderr)
    # Imported here so `--help` and option errors answer at once, before the model loads.
    from qa.assistant import Assistant
    from qa.ui.layout import build_app

    print("Loading the index and the embedding model…", file=sys.stderr)
    from qa.cli import settings_from_args

    uses_default_index = args.data_dir is None and args.chroma_host is None
    assistant = Assistant(settings=settings_from_args(args), include_bundled=uses_default_index)
    serve(build_app(assistant), args.host, args.port, auth)
