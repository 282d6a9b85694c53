#!/usr/bin/env bash
# CLI tests for zstd dictionaries stored in artifacts: `maif dict --train`,
# `maif dict` (list), `add`/`append --compress zstd --dict`, reading back,
# verify --deep, and the refusals (no dictionary, --dict with lz4, too
# little to train on, a damaged dictionary). Run from the repository root:
#   MAIF_BIN=build/asan/maif bash tests/cli/test_dict.sh
# Ends with exactly one line "N passed, M failed".
HARNESS_NAME=dict
. "$(dirname "$0")/harness.bash"

m keygen k.key; expect "keygen" 0
m create a.maif --key k.key; expect "create" 0
"$PY" - <<'PY' >lines.jsonl
import json
for i in range(800):
    rec = {"user": "u%d" % (i * 37 % 500), "event": ["login", "logout", "search"][i % 3], "status": "ok",
           "agent": "Mozilla/5.0 (X11; Linux x86_64)", "note": "session %d in region eu-west-%d" % (i, i % 4)}
    print(json.dumps({"type": "json", "text": json.dumps(rec), "meta": {"n": i}}))
PY
m dict a.maif --train --key k.key
expect_err "train on an empty artifact: refused" 2 'cannot train'
m append a.maif lines.jsonl --compress zstd --dict --key k.key
expect_err "--dict without a dictionary: exit 2" 2 'no committed dictionary'
m append a.maif lines.jsonl --compress lz4 --dict --key k.key
expect_err "--dict with lz4: usage error" 2 'dict'
m append a.maif lines.jsonl --compress zstd --key k.key; expect "append 800 lines" 0
m dict a.maif --train --size 100 --key k.key
expect_err "--size below 256: usage error" 2 'size'
m dict a.maif --train --size 16384 --key k.key; expect "dict --train" 0
ok "dict --train prints INDEX ID SIZE" out_has '^800 [0-9a-f]{32} [0-9]+$'
ok "dict --train says how many blocks" err_has 'trained on 800 blocks'
dictid=$(cut -d' ' -f2 "$OUT")
m dict a.maif; expect "dict lists" 0
ok "dict lists the dictionary" out_has "^800 $dictid [0-9]+$"
m append a.maif lines.jsonl --compress zstd --dict --key k.key; expect "append --dict" 0
m add a.maif --type json --text '{"user":"u1","event":"login","status":"ok"}' --compress zstd:19 --dict --key k.key
expect "add --compress zstd:19 --dict" 0
m ls a.maif
ok "ls shows zstd-dict blocks" out_has '^ +801  json .*\[zstd-dict [0-9]+->[0-9]+ '
m cat a.maif 801
ok "cat decodes a zstd-dict block" bash -c "head -n 1 lines.jsonl | \"$PY\" -c 'import json,sys; sys.stdout.write(json.loads(sys.stdin.read())[\"text\"])' | cmp -s - '$OUT'"
m verify a.maif --deep; expect "verify --deep" 0
ok "verify --deep decodes all" out_has 'OK \(1602 blocks, every one decoded'
m info a.maif --json
jcheck "info: stored bytes of the dictionary blocks are smaller" "$OUT" "d['compression']['blocks']>=800"
# damage one byte inside the dictionary's payload: its hash breaks, and the blocks using it no longer decode
off=$("$PY" -c "
import json,subprocess,sys
d=json.loads(subprocess.run([sys.argv[1],'ls',sys.argv[2],'--json'],capture_output=True).stdout)
print(d[800]['offset'])" "$MAIF_BIN" a.maif)
cp a.maif bad.maif
"$PY" -c "
import sys
f=open(sys.argv[1],'r+b'); f.seek(int(sys.argv[2])); b=f.read(1); f.seek(int(sys.argv[2])); f.write(bytes([b[0]^1]))" bad.maif $((off + 112 + 100))
m verify bad.maif; expect "damaged dictionary: verify fails" 1
ok "verify: a content-hash finding" out_has 'block 800 .*content hash mismatch'
m cat bad.maif 801; expect "cat of a block whose dictionary is damaged" 1
ok "cat: names the dictionary" err_has 'dictionary block 800: content hash mismatch'

harness_finish
