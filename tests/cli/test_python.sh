#!/usr/bin/env bash
# test_python.sh — the Python package's pytest suite (python/tests), run by
# Debian's /usr/bin/python3 -m pytest twice:
#   1. against the release library (MAIF_RELEASE_DIR/libmaif.so): what users
#      load, and the robust run (nothing to preload);
#   2. against the ASan+UBSan library beside MAIF_BIN, with libasan preloaded
#      into python (a sanitized .so cannot be loaded otherwise). Leak
#      detection is off for it: the interpreter itself does not free
#      everything at exit. Skipped, and said so, if the preload is missing.
# Prints one line "N passed, M failed" with pytest's own counts (skipped
# tests are not counted either way).
set -u
ROOT=$(pwd)
PY=/usr/bin/python3
abs() { case "$1" in /*) echo "$1" ;; *) echo "$ROOT/$1" ;; esac; }
REL=$(abs "${MAIF_RELEASE_DIR:-build/release}")
ASAN=$(dirname "$(abs "${MAIF_BIN:-build/asan/maif}")")
export PYTHONDONTWRITEBYTECODE=1
passed=0
failed=0
log=$(mktemp /tmp/maif-pytest.XXXXXX)
trap 'rm -f "$log"' EXIT

# run NAME LIB [VAR=VALUE...]: one pytest run, its counts added to the totals.
run() {
  local name=$1 lib=$2 p f e rc
  shift 2
  if [ ! -f "$lib" ]; then
    echo "FAIL: $name: $lib is missing (run make)"
    failed=$((failed + 1))
    return
  fi
  (cd "$ROOT" && env "$@" MAIF_LIB="$lib" "$PY" -m pytest -q -p no:cacheprovider python/tests) >"$log" 2>&1
  rc=$?
  p=$(grep -oE '[0-9]+ passed' "$log" | tail -n1 | cut -d' ' -f1)
  f=$(grep -oE '[0-9]+ failed' "$log" | tail -n1 | cut -d' ' -f1)
  e=$(grep -oE '[0-9]+ errors?' "$log" | tail -n1 | cut -d' ' -f1)
  p=${p:-0}
  f=$(( ${f:-0} + ${e:-0} ))
  if [ "$rc" != 0 ] && [ "$f" = 0 ]; then f=1; fi # pytest crashed or found nothing
  if [ "$f" != 0 ] || grep -qE 'Sanitizer|runtime error:' "$log"; then
    [ "$f" = 0 ] && f=1
    echo "FAIL: $name ($lib):"
    tail -n 60 "$log"
  fi
  echo "$name: $p passed, $f failed"
  passed=$((passed + p))
  failed=$((failed + f))
}

run "pytest (release)" "$REL/libmaif.so"
preload=$(gcc -print-file-name=libasan.so 2>/dev/null)
if [ -n "${MAIF_COVERAGE:-}" ]; then
  # make coverage: its tree links the library statically (no libmaif.so to load)
  echo "pytest (second run): skipped under make coverage (the gcov tree has no shared library)"
elif [ -n "$preload" ] && [ -f "$preload" ]; then
  run "pytest (asan)" "$ASAN/libmaif.so" LD_PRELOAD="$preload" \
    ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
else
  echo "pytest (asan): skipped, libasan.so not found for LD_PRELOAD"
fi
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
