#!/usr/bin/env bash
# test_serve_idle.sh — `maif serve` releases what it does not use: idle
# writers (so `maif add` works beside the server) and, over --max-open,
# idle artifacts; reads, appends, a CLI writer and evictions at once stay
# correct (tests/cli/serve_idle.py). `make tsan` runs it on a
# ThreadSanitizer build of the server. Prints "N passed, M failed".
HARNESS_NAME=serve-idle
source "$(dirname "$0")/harness.bash"
export MAIF_BIN
"$PY" "$ROOT/tests/cli/serve_idle.py"
