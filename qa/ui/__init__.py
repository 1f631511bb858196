"""The Gradio chat app: `build_app(assistant)` makes it, `launch(argv)` serves it from the command line."""

import os

# Set before Gradio is imported: this app must not phone home.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from qa.ui.layout import build_app  # noqa: E402
from qa.ui.server import launch, serve  # noqa: E402

__all__ = ["build_app", "launch", "serve"]
