#!/usr/bin/env bash
# CLI tests for concurrent writers: `maif append` processes started at
# once on one artifact queue for the lock (they wait up to 10 s) instead of
# failing; every batch lands whole and contiguous. Run from the repository
# root:
#   MAIF_BIN=build/asan/maif bash tests/cli/test_writers.sh
# Ends with exactly one line "N passed, M failed".
HARNESS_NAME=writers
. "$(dirname "$0")/harness.bash"

NP=8 # processes
NL=20 # lines (blocks) per process, one batch each

m keygen k.key; expect "keygen" 0
m create a.maif --key k.key; expect "create" 0
for p in $(seq 1 $NP); do
  for j in $(seq 0 $((NL - 1))); do
    printf '{"type":"text","text":"p%s j%s","meta":{"j":%s,"p":%s}}\n' "$p" "$j" "$j" "$p"
  done >"in$p.jsonl"
done
pids=()
for p in $(seq 1 $NP); do
  "$MAIF_BIN" append a.maif "in$p.jsonl" --key k.key >"out$p" 2>"err$p" &
  pids+=($!)
done
all=0
for p in $(seq 1 $NP); do
  wait "${pids[$((p - 1))]}" || { all=1; echo "append $p failed:"; sed 's/^/  /' "err$p" | head -3; }
done
ok "$NP concurrent appends all succeed" [ "$all" = 0 ]
ok "each printed its $NL blocks" [ "$(cat out* | wc -l)" = $((NP * NL)) ]
m verify a.maif; expect "verify after concurrent appends" 0
m ls a.maif --json; expect "ls --json" 0
cp "$OUT" ls.json
jcheck "every batch whole, contiguous, once" ls.json "
len(d) == $NP * $NL and
all(d[k]['meta'] == {'j': k % $NL, 'p': d[k - k % $NL]['meta']['p']} for k in range(len(d))) and
sorted(d[k]['meta']['p'] for k in range(0, len(d), $NL)) == list(range(1, $NP + 1))"

harness_finish
