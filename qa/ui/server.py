"""Command-line options and launching: `python app.py` and `qa serve` both end here."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import gradio as gr

from qa.auth import LoginGuard, add_auth_options, login

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
    add_auth_options(cli)
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
    app: gr.Blocks,
    host: str,
    port: int,
    auth: tuple[str, str] | None = None,
    *,
    block: bool = True,
    quiet: bool = False,
    max_upload_bytes: int | None = None,
) -> None:
    """Start the server; with `block=False` return once it is up (tests, embedding in other programs).

    With `auth`, every page, upload and event needs a login (Gradio checks it on each route);
    failed logins are slowed down (`LoginGuard`)."""
    if max_upload_bytes is None:
        from qa.settings import Settings

        max_upload_bytes = Settings().max_upload_bytes
    app.queue(default_concurrency_limit=4).launch(
        server_name=host,
        server_port=port,
        auth=LoginGuard(*auth).check if auth else None,
        auth_message="Log in to use citeqa." if auth else None,
        max_file_size=max_upload_bytes,
        prevent_thread_lock=not block,
        show_error=True,
        quiet=quiet,
        footer_links=["api", "settings"],
        **page_assets(),
    )


def options(argv: list[str] | argparse.Namespace | None = None) -> tuple[argparse.Namespace, tuple[str, str] | None]:
    """The options (parsed here, or already parsed by `qa serve`) and the (username, password)
    pair, if any (qa/auth.py); bad combinations exit with usage."""
    cli = parser()
    args = argv if isinstance(argv, argparse.Namespace) else cli.parse_args(argv)
    return args, login(args, cli.error)


def exposure_warning(host: str, auth: tuple[str, str] | None) -> str | None:
    """A warning when the app is reachable from other machines without a password."""
    if host in LOOPBACK_HOSTS or auth is not None:
        return None
    return (
        f"warning: serving on {host} without --username/--password; anyone who can reach this "
        "address can read the documents and change the index."
    )


def launch(argv: list[str] | argparse.Namespace | None = None) -> None:
    """Parse options and serve until interrupted; the index (the bundled corpus by default) and the
    model load in the background after the page is up, so the app answers its URL within seconds."""
    args, auth = options(argv)
    if warning := exposure_warning(args.host, auth):
        print(warning, file=sys.stderr)
    # Imported here so `--help` and option errors answer at once.
    from qa.serving import announce
    from qa.ui.layout import build_app
    from qa.ui.warmup import Warmup

    from qa.cli import settings_from_args

    settings = settings_from_args(args)

    def open_assistant():
        from qa.assistant import Assistant

        assistant = Assistant(settings=settings)
        assistant.retriever.warm_up()
        return assistant

    warmup = Warmup(open_assistant)
    app = build_app(warmup)
    serve(app, args.host, args.port, auth, block=False, max_upload_bytes=settings.max_upload_bytes)
    print("Loading the index and the embedding model in the background…", file=sys.stderr)
    warmup.start()
    # `qa ask` in another terminal finds this server through the record and asks it instead of loading the model.
    announce(settings, args.host, app.server_port or args.port, auth is not None)
    app.block_thread()
