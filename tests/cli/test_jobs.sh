#!/usr/bin/env bash
# CLI tests for `maif append --jobs N`: lines parsed on N threads give the
# same blocks, in the same order, with the same output as one thread; the
# first bad line in input order is the one reported, and nothing is
# committed; a bad --jobs is a usage error. Run from the repository root:
#   MAIF_BIN=build/asan/maif bash tests/cli/test_jobs.sh
# Ends with exactly one line "N passed, M failed".
HARNESS_NAME=jobs
. "$(dirname "$0")/harness.bash"

m keygen k.key; expect "keygen" 0
printf 'payload of a file\n' > f.txt
"$PY" - <<'PY' >lines.jsonl
import json
for i in range(3000):
    if i % 97 == 0:
        print(json.dumps({"type": "text", "file": "f.txt", "meta": {"i": i}}))
    elif i % 89 == 0:
        print("")  # blank: skipped, still counted as a line
    elif i % 7 == 0:
        print(json.dumps({"type": "text", "text": "caf\u00e9 %d \"q\"" % i, "meta": {"z": i, "a": [1, 2.5]}}))
    else:
        print(json.dumps({"type": "text", "text": "note %d\n" % i, "meta": {"source": "chat"}}, separators=(",", ":")))
PY
for j in 1 3; do
  m create j$j.maif --key k.key; expect "create j$j" 0
  m append j$j.maif lines.jsonl --jobs $j --key k.key; expect "append --jobs $j" 0
  cut -d' ' -f1 "$OUT" > idx$j
  m ls j$j.maif --json; cp "$OUT" ls$j.json
done
ok "the same indices printed" cmp -s idx1 idx3
ok "2967 blocks" test "$(wc -l < idx3)" = 2967
jcheck "the same types, sizes and metadata in the same order" ls3.json "[(b['type'],b['size'],b['meta']) for b in d]==[(b['type'],b['size'],b['meta']) for b in json.load(open('ls1.json'))]"
m verify j3.maif --deep; expect "verify --deep" 0
# a bad line late in the input: reported by its number, nothing committed
"$PY" -c "
import sys
lines = open('lines.jsonl').read().split('\n')
lines[2500] = '{\"type\":\"text\",\"text\":\"x\",\"bogus\":1}'
lines[2800] = '{broken'
open('bad.jsonl','w').write('\n'.join(lines))"
before=$(wc -c < j3.maif)
m append j3.maif bad.jsonl --jobs 2 --key k.key
expect_err "--jobs 2: the first bad line is named" 2 'line 2501: unknown key "bogus" (nothing committed)'
ok "nothing committed" test "$(wc -c < j3.maif)" = "$before"
m append j3.maif bad.jsonl --key k.key
expect_err "one thread: the same error" 2 'line 2501: unknown key "bogus" (nothing committed)'
m append j3.maif lines.jsonl --jobs 0 --key k.key
expect_err "--jobs 0: usage error" 2 'jobs'
m append j3.maif lines.jsonl --jobs 65 --key k.key
expect_err "--jobs 65: usage error" 2 'jobs'
m_in lines.jsonl append j3.maif - --jobs 4 --key k.key; expect "--jobs 4 from stdin" 0

harness_finish
