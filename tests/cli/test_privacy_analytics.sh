#!/usr/bin/env bash
# CLI tests for `maif add --anonymize`, `maif pii` and `maif query`: what
# reaches the file (no raw value after anonymising), the metadata record,
# stable pseudonyms, masked reports over encrypted blocks, the privacy
# budget (set once, charged in a ledger block before the answer, exit 3 past
# it) and one clear line with exit 2 for every bad DP parameter. Run from
# the repository root:
#   MAIF_BIN=build/asan/maif bash tests/cli/test_privacy_analytics.sh
# Ends with exactly one line "N passed, M failed".
HARNESS_NAME=privacy-analytics
. "$(dirname "$0")/harness.bash"

TXT="Hi, my name is Jane Roe. Mail jane.roe@example.com or call +1 415 555 0100; card 4111 1111 1111 1111."
m create a.maif
expect "create" 0

# ---- add --anonymize
m add a.maif --type text --anonymize redact --text "$TXT" --meta '{"src":"chat"}'
expect "add --anonymize redact" 0
m cat a.maif 0
ok "redacted payload" grep -q 'my name is \[NAME\]. Mail \[EMAIL\] or call \[PHONE\]; card \[CARD\].' "$OUT"
ok "no raw value stored" bash -c "! grep -aq 'jane.roe@example.com\|4111 1111\|Jane Roe' a.maif"
m ls a.maif --json
jcheck "metadata records what was done" "$OUT" \
  'any(b.get("meta",{}).get("pii",{}).get("found")=={"name":1,"email":1,"phone":1,"card":1} and b["meta"]["src"]=="chat" and b["meta"]["pii"]["mode"]=="redact" for b in (d["blocks"] if isinstance(d,dict) else d))'
m add a.maif --type text --anonymize mask --text "$TXT"
expect "add --anonymize mask" 0
m cat a.maif 1
ok "masked keeps the last four" grep -q '\*\*\*\* \*\*\*\* \*\*\*\* 1111' "$OUT"
printf 'x@example.com and X@Example.com\n' > in.txt
m add a.maif --type text --anonymize pseudonymize --file in.txt
expect "add --anonymize pseudonymize --file" 0
m cat a.maif 2
tok=$(grep -o '<EMAIL_[0-9a-f]*>' "$OUT" | sort -u | wc -l)
ok "same value, same token" [ "$tok" = 1 ]
m add a.maif --type text --anonymize pseudonymize --text "x@example.com"
m cat a.maif 3
ok "stable within the artifact" grep -q "$(grep -o '<EMAIL_[0-9a-f]*>' <("$MAIF_BIN" cat a.maif 2) | head -1)" "$OUT"
printf 'a-secret-of-at-least-16-bytes\n' > pk.bin
m add a.maif --type text --anonymize pseudonymize --pseudonym-key pk.bin --text "x@example.com"
expect "--pseudonym-key" 0
m cat a.maif 4
ok "another key, another token" bash -c "! grep -q \"\$(\"$MAIF_BIN\" cat a.maif 3)\" $OUT"
printf 'ticket = TKT-\\d{5}\n' > pat.conf
m add a.maif --type text --anonymize redact --pii-patterns pat.conf --text "see TKT-12345 now"
m cat a.maif 5
ok "custom pattern redacted" grep -q 'see \[TICKET\] now' "$OUT"
printf 'bad = (unclosed\n' > bad.conf
m add a.maif --type text --anonymize redact --pii-patterns bad.conf --text "x"
expect_err "bad pattern config" 2 "line 1"
m add a.maif --type text --anonymize shred --text "x"
expect_err "unknown mode" 2 "unknown anonymisation mode"
m add a.maif --type json --anonymize redact --text '{"a":1}'
expect_err "not text" 2 "text blocks"
m add a.maif --type text --pseudonym-key pk.bin --text "x"
expect_err "--pseudonym-key alone" 2 "need --anonymize"

# ---- pii report
m add a.maif --type text --text "$TXT"
m add a.maif --type text --encrypt --text "SSN 123-45-6789"
expect "encrypted raw block" 0
m pii a.maif
expect "pii" 0
ok "report lists findings masked" grep -q '^6 card 81+19 \*\*\*\* \*\*\*\* \*\*\*\* 1111$' "$OUT"
ok "no clear values" bash -c "! grep -q 'jane.roe@example.com' $OUT"
ok "encrypted block skipped" grep -q 'skipped: encrypted, no usable key' "$OUT"
m pii a.maif --json --identity "$MAIF_HOME/default.key"
expect "pii --json --identity" 0
jcheck "decrypted and found the SSN" "$OUT" 'any(f["type"]=="ssn" and f["masked"]=="***-**-6789" for f in d["findings"]) and d["skipped"]==[] and d["counts"]["email"]==1'
m pii a.maif --pii-patterns bad.conf
expect_err "pii bad config" 2 "line 1"
m pii missing.maif
expect "pii missing file" 2

# ---- query
m create q.maif
for i in $(seq 1 30); do "$MAIF_BIN" add q.maif --type text --text row --meta "{\"age\":$((20 + i)),\"dept\":\"$([ $((i % 2)) = 0 ] && echo ops || echo dev)\"}" >/dev/null; done
m query q.maif --dp-epsilon 0.5 --count
expect_err "no budget" 2 "no privacy budget"
m query q.maif --dp-epsilon 0.5 --count --dp-budget 1 --json
expect "count with budget" 0
jcheck "count json" "$OUT" 'd["mechanism"]=="discrete-laplace" and d["epsilon"]==0.5 and d["spent_epsilon"]==0.5 and d["budget_epsilon"]==1 and d["value"]==int(d["value"])'
m ls q.maif
ok "ledger block appended" grep -q 'DPLG' "$OUT"
m query q.maif --dp-epsilon 0.2 --mean age --lower 0 --upper 100
expect "mean" 0
ok "mean printed" grep -q '^mean: ' "$OUT"
m query q.maif --dp-epsilon 0.2 --histogram dept --categories ops,dev
expect "histogram" 0
ok "histogram lines" grep -q '^(other): ' "$OUT"
n_before=$("$MAIF_BIN" ls q.maif | grep -c DPLG)
m query q.maif --dp-epsilon 0.2 --count
expect_err "over budget" 3 "budget exceeded"
ok "nothing recorded when refused" [ "$("$MAIF_BIN" ls q.maif | grep -c DPLG)" = "$n_before" ]
m query q.maif --dp-epsilon 0.1 --count --dp-budget 5
expect_err "budget cannot change" 2 "already set"
m query q.maif --dp-epsilon 0.01 --dp-delta 1e-6 --sum age --lower 0 --upper 100
expect_err "delta not in budget" 3 "needs delta"
for bad in -1 nan NaN 0 0.0 inf 1e30 abc "" 1e-12; do
  m query q.maif --dp-epsilon "$bad" --count
  expect_err "epsilon '$bad'" 2 "dp-epsilon"
done
for bad in -1e-6 nan 0 0.5; do
  m query q.maif --dp-epsilon 0.01 --dp-delta "$bad" --count
  expect_err "delta '$bad'" 2 "dp-delta"
done
m query q.maif --dp-epsilon 0.01 --sum age --lower 10 --upper 5
expect_err "bounds" 2 "lower < upper"
m query q.maif --dp-epsilon 0.01 --sum age --lower 0 --upper inf
expect_err "infinite bound" 2 "finite"
m query q.maif --dp-epsilon 0.01 --sum age
expect_err "sum needs bounds" 2 "--lower"
m query q.maif --dp-epsilon 0.01
expect_err "no aggregate" 2 "exactly one"
m query q.maif --dp-epsilon 0.01 --histogram dept
expect_err "histogram needs categories" 2 "categories"
m query missing.maif --dp-epsilon 0.1 --count
expect "query missing file" 2
m verify q.maif
expect "ledger verifies" 0

# concurrent queries queue on the writer lock: the budget is never overspent
m create c.maif
m query c.maif --dp-epsilon 0.3 --count --dp-budget 1
expect "first query sets the budget" 0
for i in 1 2 3 4; do ("$MAIF_BIN" query c.maif --dp-epsilon 0.3 --count >/dev/null 2>&1; echo $? > "rc.$i") & done
wait
ok "exactly two of four concurrent queries answered" [ "$(cat rc.1 rc.2 rc.3 rc.4 | sort | tr -d '\n')" = "0033" ]
ok "three spends recorded" [ "$("$MAIF_BIN" ls c.maif | grep -c DPLG)" = 4 ]

# a malformed ledger entry makes the ledger unreadable: queries are refused
m create j.maif
m add j.maif --type DPLG --text 'not json'
m query j.maif --dp-epsilon 0.1 --count --dp-budget 1
expect_err "malformed ledger refused" 1 "ledger block 0: malformed"

harness_finish
