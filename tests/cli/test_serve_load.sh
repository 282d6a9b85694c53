#!/usr/bin/env bash
# test_serve_load.sh — kill -9 of `maif serve` under load, three times,
# restarting on the same directory: `maif verify` passes and every
# acknowledged append is present with its index, id, payload and metadata.
# Extends test_serve_crash.sh (one kill, JSON appends, ids) to tokens,
# streamed binary bodies mixed with JSON blocks, repeated crashes and a
# byte-for-byte payload check (tests/cli/serve_load.py). Bounded: about
# 2-3 s of load in all. Prints "N passed, M failed".
HARNESS_NAME=serve-load
. "$(dirname "$0")/harness.bash"
export MAIF_BIN
"$PY" "$ROOT/tests/cli/serve_load.py"
