#!/usr/bin/env bash
# CLI tests for `maif embed`, `maif index`, `maif search` and
# `maif add --embed`: output shapes, filters, the tail after an index,
# --json, --vector, hostile input and exact exit codes. Run from the
# repository root:
#   MAIF_BIN=build/asan/maif bash tests/cli/test_semantic.sh
# Ends with exactly one line "N passed, M failed".
HARNESS_NAME=semantic
. "$(dirname "$0")/harness.bash"

m create a.maif; expect "create" 0
i=0
while IFS='|' read -r topic text; do
  m add a.maif --type text --text "$text" --meta "{\"topic\":\"$topic\",\"n\":$i}"; expect "add $i" 0
  i=$((i + 1))
done <<'TXT'
work|The quarterly revenue report shows strong growth in cloud services
home|My cat likes to sleep on the warm windowsill in the afternoon
work|Deploying the database migration failed because of a lock timeout
home|Recipe: bake the bread at 220 degrees for thirty minutes
work|The user prefers dark mode and a compact layout in the editor
home|Paris is the capital of France and sits on the Seine
TXT

# text search needs no embeddings; vector search says what is missing
m search a.maif "bread recipe" --mode text -k 1; expect "text search" 0
ok "text: best is the recipe" out_has '^3 [0-9a-f]{32} [0-9.]+ Recipe: bake'
m search a.maif "bread" --mode vector; expect_err "vector without embeddings" 2 "no embeddings"

m embed a.maif; expect "embed" 0
ok "embed: count" out_has '^embedded 6 text blocks \(model hashed\)$'
m embed a.maif; expect "embed again" 0
ok "embed again: nothing missing" out_has '^embedded 0 text blocks'
m search a.maif "cat sleeping on the windowsill" --mode vector -k 3; expect "vector (exact, no index)" 0
ok "vector: best is the cat" grep -qE '^1 [0-9a-f]{32} 0\.[0-9]+ My cat' "$OUT"
ok "vector: k lines" [ "$(wc -l <"$OUT")" = 3 ]

m index a.maif --m 8 --ef-construction 64 --metric cosine; expect "index" 0
ok "index: summary" out_has '^indexed 6 vectors of 256 dimensions \(model hashed:[0-9a-f]{32}, metric cosine, M 8, ef-construction 64\) in block 13'
ok "index: text summary" out_has '^indexed 6 texts for full-text search \(BM25, Snowball English\) in block 14, [0-9]+ bytes$'
m verify a.maif; expect "verify after index" 0

# the tail: a text added (and embedded on the way in) after the index
m add a.maif --type text --text "The espresso machine needs descaling every month" --meta '{"topic":"home","n":6}' --embed
expect "add --embed" 0
m search a.maif "espresso descaling" --json; expect "hybrid json" 0
jcheck "json: tail found first" "$OUT" 'd["results"][0]["block"] == 15 and d["tail"] == 1 and d["indexed"] == 6 and d["mode"] == "hybrid"'
jcheck "json: fields" "$OUT" 'set(d["results"][0]) == {"block","id","type","score","embedding_block","timestamp","snippet"}'

# filters
m search a.maif "revenue growth" --where topic=home --mode vector --json; expect "where" 0
jcheck "where: only home" "$OUT" 'all(r["block"] in (1,3,5,15) for r in d["results"]) and len(d["results"]) == 4'
m search a.maif "anything" --where 'n>=4' --where 'n<=5' --json; expect "where range" 0
jcheck "where range: blocks 4 and 5" "$OUT" 'sorted(r["block"] for r in d["results"]) == [4,5]'
m search a.maif "dark mode" --type json; expect "type filter" 0
ok "type filter: no results" [ ! -s "$OUT" ]
m search a.maif "dark mode" --since 2000-01-01 --until 2000-01-02; expect "time filter" 0
ok "time filter: none in 2000" [ ! -s "$OUT" ]
m search a.maif "dark mode" --since 1h -k 2; expect "since 1h" 0
ok "since 1h: two" [ "$(wc -l <"$OUT")" = 2 ]
m search a.maif "dark mode editor" --exact --ef 10 --half-life 86400 --privacy public -k 1; expect "exact, decay, privacy" 0
ok "exact: dark mode" out_has '^4 '

# a raw vector query
"$PY" -c 'import struct,sys; sys.stdout.buffer.write(struct.pack("<256f", *([0.0625]*256)))' >q.f32
m search a.maif --vector q.f32 -k 2; expect "vector file" 0
ok "vector file: two" [ "$(wc -l <"$OUT")" = 2 ]
"$PY" -c 'import struct,sys; sys.stdout.buffer.write(struct.pack("<3f", 1, 2, 3))' >bad.f32
m search a.maif --vector bad.f32; expect_err "vector of the wrong size" 2 "dimensions"
printf 'abc' >odd.f32
m search a.maif --vector odd.f32; expect_err "vector not float32" 2 "float32"

# usage errors
m search a.maif; expect_err "no query" 2 "query"
m search a.maif "x" --mode fuzzy; expect_err "bad mode" 2 "mode"
m search a.maif "x" -k 0; expect_err "bad k" 2 "-k"
m search a.maif "x" --where '=1'; expect_err "bad where" 2 "where"
m search a.maif "x" --since yesterday; expect_err "bad since" 2 "since"
m index a.maif --metric hamming; expect_err "bad metric" 2 "metric"
m search a.maif "x" --vector-weight 0; expect_err "bad vector weight" 2 "vector-weight"
m search a.maif "espresso descaling" --mode hybrid --vector-weight 300 -k 1; expect "hybrid, vector weight" 0
ok "hybrid, vector weight: espresso" out_has '^15 '
m search a.maif "espresso descaling" --mode hybrid --fusion rrf -k 1; expect "hybrid, rrf" 0
ok "hybrid, rrf: espresso" out_has '^15 '
m search a.maif "espresso descaling" --fusion dbsf --vector-weight 50 -k 1 --json; expect "hybrid, dbsf, json" 0
jcheck "hybrid, dbsf: espresso" "$OUT" 'd["mode"] == "hybrid" and d["results"][0]["block"] == 15'
m search a.maif "x" --fusion borda; expect_err "bad fusion" 2 "fusion"

m index a.maif --quantize pq --pq-m 1000; expect_err "pq: more sub-spaces than dimensions" 2 "sub-spaces"
m index a.maif --pq-m 4; expect_err "pq-m without pq" 2 "quantize pq"
m index a.maif --quantize pq --pq-m 0; expect_err "pq-m 0" 2 "pq-m"
m index a.maif --quantize pq --threads 1; expect "index pq" 0
ok "index pq: summary" out_has '^indexed 7 vectors.*, pq)'
m search a.maif "espresso descaling" --mode vector -k 1; expect "search pq" 0
ok "search pq: espresso" out_has '^15 '
m index a.maif --quantize pq --pq-m 256 --threads 1; expect "index pq, a byte a dimension" 0
m search a.maif "cat windowsill" --mode vector -k 1 --json; expect "search pq json" 0
ok "search pq: cat" out_has '"block": 1,'
m index a.maif --m 1; expect_err "bad M" 2 "--m"
m index a.maif --quantize int8 --threads 1; expect "index int8" 0
ok "index int8: summary" out_has '^indexed 7 vectors'
m search a.maif "espresso descaling" --mode vector -k 1; expect "search int8" 0
ok "search int8: espresso" out_has '^15 '
m embed a.maif --model use:/nonexistent/use; expect_err "use: no model there" 2 "nonexistent"
m embed a.maif --model nope; expect_err "unknown model" 2 "unknown model"
m add a.maif --type json --text '{}' --embed; expect_err "embed needs text" 2 "text"
m add a.maif --type text --text "x" --embed --encrypt; expect_err "embed with encrypt" 2 "clear"
m search missing.maif "x"; expect "missing file" 2

# an index whose header is damaged: exit 1, one line
m create b.maif; expect "create b" 0
m add b.maif --type text --text "hello world" --embed; expect "add b" 0
m index b.maif; expect "index b" 0
m search b.maif "hello"; expect "search b" 0
ok "search b: found" out_has 'hello world'
"$PY" - <<'PY'
d = bytearray(open("b.maif", "rb").read())
i = d.index(b"MAIFVIX1")
d[i + 8] = 9  # version 9
open("b.maif", "wb").write(d)
PY
m search b.maif "hello"; expect_err "damaged index header" 1 "version 9"
m search b.maif "hello" --mode text; expect_err "damaged index: text mode too" 1 "vector index"
m verify b.maif; expect "verify finds the damage" 1

harness_finish
