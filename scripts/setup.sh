#!/usr/bin/env bash
# Creates .venv/ at the repo root with the pinned stack and exports the models to ONNX; fast no-op when up to date.
set -euo pipefail
cd "$(dirname "$0")/.."

stamp=".venv/.installed-$(sha256sum requirements.lock pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16)"
# The e5 embedder and the reranker exported to ONNX, for `qa ask` in a new process (no torch import).
# Run even when the stamp is current, since a newly fitted adapter needs a new export: 0.4 s when the
# exports are current, ~1 min when not (which the first `qa ask` would otherwise pay).
export_models() { HF_HUB_OFFLINE=1 .venv/bin/python -m qa.onnx_export; }
if [ -f "$stamp" ]; then
  export_models
  exit 0
fi
[ -x .venv/bin/python ] || python3 -m venv .venv
# Copies, not hard links: NLTK (inside llama-index) refuses hard-linked data files.
export UV_LINK_MODE=copy
# Bytecode written at install time: uv skips it by default, and where PYTHONDONTWRITEBYTECODE is
# set (this machine, many CI images) Python would recompile every module on every start
# (`import sentence_transformers` 15.5 s without .pyc files, 8.1 s with them: bench/README.md).
export UV_COMPILE_BYTECODE=1
# torch first, from pip's configured local wheel (CPU build); otherwise a dependency pulls a multi-GB CUDA build.
.venv/bin/pip install --quiet --disable-pip-version-check "torch==2.13.0"
.venv/bin/pip install --quiet --disable-pip-version-check "$(grep '^uv==' requirements.lock)"
.venv/bin/uv pip install --quiet --python .venv/bin/python -r requirements.lock
# Packages whose declared dependencies must not be installed (see the note in requirements.lock).
grep '^# no-deps: ' requirements.lock | cut -d' ' -f3- | xargs -r .venv/bin/uv pip install --quiet --python .venv/bin/python --no-deps
.venv/bin/uv pip install --quiet --python .venv/bin/python --no-deps -e .
rm -f .venv/.installed-*
touch "$stamp"
echo "citeqa: environment ready in .venv/"
export_models
