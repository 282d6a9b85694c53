#!/usr/bin/env bash
# test_serve.sh — `maif serve` end to end: the real server on port 0, driven
# over HTTP by tests/cli/serve_api.py (every route of docs/API.md, tokens,
# policy, limits, hostile requests, logs, metrics through promtool, and
# docs/openapi.yaml against docs/API.md). Prints "N passed, M failed".
HARNESS_NAME=serve
source "$(dirname "$0")/harness.bash"
export MAIF_BIN
"$PY" "$ROOT/tests/cli/serve_api.py" "$ROOT"
