#!/usr/bin/env bash
# test_js.sh — the JavaScript package's vitest suite (js/test): the koffi
# binding, the LangGraph checkpointer (with the official conformance suite
# of @langchain/langgraph-checkpoint-validation and a real StateGraph) and
# the LangChain vector store.
#
# Installs js/node_modules with `npm ci` from the committed lock file when
# it is missing or was installed from another lock file (a stamp holds the
# lock's sha256), then runs vitest once against the release library
# (MAIF_RELEASE_DIR/libmaif.so): loading the ASan+UBSan build into node
# would need libasan preloaded into the node process, whose own
# allocations then report as leaks, so the C side of these calls is
# sanitised by the unit tests instead.
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

(cd "$JS" && NO_COLOR=1 FORCE_COLOR=0 MAIF_LIB="$REL/libmaif.so" node node_modules/vitest/vitest.mjs run) >"$log" 2>&1
rc=$?
line=$(grep -E '^ *Tests +' "$log" | tail -n1)
p=$(echo "$line" | grep -oE '[0-9]+ passed' | cut -d' ' -f1)
f=$(echo "$line" | grep -oE '[0-9]+ failed' | cut -d' ' -f1)
p=${p:-0}
f=${f:-0}
if [ "$rc" != 0 ] && [ "$f" = 0 ]; then f=1; fi # a suite failed to load, or vitest crashed
if [ "$f" != 0 ]; then
  echo "FAIL: vitest ($REL/libmaif.so):"
  tail -n 80 "$log"
else
  grep -E '^ *(Test Files|Tests) ' "$log"
fi
echo "$p passed, $f failed"
[ "$f" = 0 ]
