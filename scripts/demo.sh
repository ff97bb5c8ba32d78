#!/usr/bin/env bash
# Set up (once), build the demo dataset from recipes/demo.yaml and verify it. Extra arguments go to `ascl build`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
exec .venv/bin/ascl build recipes/demo.yaml --verify "$@"
