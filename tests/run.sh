#!/usr/bin/env bash
# Runs every test: cmocka unit tests, CLI tests and fuzz-corpus replays, all
# built with ASan+UBSan. Prints one closing line "N passed, N failed".
# Usage: tests/run.sh BUILD_ASAN_DIR [BUILD_RELEASE_DIR]
set -u
BA=${1:-build/asan}
export MAIF_BIN="$BA/maif"
# The release tree, for tests that load libmaif.so into another program (tests/cli/test_python.sh).
export MAIF_RELEASE_DIR=${2:-build/release}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export MAIF_HOME=$(mktemp -d /tmp/maif-home.XXXXXX)
trap 'rm -rf "$MAIF_HOME"' EXIT
LIMIT=${MAIF_TEST_TIMEOUT:-900}   # seconds per test program: a hang fails, it does not stall CI
passed=0; failed=0; failures=""
log=$(mktemp /tmp/maif-test-log.XXXXXX)

count_cmocka() { # adds the counts of a cmocka run's summary lines
  local p f
  p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n1)
  f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n1)
  echo "${p:-0} ${f:-0}"
}

for t in "$BA"/tests/test_*; do
  [ -x "$t" ] || continue
  name=$(basename "$t")
  timeout "$LIMIT" "$t" >"$log" 2>&1; rc=$?
  [ "$rc" = 124 ] && echo "$name: killed after ${LIMIT}s (hang?)" >>"$log"
  read -r p f < <(count_cmocka)
  if [ "$rc" != 0 ] && [ "$f" = 0 ]; then f=1; fi   # crashed before its summary
  passed=$((passed + p)); failed=$((failed + f))
  if [ "$f" != 0 ]; then failures="$failures $name"; cat "$log"; fi
  printf '%-28s %4d passed, %d failed\n' "$name" "$p" "$f"
done

for s in tests/cli/*.sh tests/models/*.sh; do
  [ -f "$s" ] || continue
  name=$(basename "$s" .sh)
  timeout "$LIMIT" bash "$s" >"$log" 2>&1; rc=$?
  [ "$rc" = 124 ] && echo "$name: killed after ${LIMIT}s (hang?)" >>"$log"
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n1)
  p=$(echo "$line" | sed -n 's/^\([0-9]*\) passed.*/\1/p'); f=$(echo "$line" | sed -n 's/.*, \([0-9]*\) failed.*/\1/p')
  p=${p:-0}; f=${f:-0}
  if [ "$rc" != 0 ] && [ "$f" = 0 ]; then f=1; fi
  passed=$((passed + p)); failed=$((failed + f))
  dir=$(basename "$(dirname "$s")")
  if [ "$f" != 0 ]; then failures="$failures $dir/$name"; cat "$log"; fi
  printf '%-28s %4d passed, %d failed\n' "$dir/$name" "$p" "$f"
  grep -m1 '^skipped:' "$log" | sed "s|^|  $dir/$name |"
done

for z in "$BA"/fuzz/fuzz_*; do
  [ -x "$z" ] || continue
  name=$(basename "$z")
  timeout "$LIMIT" "$z" "fuzz/corpus/$name" >"$log" 2>&1; rc=$?
  n=$(sed -n 's/^replayed \([0-9]*\) inputs/\1/p' "$log")
  if [ "$rc" = 0 ] && [ -n "$n" ]; then passed=$((passed + 1)); st="ok ($n inputs)"; else failed=$((failed + 1)); failures="$failures $name"; cat "$log"; st=FAILED; fi
  printf '%-28s replay %s\n' "$name" "$st"
done
rm -f "$log"
[ -n "$failures" ] && echo "failed:$failures"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
