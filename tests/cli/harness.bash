# harness.bash — what the CLI test scripts share (sourced, not run: the
# runner takes tests/cli/*.sh only). Before sourcing, a script sets
# HARNESS_NAME; the harness makes a temporary directory of its own with its
# own MAIF_HOME, cds into it, and gives the checks below. A script ends
# with `harness_finish`, which prints exactly one line "N passed, M failed"
# and returns non-zero when M > 0.
set -u

ROOT=$(pwd)
MAIF_BIN=${MAIF_BIN:-build/asan/maif}
case "$MAIF_BIN" in /*) ;; *) MAIF_BIN="$ROOT/$MAIF_BIN" ;; esac
PY=/usr/bin/python3

T=$(mktemp -d "/tmp/maif-${HARNESS_NAME:-cli}-test.XXXXXX")
trap 'rm -rf "$T"' EXIT
export MAIF_HOME="$T/home"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
cd "$T" || exit 1

passed=0
failed=0
OUT="$T/.out"
ERR="$T/.err"
rc=0

pass() { passed=$((passed + 1)); }
fail() {
  failed=$((failed + 1))
  echo "FAIL: $1"
  if [ -s "$ERR" ]; then sed 's/^/  stderr: /' "$ERR" | head -n 5; fi
}

# m ARGS...: runs maif, stdout to $OUT, stderr to $ERR, exit code in $rc.
m() {
  "$MAIF_BIN" "$@" >"$OUT" 2>"$ERR"
  rc=$?
}
# m_in INPUTFILE ARGS...: same, with stdin from INPUTFILE.
m_in() {
  local in=$1
  shift
  "$MAIF_BIN" "$@" <"$in" >"$OUT" 2>"$ERR"
  rc=$?
}

# Any sanitizer report is a failure of the check that triggered it.
sanitizer_clean() { ! grep -qE 'Sanitizer|runtime error:' "$ERR"; }

# expect DESC WANT_RC: checks the last run's exit code (and sanitizer output).
expect() {
  local desc=$1 want=$2
  if [ "$rc" = "$want" ] && sanitizer_clean; then pass; else fail "$desc (exit $rc, want $want)"; fi
}
# expect_err DESC RC PATTERN: exit code, and one "maif: " line on stderr matching PATTERN.
expect_err() {
  if [ "$rc" = "$2" ] && sanitizer_clean && [ "$(wc -l <"$ERR")" = 1 ] && grep -q "^maif: .*$3" "$ERR"; then
    pass
  else
    fail "$1 (exit $rc, want $2; stderr matching '$3')"
  fi
}
# ok DESC COMMAND...: passes when COMMAND succeeds.
ok() {
  local desc=$1
  shift
  if "$@"; then pass; else fail "$desc"; fi
}
# one_error_line: stderr is exactly one "maif: ..." line.
one_error_line() { [ "$(wc -l <"$ERR")" = 1 ] && grep -q '^maif: ' "$ERR"; }
out_has() { grep -qE -- "$1" "$OUT"; }
err_has() { grep -qE -- "$1" "$ERR"; }
# jcheck DESC FILE PYEXPR: the file is JSON and PYEXPR (over d) is true.
jcheck() {
  local desc=$1 file=$2 expr=$3
  if "$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if ($expr) else 1)" "$file" 2>/dev/null; then
    pass
  else
    fail "$desc"
  fi
}

harness_finish() {
  echo "$passed passed, $failed failed"
  [ "$failed" = 0 ]
}
