#!/usr/bin/env bash
# CLI tests for the full-text index: `maif index` building it (with and
# without embeddings, --text-only, --no-text), text search giving the same
# output with the index as by the scan, texts added later still found, and
# a damaged index: search falls back to the scan and warns. Run from the
# repository root:
#   MAIF_BIN=build/asan/maif bash tests/cli/test_textidx.sh
# Ends with exactly one line "N passed, M failed".
HARNESS_NAME=textidx
. "$(dirname "$0")/harness.bash"

m create a.maif; expect "create" 0
i=0
while read -r text; do
  m add a.maif --type text --text "$text" --meta "{\"n\":$i}"; expect "add $i" 0
  i=$((i + 1))
done <<'TXT'
The cats were running across the connected gardens
A cat runs; the dog is lying in the sun
Connection failures happen when the runner is dying
Généralisations about cats and dogs are not généreuses
TXT
m index a.maif --no-text; expect_err "--no-text without embeddings" 2 "no embeddings"
m index a.maif --no-text --text-only; expect_err "both flags" 2 "exclude"
for q in "cat running" "lie die" "connected runners" "généralisations" "dog"; do
  m search a.maif "$q" --mode text -k 10; cp "$OUT" "scan.$q"
done
m index a.maif; expect "index, texts only" 0
ok "index: says no vector index" out_has '^no embeddings: no vector index'
ok "index: text summary" out_has '^indexed 4 texts for full-text search \(BM25, Snowball English\) in block 4, [0-9]+ bytes$'
m verify a.maif; expect "verify after the text index" 0
for q in "cat running" "lie die" "connected runners" "généralisations" "dog"; do
  m search a.maif "$q" --mode text -k 10; expect "search '$q'" 0
  ok "search '$q': same as the scan" cmp -s "$OUT" "scan.$q"
done
m search a.maif "lying" --mode text --json; expect "json" 0
jcheck "json: the index is used" "$OUT" 'd["text_index_block"] == 4 and d["text_indexed"] == 4 and d["text_error"] is None and d["results"][0]["block"] == 1'

# a text added after the index is scanned, and counts in the statistics
m add a.maif --type text --text "cats cats cats" --meta '{"n":9}'; expect "add after" 0
m search a.maif "cats" --mode text -k 1; expect "tail search" 0
ok "tail: found first" out_has '^5 '
m search a.maif "cats" --mode text --where 'n<=3' -k 10 --json; expect "tail, filtered" 0
jcheck "filtered: not the tail" "$OUT" 'all(r["block"] != 5 for r in d["results"]) and len(d["results"]) == 3'
m index a.maif --text-only; expect "index again, --text-only" 0
ok "--text-only: no vector line" sh -c "! grep -q vector '$OUT'"
ok "--text-only: five texts" out_has '^indexed 5 texts .* in block 6,'

# embeddings too: both indexes; --no-text builds only the vector index
m embed a.maif; expect "embed" 0
m index a.maif; expect "index both" 0
ok "both: vector line" out_has '^indexed 5 vectors'
ok "both: text line" out_has '^indexed 5 texts'
m index a.maif --no-text; expect "--no-text with embeddings" 0
ok "--no-text: no text line" sh -c "! grep -q texts '$OUT'"
m search a.maif "cats running" -k 3; expect "hybrid" 0
ok "hybrid: three" [ "$(wc -l <"$OUT")" = 3 ]

# a damaged text index: the scan answers, with a warning
m create b.maif; expect "create b" 0
m add b.maif --type text --text "hello world"; expect "add b" 0
m add b.maif --type text --text "goodbye world"; expect "add b2" 0
m search b.maif "hello" --mode text; cp "$OUT" scan.b
m index b.maif --text-only; expect "index b" 0
"$PY" - <<'PY'
d = bytearray(open("b.maif", "rb").read())
i = d.index(b"MAIFTIX1")
d[i + 8] = 9  # version 9
open("b.maif", "wb").write(d)
PY
m search b.maif "hello" --mode text; expect "damaged: still answers" 0
ok "damaged: same results as the scan" cmp -s "$OUT" scan.b
ok "damaged: warns" err_has 'warning: block 2: text index: version 9'
m search b.maif "hello" --mode text --json; expect "damaged json" 0
jcheck "damaged json: the error" "$OUT" '"version 9" in d["text_error"] and d["text_indexed"] == 0'

harness_finish
