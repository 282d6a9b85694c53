#!/usr/bin/env bash
# test_ui.sh — the web viewer (/ui/ of `maif serve`) in a real headless
# Chromium (Debian's /usr/bin/chromium, driven by playwright-core from npm:
# tests/ui/package-lock.json, installed with `npm ci` into build/ui-node or
# $MAIF_UI_NODE; skipped, and said so, only when npm cannot reach the registry).
#
# Builds an artifact of 10 000 blocks with the maif CLI (texts, images from
# the Adwaita icons, embeddings, JSON, knowledge, a binary block and hostile
# text), copies it and flips one payload byte of the copy, starts the real
# server on port 0 with a read-only token, then tests/ui/viewer.js enters the
# token, pages through all the blocks, opens blocks of each kind, searches,
# checks proofs and signatures in the browser, draws the timeline and the
# graph, and sees the tampered copy's damaged block flagged. Screenshots go
# to build/ui-shots/ (or $MAIF_UI_SHOTS).
# Run from the repository root:
#   MAIF_BIN=build/asan/maif bash tests/cli/test_ui.sh
# Ends with exactly one line "N passed, M failed".
HARNESS_NAME=ui
. "$(dirname "$0")/harness.bash"
UI_TESTS="$ROOT/tests/ui"
NODE_DIR=${MAIF_UI_NODE:-$ROOT/build/ui-node}
SHOTS=${MAIF_UI_SHOTS:-$ROOT/build/ui-shots}
case "$SHOTS" in /*) ;; *) SHOTS="$ROOT/$SHOTS" ;; esac
CHROMIUM=/usr/bin/chromium
ICONS=/usr/share/icons/Adwaita

finish_early() { harness_finish; exit $?; }
command -v node >/dev/null || { fail "node is installed (scripts/install-deps.sh)"; finish_early; }
[ -x "$CHROMIUM" ] || { fail "$CHROMIUM is installed (scripts/install-deps.sh)"; finish_early; }

# ---- playwright-core, from the committed lock file
want=$(sha256sum "$UI_TESTS/package-lock.json" | cut -d' ' -f1)
stamp="$NODE_DIR/node_modules/.maif-lock-sha256"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  mkdir -p "$NODE_DIR"
  cp "$UI_TESTS/package.json" "$UI_TESTS/package-lock.json" "$NODE_DIR/"
  if ! (cd "$NODE_DIR" && npm ci --no-audit --no-fund) >npm.log 2>&1; then
    if grep -qE 'ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|network' npm.log; then
      echo "skipped: npm ci cannot reach the registry: $(grep -m1 -E 'ENOTFOUND|EAI_AGAIN|ECONN|ETIMEDOUT|UNREACH|network' npm.log)"
      finish_early
    fi
    tail -n 20 npm.log
    fail "npm ci of tests/ui"
    finish_early
  fi
  echo "$want" >"$stamp"
fi

# ---- the artifacts
mkdir art
m create art/big.maif; expect "create" 0
"$PY" - "$ICONS" <<'EOF' || fail "write the JSONL batches"
import json, random, sys, base64
icons = sys.argv[1]
random.seed(14)
words = ["apples", "rivers", "engines", "music", "weather", "ledgers", "orbits", "gardens"]
imgs = [icons + "/512x512/devices/camera-web.png", icons + "/48x48/legacy/face-smile.png",
        icons + "/256x256/places/user-trash.png"]
# four batches of 2 500 lines: 10 000 blocks in four commits after create's
special = {}
lines = []
for i in range(10000):
    if i == 1234:
        o = {"type": "text", "text": "the zebra quartz lantern glows at dusk", "meta": {"i": i, "source": "gen"}}
    elif i == 2500:
        o = {"type": "text", "text": "<img src=x onerror=\"window.__pwned=1\"><script>window.__pwned=2</script>",
             "meta": {"i": i, "note": "<b>bold</b>"}}
    elif i == 3000:
        o = {"type": "json", "text": json.dumps({"name": "<script>window.__pwned=3</script>", "n": [1, 2, 3], "ok": True}),
             "meta": {"i": i}}
    elif i == 4000:
        o = {"type": "binary", "base64": base64.b64encode(bytes(range(0, 256, 3))).decode(), "meta": {"i": i}}
    elif i == 5000:
        o = {"type": "knowledge", "text": json.dumps({"triples": [["Alice", "knows", "Bob"], ["Bob", "lives_in", "Paris"],
              ["Alice", "wrote", "<img src=x onerror=\"window.__pwned=4\">"]]}), "meta": {"i": i}}
    elif i == 9000:
        o = {"type": "text", "text": "a reply to the first note", "meta": {"i": i, "relationships": [{"type": "replies_to", "target": "@ID0@"}]}}
    elif i == 7777:
        o = {"type": "text", "text": "tamper target: this payload loses a bit in the copy", "meta": {"i": i}}
    elif i % 997 == 5:
        o = {"type": "embedding", "vector": [round(random.gauss(0, 1), 4) for _ in range(64)], "meta": {"i": i}}
    elif i in (6000, 6001, 6002):
        o = {"type": "image", "file": imgs[i - 6000], "meta": {"i": i, "icon": imgs[i - 6000].split("/")[-1]}}
    else:
        o = {"type": "text", "text": "note %d about %s and %s" % (i, random.choice(words), random.choice(words)),
             "meta": {"i": i, "source": "gen"}}
    lines.append(json.dumps(o))
for b in range(4):
    with open("batch%d.jsonl" % b, "w") as f:
        f.write("\n".join(lines[b * 2500:(b + 1) * 2500]) + "\n")
EOF
for b in 0 1 2 3; do
  m append art/big.maif "batch$b.jsonl"; expect "append batch $b" 0
  # block 9000 (batch 3) relates to the first block: a block-to-block edge
  [ "$b" = 0 ] && sed -i "s/@ID0@/$(head -n1 "$OUT" | cut -d' ' -f2)/" batch3.jsonl
done
# a small artifact whose texts `maif embed` embedded (hashed model): hybrid search
m create art/notes.maif; expect "create notes" 0
"$PY" -c '
import json
for t in ["the zebra quartz lantern glows at dusk", "rivers run to the sea", "engines hum in the hangar",
          "music fills the hall", "weather turns cold in autumn", "ledgers balance at year end"]:
    print(json.dumps({"type": "text", "text": t, "meta": {"kind": "note"}}))' >notes.jsonl
m append art/notes.maif notes.jsonl; expect "append notes" 0
m embed art/notes.maif; expect "embed notes" 0
m ls art/notes.maif --json; expect "ls notes" 0
cp "$OUT" ls-notes.json
m ls art/big.maif --json; expect "ls" 0
cp "$OUT" ls.json
jcheck "10 000 blocks" ls.json 'len(d)==10000'

# the tampered copy: one byte of block 7777's payload flipped
cp art/big.maif art/tampered.maif
"$PY" - <<'EOF' || fail "flip a payload byte"
data = bytearray(open("art/tampered.maif", "rb").read())
needle = b"tamper target: this payload loses a bit"
at = data.find(needle)
assert at >= 0 and data.find(needle, at + 1) < 0
data[at + 7] ^= 0x01
open("art/tampered.maif", "wb").write(bytes(data))
EOF
m verify art/tampered.maif --json; expect "the CLI sees the tampered copy fail" 1
cp "$OUT" tampered-verify.json
m verify art/big.maif; expect "the original verifies" 0

# the expectations of the browser session
TOKEN=$("$PY" -c 'import secrets; print("ui-" + secrets.token_hex(16))')
"$PY" - "$TOKEN" <<'EOF' || fail "write the expectations"
import json, struct, sys, hashlib
ls = json.load(open("ls.json"))
by = {b["meta"]["i"]: b for b in ls if isinstance(b.get("meta"), dict) and "i" in b["meta"]}
base = ls[0]["index"]
def png_size(p):
    h = open(p, "rb").read(24)
    return struct.unpack(">II", h[16:24])
img = by[6000]
lines = [json.loads(l) for b in range(4) for l in open("batch%d.jsonl" % b)]
w, h = png_size(lines[6000]["file"])
ver = json.load(open("tampered-verify.json"))
dmg = sorted({f["block"] for f in ver["findings"] if f["severity"] == "error" and f["block"] is not None})
x = {
    "big": "big", "tampered": "tampered", "total": len(ls), "base": base,
    "text_index": by[17]["index"], "text_value": lines[17]["text"],
    "image_index": img["index"], "image_width": w, "image_height": h,
    "embedding_index": by[5]["index"], "embedding_dims": 64,
    "json_index": by[3000]["index"], "json_value": lines[3000]["text"],
    "binary_index": by[4000]["index"], "binary_hex16": " ".join("%02x" % b for b in bytes(range(0, 256, 3))[:16]),
    "hostile_index": by[2500]["index"], "hostile_text": lines[2500]["text"],
    "search_query": "zebra quartz lantern", "search_word": "zebra", "search_index": by[1234]["index"],
    "search_text": lines[1234]["text"],
    "commits": 5, "graph_min_nodes": 6, "graph_min_edges": 4,
    "graph_from": by[9000]["index"], "graph_to": base,
    "damaged_index": by[7777]["index"], "damaged_cli": dmg,
}
notes = json.load(open("ls-notes.json"))
x["notes"] = "notes"
x["notes_query"] = "a lantern made of quartz"
x["notes_hit"] = [b["index"] for b in notes if b["type"] == "text"][0]  # notes.jsonl's first line: the zebra
emb = [b for b in notes if b["type"] == "embedding"]
x["notes_embedding"] = emb[0]["index"]
x["notes_embedding_dims"] = emb[0]["meta"]["dimensions"]
json.dump(x, open("expect.json", "w"), indent=1)
tok = {"tokens": [{"name": "viewer", "sha256": hashlib.sha256(sys.argv[1].encode()).hexdigest(),
                   "scopes": ["read"], "artifacts": ["*"]}]}
json.dump(tok, open("tokens.json", "w"))
EOF
jcheck "the CLI names exactly the flipped block" expect.json 'd["damaged_cli"]==[d["damaged_index"]]'

# ---- the real server, on a free port
"$MAIF_BIN" serve --dir art --listen 127.0.0.1:0 --tokens tokens.json --log serve.log --ready-file ready \
  >serve.out 2>serve.err &
SERVER=$!
trap 'kill -TERM $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; rm -rf "$T"' EXIT
for _ in $(seq 600); do [ -s ready ] && break; kill -0 $SERVER 2>/dev/null || break; sleep 0.1; done
URL=$(sed -n '1s/^listening on \(http:[^ ]*\).*/\1/p' serve.out)
if [ -z "$URL" ]; then
  fail "the server starts (stdout: $(head -c 200 serve.out); stderr: $(head -c 300 serve.err))"
  finish_early
fi
pass

# the embedded files (scripts/embed-ui.py): no token needed, the right types
code=$(curl -s -o page.html -w '%{http_code} %{content_type}' "$URL/ui/")
[ "$code" = "200 text/html; charset=utf-8" ] && cmp -s page.html "$ROOT/server/ui/index.html" && pass || fail "/ui/ is index.html ($code)"
code=$(curl -s -o app.js -w '%{http_code} %{content_type}' "$URL/ui/app.js")
[ "$code" = "200 text/javascript; charset=utf-8" ] && cmp -s app.js "$ROOT/server/ui/app.js" && pass || fail "/ui/app.js ($code)"
code=$(curl -s -o /dev/null -w '%{http_code} %{content_type}' "$URL/ui/style.css")
[ "$code" = "200 text/css; charset=utf-8" ] && pass || fail "/ui/style.css ($code)"
code=$(curl -s -o /dev/null -w '%{http_code}' "$URL/ui/missing.js")
[ "$code" = 404 ] && pass || fail "/ui/missing.js is 404 ($code)"
code=$(curl -s -o /dev/null -w '%{http_code}' "$URL/v1/artifacts")
[ "$code" = 401 ] && pass || fail "the API itself wants the token ($code)"

# the generator refuses what it cannot type, and a set without a page
printf 'x' >viewer.exe
if "$PY" "$ROOT/scripts/embed-ui.py" gen.c "$ROOT/server/ui/index.html" viewer.exe 2>gen.err; then fail "embed-ui refuses .exe"
else grep -q "no content type for '.exe'" gen.err && pass || fail "embed-ui's message: $(cat gen.err)"; fi
if "$PY" "$ROOT/scripts/embed-ui.py" gen.c "$ROOT/server/ui/app.js" 2>gen.err; then fail "embed-ui wants an index.html"
else grep -q "no index.html" gen.err && pass || fail "embed-ui's message: $(cat gen.err)"; fi

# ---- the browser session
rm -rf "$SHOTS" && mkdir -p "$SHOTS"
MAIF_UI_URL=$URL MAIF_UI_TOKEN=$TOKEN MAIF_UI_EXPECT=expect.json MAIF_UI_SHOTS=$SHOTS MAIF_UI_PROFILE="$T/profile" \
  MAIF_UI_CHROMIUM=$CHROMIUM NODE_PATH="$NODE_DIR/node_modules" timeout 600 node "$UI_TESTS/viewer.js" >ui.log 2>&1
urc=$?
grep -E '^(PASS|FAIL|INFO):' ui.log
while IFS= read -r line; do
  case "$line" in
    PASS:*) pass ;;
    FAIL:*) fail "browser: ${line#FAIL: }" ;;
  esac
done <ui.log
if [ "$urc" != 0 ] && ! grep -q '^FAIL:' ui.log; then tail -n 20 ui.log; fail "viewer.js exit $urc"; fi
n=$(grep -c '^PASS:' ui.log); want=$(grep -c '^ *await check(' "$UI_TESTS/viewer.js")
[ "$n" = "$want" ] && pass || fail "the browser passed every check ($n of $want)"
shots=$(find "$SHOTS" -name '*.png' -size +1k | wc -l)
[ "$shots" = 13 ] && pass || fail "13 screenshots in $SHOTS ($shots)"

# the server saw the session: requests logged with their routes, no 5xx
grep -q '"route":"blocks"' serve.log && grep -q '"route":"proof"' serve.log && pass || fail "requests logged"
! grep -qE '"status":5[0-9][0-9]' serve.log && pass || fail "no 5xx: $(grep -m1 -E '"status":5' serve.log)"

# a clean shutdown, nothing from the sanitizers
kill -TERM $SERVER; wait $SERVER; src=$?
trap 'rm -rf "$T"' EXIT
cp serve.err "$ERR"
rc=$src; expect "the server exits 0 on SIGTERM" 0
harness_finish
