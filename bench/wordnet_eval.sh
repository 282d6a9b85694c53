#!/bin/bash
# bench/wordnet_eval.sh MAIF_BIN DIR — retrieval quality on a labelled set
# built from WordNet (Debian wordnet-base): 1000 noun senses, chosen
# deterministically (every k-th synset whose first lemma is one plain
# word, distinct lemmas). Each sense is one text block holding its lemmas
# ("dog domestic dog Canis familiaris"); its gloss (the definition, without
# the examples) is the query; the answer is that block. Prints recall@10
# for vector search with the built-in hashed embedder, BM25 text search,
# and hybrid, through the `maif` command (release build). The reference
# figures for USE-lite (~0.34) and GloVe averaging (~0.14) are quoted from
# the issue, not measured here.
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
"$M" create "$A" >/dev/null && "$M" append "$A" "$D/wn.jsonl" >/dev/null && "$M" embed "$A" >/dev/null &&
    "$M" index "$A" >/dev/null || { echo "wordnet_eval: could not build the artifact" >&2; exit 1; }
for mode in vector text hybrid; do
    hit=0; n=0
    while IFS= read -r q; do
        if "$M" search "$A" -k 10 --mode "$mode" --json -- "$q" 2>/dev/null |
            /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); sys.exit(0 if $n in [r['block'] for r in d['results']] else 1)"; then
            hit=$((hit + 1))
        fi
        n=$((n + 1))
    done < "$D/wn.queries"
    r=$(awk -v h=$hit -v n=$n 'BEGIN {printf "%.3f", h / n}')
    label="WordNet recall@10, $mode (hashed)"
    [ "$mode" = text ] && label="WordNet recall@10, text (BM25)"
    printf '%-40s %8s      quoted, not measured: USE-lite ~0.34, GloVe ~0.14 (%d queries)\n' "$label" "$r" "$n"
    [ -n "${BENCH_RESULTS:-}" ] && printf 'F\t%s\t%s\t\tUSE-lite (quoted)\t0.34\t-\t(quoted ref.)\n' "$label" "$r" >> "$BENCH_RESULTS"
done
rm -rf "$A" "$D/wn.jsonl" "$D/wn.queries" "$D/wn-home"
