#!/usr/bin/env bash
# test_serve_crash.sh — no acknowledged append is lost by `maif serve`:
# SIGTERM and kill -9 during a load of concurrent one-shot appends, checked
# with maif verify and by index and id (tests/cli/serve_crash.py).
# Prints "N passed, M failed".
HARNESS_NAME=serve-crash
source "$(dirname "$0")/harness.bash"
export MAIF_BIN
"$PY" "$ROOT/tests/cli/serve_crash.py"
