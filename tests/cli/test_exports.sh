#!/usr/bin/env bash
# The shared library's contract with bindings: libmaif.so exports exactly
# the functions include/maif.h declares, and nothing internal (nat_*,
# v21_*, maif_buf_*, maif_report_add, ...). Checks the library beside
# MAIF_BIN (the ASan tree in `make test`) and build/release/libmaif.so.
# Symbols starting with '_' (sanitizer runtime hooks) are not ours and are
# left out. Ends with "N passed, M failed".
set -u
ROOT=$(pwd)
MAIF_BIN=${MAIF_BIN:-build/asan/maif}
passed=0
failed=0
T=$(mktemp -d /tmp/maif-exports.XXXXXX)
trap 'rm -rf "$T"' EXIT

# Every function maif.h declares: a MAIF_API line up to the name's '('.
grep -E '^MAIF_API ' "$ROOT/include/maif.h" | grep -oE '\bmaif_[a-z0-9_]+\(' | tr -d '(' | sort -u >"$T/declared"
n=$(wc -l <"$T/declared")
if [ "$n" -ge 40 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: only $n declarations found in maif.h"; fi
# Every prototype in maif.h carries MAIF_API (no declaration was missed).
if grep -nE '^[a-z].*\bmaif_[a-z0-9_]+\(' "$ROOT/include/maif.h" | grep -v 'MAIF_API'; then
  failed=$((failed + 1)); echo "FAIL: maif.h declarations without MAIF_API (above)"
else
  passed=$((passed + 1))
fi

libs=("$(dirname "$MAIF_BIN")/libmaif.so" "$ROOT/build/release/libmaif.so")
# The coverage tree links gcov's runtime into its library (mangle_path, ...)
# and its CLI statically: `make coverage` checks only the release tree.
[ -n "${MAIF_COVERAGE:-}" ] && libs=("$ROOT/build/release/libmaif.so")
for lib in "${libs[@]}"; do
  if [ ! -f "$lib" ]; then failed=$((failed + 1)); echo "FAIL: $lib missing"; continue; fi
  nm -D --defined-only "$lib" | awk '$2 ~ /^[TWDBRVi]$/ {print $3}' | sed 's/@.*//' | grep -v '^_' | sort -u >"$T/exported"
  if diff -u "$T/declared" "$T/exported" >"$T/diff"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1)); echo "FAIL: $lib exports differ from maif.h (- declared only, + exported only):"
    grep -E '^[-+][a-z_]' "$T/diff" | head -40
  fi
  # The CLI beside it links this library (not a static copy of it).
  bin="$(dirname "$lib")/maif"
  if [ -x "$bin" ]; then
    if readelf -d "$bin" | grep -q 'NEEDED.*libmaif\.so\.0' && ! nm "$bin" | grep -qE ' T (nat_|v21_|maif_writer_add)'; then
      passed=$((passed + 1))
    else
      failed=$((failed + 1)); echo "FAIL: $bin does not link libmaif.so dynamically"
    fi
  fi
done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
