#!/usr/bin/env bash
# CLI tests for `maif graph` and knowledge blocks: the KNOW payload rules
# of `maif add`, the plain, DOT (checked by Graphviz's `dot -Tsvg`) and
# JSON outputs, --around, the queries and their exit codes, near-duplicate
# images, and encrypted knowledge (superseded versions: test_graph.c).
# Run from the repository root:
#   MAIF_BIN=build/asan/maif bash tests/cli/test_graph.sh
# Ends with exactly one line "N passed, M failed".
HARNESS_NAME=graph
. "$(dirname "$0")/harness.bash"
ICONS=/usr/share/icons/Adwaita/512x512/devices

command -v dot >/dev/null || { echo "dot is missing: scripts/install-deps.sh installs graphviz"; fail "graphviz present"; }
m create g.maif; expect "create" 0
m add g.maif --type text --text "Alice met Bob in Paris."; expect "add text" 0
A=$(cut -d' ' -f2 "$OUT")
m add g.maif --type knowledge --text "{\"triples\":[[\"Alice\",\"knows\",\"Bob\"],[\"Bob\",\"lives_in\",\"Paris\"],[\"$A\",\"mentions\",\"Alice\"],[\"Paris\",\"population\",2100000]]}"
expect "add knowledge" 0
m add g.maif --type text --text "follow-up" --meta "{\"relationships\":[{\"type\":\"follows\",\"target\":\"$A\"}]}"; expect "add with relationships" 0
printf '[["Carol","knows","Alice"],["Carol","quote","He said \\"hi\\"\\n"]]' >k.json
m add g.maif --type knowledge --file k.json; expect "add knowledge from a file" 0

m add g.maif --type knowledge --text '{"oops":1}'; expect_err "not triples" 2 "not a knowledge payload"
m add g.maif --type knowledge --text '[["a","b"]]'; expect_err "a triple of two" 2 "triple 0"
m add g.maif --type knowledge --text '[["a","b",'; expect_err "not JSON" 2 "not valid JSON"

m graph g.maif; expect "plain" 0
if out_has '"Alice" --knows--> "Bob"' && out_has '#2\(text [0-9a-f]{8}\) --follows--> #0\(text' && out_has '"Paris" --population--> 2100000'; then pass; else fail "plain lines"; fi
m graph g.maif --dot; expect "dot" 0
if dot -Tsvg "$OUT" >g.svg 2>dot.err && grep -q '<svg' g.svg; then pass; else fail "dot -Tsvg accepts it: $(head -3 dot.err)"; fi
m graph g.maif --json; expect "json" 0
jcheck "json: nodes and edges" "$OUT" 'len(d["edges"])==7 and any(n["name"]=="Alice" and n["kind"]=="entity" for n in d["nodes"]) and any(n.get("block")==0 and n["type"]=="text" for n in d["nodes"])'
m graph g.maif --json --around Carol --depth 1; expect "--around" 0
jcheck "around Carol: Carol, Alice, the quote" "$OUT" 'sorted(n["name"] for n in d["nodes"])==sorted(["Carol","Alice","He said \"hi\"\n"]) and len(d["edges"])==2'
m graph g.maif --around 0 --dot; expect "--around a block number" 0
if dot -Tsvg "$OUT" >/dev/null 2>&1; then pass; else fail "dot accepts --around"; fi
m graph g.maif --neighbors Alice; expect "--neighbors" 0
[ "$(wc -l <"$OUT")" = 3 ] && pass || fail "Alice has 3 edges"
m graph g.maif --from 2 --to Paris; expect "--from/--to" 0
[ "$(wc -l <"$OUT")" = 4 ] && pass || fail "follow-up -> note -> Alice -> Bob -> Paris is 4 edges"
m graph g.maif --from 2 --to Paris --depth 2; expect_err "no path within 2" 1 "no path"
m graph g.maif --predicate knows; expect "pattern" 0
[ "$(wc -l <"$OUT")" = 2 ] && pass || fail "two 'knows' triples"
m graph g.maif --subject Nobody; expect "no match: exit 1" 1
m graph g.maif --neighbors Zed; expect_err "unknown node" 2 "no node 'Zed'"
m graph g.maif --dot --json; expect_err "both formats" 2 "not both"
m graph g.maif --from A; expect_err "--from alone" 2 "go together"
m graph g.maif --depth 3; expect_err "--depth alone" 2 "--depth goes with"
m graph g.maif --around Bob --depth 65; expect_err "depth too large" 2 "--depth"
m graph missing.maif; expect "missing file" 2

# near-duplicate images
ICON=$ICONS/camera-web.png
m add g.maif --type image --file "$ICON" --analyze; expect "add icon" 0
m add g.maif --type image --file "$ICONS/printer.png" --analyze; expect "add another icon" 0
m add g.maif --type image --file "$ICON" --analyze --meta '{"copy":true}'; expect "add the icon again" 0
m graph g.maif --predicate near_duplicate_of --near-duplicates; expect "--near-duplicates" 0
[ "$(wc -l <"$OUT")" = 1 ] && pass || fail "one near-duplicate pair"
m verify g.maif; expect "verify" 0

# similar_to links from embeddings
m create s.maif; expect "create s" 0
m add s.maif --type text --text "The deploy failed because the TLS certificate expired"; expect "add s1" 0
m add s.maif --type text --text "The deploy failed because the certificate had expired"; expect "add s2" 0
m add s.maif --type text --text "Lunch was pasta with tomatoes"; expect "add s3" 0
m embed s.maif; expect "embed" 0
m graph s.maif --similar; expect "--similar" 0
[ "$(wc -l <"$OUT")" = 1 ] && out_has '#1\(text .*--similar_to--> #0\(text' && pass || fail "one similar_to link, 1 to 0"

# encrypted knowledge: skipped with a note, read with the key
m keygen me.key; expect "keygen" 0
m add g.maif --type knowledge --text '[["Dave","owes","Erin"]]' --encrypt --recipient me.key.pub; expect "add encrypted knowledge" 0
m graph g.maif --subject Dave; expect "without the key: no match" 1
err_has "skipped" && pass || fail "a note says what was skipped"
m graph g.maif --subject Dave --identity me.key; expect "with the key" 0
out_has '"Dave" --owes--> "Erin"' && pass || fail "the sealed triple"

harness_finish
