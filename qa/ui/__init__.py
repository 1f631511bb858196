"""The Gradio chat app: `build_app(assistant)` makes it, `launch(argv)` serves it from the command line.

Names are imported on first use: Gradio takes seconds to import, and `qa` commands that
only need a helper from this package (or `qa serve --help`) should not wait for it.
"""

import os
from importlib import import_module

# Set before Gradio is imported: this app must not phone home.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

_EXPORTS = {"build_app": "qa.ui.layout", "launch": "qa.ui.server", "serve": "qa.ui.server"}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'qa.ui' has no attribute {name!r}")
