#!/usr/bin/env bash
# test_js.sh — the JavaScript package's vitest suite (js/test): the koffi
# binding, the LangGraph checkpointer (with the official conformance suite
# of @langchain/langgraph-checkpoint-validation and a real StateGraph),
# the LangChain vector store, the examples and the TypeScript declarations.
#
# Installs js/node_modules with `npm ci` from the committed lock file when
# it is missing or was installed from another lock file (a stamp holds the
# lock's sha256), then runs vitest twice, as tests/cli/test_python.sh runs
# pytest:
#   1. against the release library (MAIF_RELEASE_DIR/libmaif.so): what
#      users load, with nothing preloaded;
#   2. against the ASan+UBSan library beside MAIF_BIN, with libasan
#      preloaded into node (a sanitized .so cannot be loaded otherwise).
#      Leak detection is off for it: node itself does not free everything
#      at exit. Skipped, and said so, if the preload is missing.
# Prints one line "N passed, M failed" with vitest's own counts.
set -u
ROOT=$(pwd)
abs() { case "$1" in /*) echo "$1" ;; *) echo "$ROOT/$1" ;; esac; }
REL=$(abs "${MAIF_RELEASE_DIR:-build/release}")
JS="$ROOT/js"
log=$(mktemp /tmp/maif-vitest.XXXXXX)
trap 'rm -f "$log"' EXIT

fail() { echo "FAIL: $*"; echo "0 passed, 1 failed"; exit 1; }

command -v node >/dev/null || fail "node is not installed (the machine's Node.js 20 and npm are needed)"
major=$(node -p 'process.versions.node.split(".")[0]')
[ "$major" -ge 20 ] || fail "node $(node --version) is too old: vitest 4 needs Node.js 20 or later"
[ -f "$REL/libmaif.so" ] || fail "$REL/libmaif.so is missing (run make)"

want=$(sha256sum "$JS/package-lock.json" | cut -d' ' -f1)
stamp="$JS/node_modules/.maif-lock-sha256"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "npm ci (js/node_modules missing or stale)"
  (cd "$JS" && npm ci --no-audit --no-fund) >"$log" 2>&1 || { tail -n 40 "$log"; fail "npm ci failed"; }
  echo "$want" >"$stamp"
fi

ASAN=$(dirname "$(abs "${MAIF_BIN:-build/asan/maif}")")
passed=0
failed=0

# run NAME LIB [VAR=VALUE...]: one vitest run, its counts added to the totals.
run() {
  local name=$1 lib=$2 p f rc line
  shift 2
  if [ ! -f "$lib" ]; then
    echo "FAIL: $name: $lib is missing (run make)"
    failed=$((failed + 1))
    return
  fi
  (cd "$JS" && env "$@" NO_COLOR=1 FORCE_COLOR=0 MAIF_LIB="$lib" node node_modules/vitest/vitest.mjs run) >"$log" 2>&1
  rc=$?
  line=$(grep -E '^ *Tests +' "$log" | tail -n1)
  p=$(echo "$line" | grep -oE '[0-9]+ passed' | cut -d' ' -f1)
  f=$(echo "$line" | grep -oE '[0-9]+ failed' | cut -d' ' -f1)
  p=${p:-0}
  f=${f:-0}
  if [ "$rc" != 0 ] && [ "$f" = 0 ]; then f=1; fi # a suite failed to load, or vitest crashed
  if [ "$f" != 0 ] || grep -qE 'Sanitizer|runtime error:' "$log"; then
    [ "$f" = 0 ] && f=1
    echo "FAIL: $name ($lib):"
    tail -n 80 "$log"
  fi
  echo "$name: $p passed, $f failed"
  passed=$((passed + p))
  failed=$((failed + f))
}

run "vitest (release)" "$REL/libmaif.so"
preload=$(gcc -print-file-name=libasan.so 2>/dev/null)
if [ -n "${MAIF_COVERAGE:-}" ]; then
  # make coverage: its tree links the library statically (no libmaif.so to load)
  echo "vitest (second run): skipped under make coverage (the gcov tree has no shared library)"
elif [ -n "$preload" ] && [ -f "$preload" ]; then
  run "vitest (asan)" "$ASAN/libmaif.so" LD_PRELOAD="$preload" \
    ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
else
  echo "vitest (asan): skipped, libasan.so not found for LD_PRELOAD"
fi
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
