#!/usr/bin/env bash
# CLI tests for CSB (docs/CSB.md) and `maif verify --recompute`: bound
# embeddings verify; a forged binding (a vector changed under a copied
# commitment) fails every verify; an unbound poisoned vector passes verify
# but fails --recompute; a model that is not installed is a warning.
# Run from the repository root:
#   MAIF_BIN=build/asan/maif bash tests/cli/test_csb.sh
# Ends with exactly one line "N passed, M failed".
HARNESS_NAME=csb
. "$(dirname "$0")/harness.bash"

m create c.maif; expect "create" 0
m add c.maif --type text --text "The deploy failed because the certificate expired." --embed; expect "add --embed" 0
A=$(cut -d' ' -f2 "$OUT")
m add c.maif --type text --text "Lunch was pasta with tomatoes."; expect "add" 0
B=$(cut -d' ' -f2 "$OUT")
m embed c.maif; expect "embed" 0
m verify c.maif; expect "bound embeddings verify" 0
m verify c.maif --recompute --json; expect "--recompute: every vector matches" 0
jcheck "three recomputed, no finding" "$OUT" 'd["recomputed"]==3 and not [f for f in d["findings"] if f["code"]=="recompute"]'
m ls c.maif --json
jcheck "bound: csb and model_hash" "$OUT" 'all(len(b["meta"]["csb"])==64 and len(b["meta"]["model_hash"])==64 for b in d if b["type"]=="embedding")'
cp c.maif clean.maif

# an unbound vector that does not match its source: only --recompute sees it
"$PY" -c 'import json; print(json.dumps({"type":"embedding","vector":[0.0625]*256,"meta":{"model":"hashed","source_block":"'"$B"'"}}))' >poison.jsonl
m append c.maif poison.jsonl; expect "append a poisoned vector" 0
m verify c.maif; expect "unbound: verify passes" 0
m verify c.maif --recompute; expect "--recompute finds it" 1
out_has 'recompute, block 6 .*does not match its source block 2 .*poisoned' && pass || fail "the recompute line"

# a forged binding: the commitment of block 1 copied onto another vector
cp clean.maif forged.maif
"$PY" - "$A" <<'PY' >forged.jsonl
import json, subprocess, sys, os
ls = json.loads(subprocess.run([os.environ["MAIF_BIN"], "ls", "forged.maif", "--json"], capture_output=True).stdout)
m = dict(ls[1]["meta"])
print(json.dumps({"type": "embedding", "vector": [0.0625] * 256, "meta": m}))
PY
m append forged.maif forged.jsonl; expect "append the forgery (properly signed)" 0
m verify forged.maif; expect "verify: the binding does not match" 1
out_has 'binding does not match' && pass || fail "the csb line"
m verify forged.maif --json; jcheck "json: code csb" "$OUT" 'any(f["code"]=="csb" for f in d["findings"]) and not d["ok"]'

# a model this machine does not have: a warning, not a failure
"$PY" -c 'import json; print(json.dumps({"type":"embedding","vector":[0.5,0.5],"meta":{"model":"glove:/nonexistent/vectors.txt","source_block":"'"$A"'"}}))' >other.jsonl
cp clean.maif other.maif
m append other.maif other.jsonl; expect "append a vector of another model" 0
m verify other.maif --recompute; expect "unavailable model: still OK" 0
out_has 'warning: .*not recomputed: model glove' && pass || fail "the warning"

harness_finish
