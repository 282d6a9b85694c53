#!/bin/bash
# bench/bench_serve_text.sh BUILD_DIR WORKDIR — text searches through the
# real server (`maif serve` on loopback) on two copies of one artifact of
# 10 000 WordNet noun glosses (generated texts when WordNet is missing):
# one with the full-text index (`maif index`), one without (the scan), in
# the same run, alternating batches of 20 queries so that the machine's
# load falls on both alike. One client, sequential requests (Python's
# urllib: its own overhead bounds the indexed figure), 300 queries of two
# gloss words each, k 10; every result list is compared. Prints the load
# average before and after. Bounded: 600 requests, then the server is
# stopped.
set -u
B=${1:?usage: bench_serve_text.sh BUILD_DIR WORKDIR}
W=${2:?usage: bench_serve_text.sh BUILD_DIR WORKDIR}
MAIF=$B/maif
PRINT=$B/bench/bench_addfile # the common printer (bu_report)
D=$W/serve_text
export MAIF_HOME=$D/home
[ -x "$MAIF" ] && [ -x "$PRINT" ] || { echo "bench_serve_text: $MAIF or $PRINT missing" >&2; exit 1; }
rm -rf "$D" && mkdir -p "$D/art" "$MAIF_HOME" || exit 1
SERVER=""
cleanup() { [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; rm -rf "$D"; }
trap cleanup EXIT

"$MAIF" keygen "$D/k.key" > /dev/null || exit 1
if [ -r /usr/share/wordnet/data.noun ]; then
    grep -v '^  ' /usr/share/wordnet/data.noun | cut -d'|' -f2- | sed 's/^ //' | head -n 10000 > "$D/glosses"
else
    for i in $(seq 10000); do echo "generated gloss number $i about memory agents and recall"; done > "$D/glosses"
fi
/usr/bin/python3 -c 'import json, sys
for l in open(sys.argv[1]): print(json.dumps({"type": "text", "text": l.rstrip("\n")}))' "$D/glosses" > "$D/g.jsonl"
"$MAIF" create "$D/art/plain.maif" --key "$D/k.key" > /dev/null &&
    "$MAIF" append "$D/art/plain.maif" "$D/g.jsonl" --key "$D/k.key" > /dev/null &&
    cp "$D/art/plain.maif" "$D/art/indexed.maif" &&
    "$MAIF" index "$D/art/indexed.maif" --text-only --key "$D/k.key" > /dev/null ||
    { echo "bench_serve_text: could not make the artifacts" >&2; exit 1; }
LOAD0=$(cat /proc/loadavg)
"$MAIF" serve --dir "$D/art" --listen 127.0.0.1:0 --no-auth --key "$D/k.key" --ready-file "$D/ready" \
    --log "$D/serve.log" > "$D/serve.out" 2> "$D/serve.err" &
SERVER=$!
for _ in $(seq 300); do [ -s "$D/ready" ] && break; kill -0 "$SERVER" 2>/dev/null || break; sleep 0.1; done
URL=$(head -n1 "$D/ready" 2>/dev/null)
case "$URL" in http://127.0.0.1:*) ;; *) echo "bench_serve_text: the server did not start" >&2; exit 1 ;; esac
OUT=$(timeout 600 /usr/bin/python3 - "$URL" "$D/glosses" <<'PY'
import json, random, sys, time, urllib.request
url, glosses = sys.argv[1], sys.argv[2]
words = [w for l in open(glosses) for w in l.split() if w.isalpha() and len(w) > 3][:20000]
random.seed(7)
qs = [random.choice(words) + "+" + random.choice(words) for _ in range(300)]
def run(art, batch):
    t0, out = time.monotonic(), []
    for q in batch:
        with urllib.request.urlopen(f"{url}/v1/artifacts/{art}/search?q={q}&k=10&mode=text") as r:
            out.append([x["index"] for x in json.load(r)["results"]])
    return time.monotonic() - t0, out
for art in ("indexed", "plain"):
    run(art, qs[:3])  # the server opens each artifact on first use
ti = tp = 0.0
same = 0
for i in range(0, len(qs), 20):
    a, ra = run("indexed", qs[i:i + 20])
    b, rb = run("plain", qs[i:i + 20])
    ti, tp = ti + a, tp + b
    same += sum(x == y for x, y in zip(ra, rb))
print(f"{len(qs) / ti:.1f} {len(qs) / tp:.1f} {same} {len(qs)}")
PY
) || { echo "bench_serve_text: the client failed" >&2; exit 1; }
read -r QI QP SAME NQ <<<"$OUT"
"$PRINT" "serve: text searches, TIDX (10k texts)" "$QI" "same, scan of every text" "$QP" "-" "req/s"
echo "  note: $SAME of $NQ result lists identical; one sequential client; loadavg before $LOAD0, after $(cat /proc/loadavg)"
[ "$SAME" = "$NQ" ]
