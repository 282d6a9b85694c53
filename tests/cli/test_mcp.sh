#!/usr/bin/env bash
# test_mcp.sh — `maif mcp` (the Model Context Protocol server) driven by the
# official TypeScript SDK's client, and compared with the reference memory
# server, both installed from npm by `npm ci` from tests/mcp's committed
# lock file (into tests/mcp/node_modules, when missing or older than the
# lock). The checks are in tests/mcp/session.mjs; this prints its closing
# line "N passed, M failed".
set -u
ROOT=$(pwd)
BIN=${MAIF_BIN:-build/asan/maif}
case "$BIN" in /*) ;; *) BIN="$ROOT/$BIN" ;; esac
D="$ROOT/tests/mcp"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "FAIL: node and npm are needed (a new machine has Node.js 20 and npm)"
  echo "0 passed, 1 failed"
  exit 1
fi
if [ ! -d "$D/node_modules" ] || [ "$D/package-lock.json" -nt "$D/node_modules/.package-lock.json" ]; then
  if ! (cd "$D" && npm ci --no-audit --no-fund --loglevel=error >/dev/null 2>"$D/.npm-ci.log"); then
    echo "FAIL: npm ci in tests/mcp failed (is the npm registry reachable?):"
    tail -5 "$D/.npm-ci.log"
    echo "0 passed, 1 failed"
    exit 1
  fi
  rm -f "$D/.npm-ci.log"
fi
W=$(mktemp -d /tmp/maif-mcp-test.XXXXXX)
trap 'rm -rf "$W"' EXIT
export MAIF_HOME="$W/home"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
cd "$D" && timeout 600 node session.mjs "$BIN" "$W"
