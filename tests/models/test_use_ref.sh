#!/usr/bin/env bash
# test_use_ref.sh — maif's USE-lite against the model's own JavaScript
# runtime (@energetic-ai/embeddings on TF.js's CPU backend, under Node):
# N sentences (tests/ref-use/sentences.py: WordNet glosses plus hard cases),
# embedded in batches of 16 and one text a call: cosine >= 0.999 for every
# one, both ways. Skips, saying why, when the model cache,
# node/npm, WordNet or the npm registry is missing.
# Env: MAIF_CACHE (model cache), MAIF_REF_SENTENCES (default 1100),
#      BA (sanitizer build dir, default build/asan).
set -u
ROOT=$(pwd)
BA=${BA:-build/asan}
CACHE=${MAIF_CACHE:-build/cache}/models
MODEL="$CACHE/use/package/dist"
N=${MAIF_REF_SENTENCES:-1100}
WORK=${MAIF_REF_DIR:-build/cache/ref-use}
export OPENBLAS_NUM_THREADS=1
passed=0; failed=0

skip() { echo "skipped: $1"; echo "0 passed, 0 failed"; exit 0; }
ok() { passed=$((passed + 1)); echo "ok: $1"; }
bad() { failed=$((failed + 1)); echo "FAIL: $1"; }

[ -f "$MODEL/model.json" ] || skip "USE-lite model not in $CACHE (make models fetches it)"
command -v node >/dev/null && command -v npm >/dev/null || skip "node and npm are needed for the JavaScript reference"
[ -x "$BA/tests/embed_lines" ] || skip "$BA/tests/embed_lines not built"

mkdir -p "$WORK" || skip "cannot create $WORK"
if ! cmp -s tests/ref-use/package-lock.json "$WORK/package-lock.json" || [ ! -d "$WORK/node_modules/@energetic-ai/embeddings" ]; then
  cp tests/ref-use/package.json tests/ref-use/package-lock.json "$WORK/" || skip "cannot copy the reference package"
  (cd "$WORK" && timeout 300 npm ci --no-audit --no-fund >npm-ci.log 2>&1) ||
    { rm -f "$WORK/package-lock.json"; skip "npm ci of the reference failed (no network?): $(tail -n1 "$WORK/npm-ci.log")"; }
fi
cp tests/ref-use/embed.js "$WORK/embed.js"

/usr/bin/python3 tests/ref-use/sentences.py "$N" >"$WORK/sentences.txt" || skip "no WordNet (package wordnet-base)"
n=$(wc -l <"$WORK/sentences.txt")

case $MODEL in /*) model_abs=$MODEL ;; *) model_abs=$ROOT/$MODEL ;; esac  # MAIF_CACHE may be absolute
(cd "$WORK" && node embed.js "$model_abs" <sentences.txt >ref.jsonl 2>node.err) ||
  skip "the JavaScript reference did not run: $(tail -n1 "$WORK/node.err")"

if "$BA/tests/embed_lines" use "$MODEL" 16 <"$WORK/sentences.txt" >"$WORK/c.jsonl" 2>"$WORK/c.err"; then
  ok "C embeds $n sentences (batches of 16)"
else
  bad "embed_lines failed: $(tail -n3 "$WORK/c.err")"
fi
# one text a call takes other kernels (the packed small-batch products)
"$BA/tests/embed_lines" use "$MODEL" 1 <"$WORK/sentences.txt" >"$WORK/c1.jsonl" 2>"$WORK/c1.err" ||
  bad "embed_lines (one at a time) failed: $(tail -n3 "$WORK/c1.err")"

out=$(/usr/bin/python3 - "$WORK" "$n" <<'PY'
import json, math, sys
work, n = sys.argv[1], int(sys.argv[2])
def load(p):
    try:
        return [json.loads(l) for l in open(p)]
    except (OSError, ValueError) as e:
        return []
ref, c, c1 = load(work + "/ref.jsonl"), load(work + "/c.jsonl"), load(work + "/c1.jsonl")
sents = open(work + "/sentences.txt", encoding="utf-8").read().split("\n")
def cos(a, b):
    d = sum(x * y for x, y in zip(a, b))
    return d / math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))
res = []
if len(ref) != n or len(c) != n or len(c1) != n:
    print("FAIL: %d sentences, %d reference vectors, %d C vectors (%d one at a time)" % (n, len(ref), len(c), len(c1)))
else:
    for what, vecs in (("batches of 16", c), ("one text a call", c1)):
        cs = sorted((cos(a, b), i) for i, (a, b) in enumerate(zip(ref, vecs)))
        worst = [i for v, i in cs if v < 0.999]
        print("cosine C (%s) vs JS over %d sentences: min %.12f, mean %.12f" % (what, n, cs[0][0], sum(v for v, _ in cs) / n))
        if worst:
            for i in worst[:5]:
                print("FAIL: %s, sentence %d (cosine %.6f): %s" % (what, i + 1, dict((j, v) for v, j in cs)[i], sents[i][:80]))
        else:
            print("ok: %s: every sentence has cosine >= 0.999" % what)
    same = all(cos(a, b) > 0.999999 for a, b in zip(c1, c))
    print(("ok" if same else "FAIL") + ": one at a time gives the batch's vectors")
PY
)
echo "$out"
passed=$((passed + $(echo "$out" | grep -c '^ok:')))
failed=$((failed + $(echo "$out" | grep -c '^FAIL:')))
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
