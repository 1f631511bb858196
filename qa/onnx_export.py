"""Export the e5 embedder and the reranker to ONNX ahead of time: `python -m qa.onnx_export`.

scripts/setup.sh runs it, so the first `qa ask` does not pay the export (about half a minute: loading
both models with torch and tracing them); without it the first use exports. A no-op, reading a few
hashes, when the exports are current (`index.onnx_models`).
"""

from __future__ import annotations

import sys

from index.onnx_models import ExportUnavailable, embedder_export
from qa.reranker import ADAPTER_PATH, reranker_export


def main() -> int:
    try:
        paths = [embedder_export()]
        if (ADAPTER_PATH / "adapter_config.json").is_file():  # no fitted reranker: nothing to export for it
            paths.append(reranker_export())
    except ExportUnavailable as error:
        # Not fatal: the product then runs everything with sentence-transformers.
        print(f"citeqa: note: {error}", file=sys.stderr)
        return 0
    for path in paths:
        print(f"citeqa: ONNX export ready: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
