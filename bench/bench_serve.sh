#!/bin/bash
# bench/bench_serve.sh BUILD_DIR WORKDIR — `maif serve` under load, run by
# bench/run.sh (`make bench`).
#
# Starts the real server (BUILD_DIR/maif serve, release build) on loopback
# (port 0), with a tokens file and a JSON log file as a deployment has, and
# drives it with wrk (Debian's; `scripts/install-deps.sh bench`) for
# BENCH_SERVE_SECONDS (10) a run, keep-alive, bench/bench_serve.lua:
#   - the baseline: GET /healthz, a fixed response the same server builds
#     without touching an artifact;
#   - durable one-shot appends: POST /v1/artifacts/ART/blocks?commit=1, a
#     ~100-byte JSON text block each, at 16, 64 and 256 connections
#     (BENCH_SERVE_APPEND_CONNECTIONS), each run into a fresh artifact, and
#     at 64 onto an artifact already holding BENCH_SERVE_BIG_BLOCKS
#     (100 000; 0: skipped) blocks; each 201 is sent once the group commit
#     that holds it is durable;
#   - block reads (GET .../blocks/I, I uniform) and searches (BM25 over text
#     blocks) of an artifact of BENCH_SERVE_BLOCKS (10 000) WordNet glosses;
# requests/s, p50 and p99 latency of each, beside the baseline. Then the
# server is stopped (SIGTERM), the artifact verified, and its blocks
# compared with the 201s wrk received (counted in the Lua response()
# callback, and each 201's {"index","id"} recorded): every acknowledged
# append is in the artifact at its index with its id (0 lost acknowledged
# commits), and the blocks number the 201s plus at most the requests in
# flight when wrk stopped (committed and answered, never read by wrk).
# The bound of the append figure is measured beside it: the disk's
# synchronous-write rate (dd oflag=dsync, 512 B) and the library's group
# commit in process (bench_commit) with as many threads as connections, and
# the CPU time per request of the server (/proc/PID/stat) and of wrk
# (/usr/bin/time): with both on this machine's CPUs, nproc / (their sum) is
# the most requests/s the CPUs allow.
#
# Exit status: 1 when a check fails (lost commit, verify), else 0.
set -u
B=${1:?usage: bench_serve.sh BUILD_DIR WORKDIR}
W=${2:?usage: bench_serve.sh BUILD_DIR WORKDIR}
MAIF=$B/maif
PRINT=$B/bench/bench_addfile # the common printer (bu_report): figure, baseline, ratio, target
LUA=$(cd "$(dirname "$0")" && pwd)/bench_serve.lua
SECS=${BENCH_SERVE_SECONDS:-10}
CONNS=${BENCH_SERVE_CONNECTIONS:-64}
APPEND_CONNS=${BENCH_SERVE_APPEND_CONNECTIONS:-16 64 256}
WRK_THREADS=${BENCH_SERVE_WRK_THREADS:-2}
NBLOCKS=${BENCH_SERVE_BLOCKS:-10000}
BIG=${BENCH_SERVE_BIG_BLOCKS:-100000}
D=$W/serve
export MAIF_HOME=$D/home

command -v wrk >/dev/null || { echo "bench_serve: wrk missing (scripts/install-deps.sh bench)" >&2; exit 1; }
[ -x "$MAIF" ] && [ -x "$PRINT" ] || { echo "bench_serve: $MAIF or $PRINT missing" >&2; exit 1; }
rm -rf "$D" && mkdir -p "$D/art" "$MAIF_HOME" || exit 1
SERVER=""
cleanup() { [ -n "$SERVER" ] && kill -9 "$SERVER" 2>/dev/null; rm -rf "$D"; }
trap cleanup EXIT

"$MAIF" keygen "$D/server.key" > /dev/null || exit 1
TOKEN=bench-serve-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
# The token's own bucket is far above what one machine can send: the
# benchmark measures the server, not its rate limit.
/usr/bin/python3 -c 'import hashlib, json, sys
print(json.dumps({"tokens": [{"name": "bench", "sha256": hashlib.sha256(sys.argv[1].encode()).hexdigest(),
  "scopes": ["read", "write", "admin"], "artifacts": ["*"], "rate": 1e9, "burst": 1e9}]}))' "$TOKEN" > "$D/tokens.json"

# The read/search artifact: WordNet noun glosses, one text block each (made
# with the CLI before the server starts; the server opens it on first use).
if [ -r /usr/share/wordnet/data.noun ]; then
    grep -v '^  ' /usr/share/wordnet/data.noun | cut -d'|' -f2- | sed 's/^ //' | head -n "$NBLOCKS" > "$D/glosses"
else
    for i in $(seq "$NBLOCKS"); do echo "generated gloss number $i about memory and agents"; done > "$D/glosses"
fi
NBLOCKS=$(wc -l < "$D/glosses")
/usr/bin/python3 -c 'import json, sys
for l in open(sys.argv[1]): print(json.dumps({"type": "text", "text": l.rstrip("\n")}))' "$D/glosses" > "$D/glosses.jsonl"
"$MAIF" create "$D/art/corpus.maif" --key "$D/server.key" > /dev/null &&
    "$MAIF" append "$D/art/corpus.maif" "$D/glosses.jsonl" --key "$D/server.key" > /dev/null ||
    { echo "bench_serve: could not make the corpus artifact" >&2; exit 1; }

# The artifact of the last append run: BIG blocks already in it.
BIG_COMMITS=0
if [ "$BIG" -gt 0 ]; then
    /usr/bin/python3 -c 'import json, sys
for i in range(int(sys.argv[1])): print(json.dumps({"type": "text", "text": "preloaded block %d" % i}))' "$BIG" > "$D/big.jsonl"
    "$MAIF" create "$D/art/append-big.maif" --key "$D/server.key" > /dev/null &&
        "$MAIF" append "$D/art/append-big.maif" "$D/big.jsonl" --key "$D/server.key" > /dev/null ||
        { echo "bench_serve: could not make the $BIG-block artifact" >&2; exit 1; }
    BIG_COMMITS=$("$MAIF" info "$D/art/append-big.maif" --json | /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["commits"])')
    rm -f "$D/big.jsonl"
fi

"$MAIF" serve --dir "$D/art" --listen 127.0.0.1:0 --tokens "$D/tokens.json" --key "$D/server.key" \
    --log "$D/serve.log" --ready-file "$D/ready" > "$D/serve.out" 2> "$D/serve.err" &
SERVER=$!
for _ in $(seq 300); do [ -s "$D/ready" ] && break; kill -0 "$SERVER" 2>/dev/null || break; sleep 0.1; done
URL=$(head -n1 "$D/ready" 2>/dev/null)
case "$URL" in http://127.0.0.1:*) ;; *) echo "bench_serve: the server did not start:" >&2; cat "$D/serve.err" >&2; exit 1 ;; esac
THREADS=$(sed -n 's/.*listening on [^ ]* (\([0-9]*\) threads.*/\1/p' "$D/serve.log" | head -n1)
AUTH="Authorization: Bearer $TOKEN"
# open the corpus once (the server's first read of it loads its reader)
curl -s -o /dev/null -H "$AUTH" "$URL/v1/artifacts/corpus/search?q=warm&k=1"

echo "server: ${THREADS:-?} request threads (2 x $(nproc) CPUs), tokens, JSON log to a file; wrk: $WRK_THREADS threads on the same machine"
echo "        $SECS s per run, keep-alive; corpus: $NBLOCKS text blocks"

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
TCK=$(getconf CLK_TCK)
# wrk_run LABEL CONNECTIONS PATH MODE [ARGS...]: runs wrk, leaves its WRK
# line's fields in R_* and the server's CPU seconds per wall second in R_CPU.
wrk_run() {
    local label=$1 c=$2 path=$3
    shift 3
    local t0 c0 t1 c1 line
    t0=$(date +%s%N); c0=$(cpu_ticks "$SERVER")
    line=$(/usr/bin/time -f '%U %S' -o "$D/wrk.time" \
           wrk -t "$WRK_THREADS" -c "$c" -d "${SECS}s" --timeout 10s --latency -s "$LUA" "$URL$path" -- "$@" |
           grep '^WRK ')
    t1=$(date +%s%N); c1=$(cpu_ticks "$SERVER")
    [ -n "$line" ] || { echo "bench_serve: wrk printed no result for $label" >&2; return 1; }
    for kv in ${line#WRK }; do eval "R_${kv%%=*}=${kv#*=}"; done
    R_CPU=$(awk -v a="$c0" -v b="$c1" -v t="$TCK" -v ns=$((t1 - t0)) 'BEGIN {printf "%.2f", (b - a) / t / (ns / 1e9)}')
    R_CPU_US=$(awk -v a="$c0" -v b="$c1" -v t="$TCK" -v n="$R_requests" 'BEGIN {printf "%.1f", n ? (b - a) / t * 1e6 / n : 0}')
    R_WRK_US=$(awk -v n="$R_requests" '{printf "%.1f", n ? ($1 + $2) * 1e6 / n : 0}' "$D/wrk.time")
    # what the two CPUs could do at most if the server and wrk had them to themselves
    R_CPU_BOUND=$(awk -v s="$R_CPU_US" -v w="$R_WRK_US" -v n="$(nproc)" 'BEGIN {printf "%.0f", (s + w > 0 ? n * 1e6 / (s + w) : 0)}')
    printf '  %-34s %9.0f req/s  p50 %7.2f ms  p99 %7.2f ms  (%s requests, %s non-2xx, %s socket errors)\n' \
        "$label" "$R_rps" "$(awk -v u="$R_p50_us" 'BEGIN {print u / 1000}')" "$(awk -v u="$R_p99_us" 'BEGIN {print u / 1000}')" \
        "$R_requests" "$R_sother" "$R_socket_errors"
    printf '  %-34s CPU: server %s us/request (%s cores busy), wrk %s us/request; %s CPUs bound %s req/s\n' \
        "" "$R_CPU_US" "$R_CPU" "$R_WRK_US" "$(nproc)" "$R_CPU_BOUND"
}
ms() { awk -v u="$1" 'BEGIN {printf "%.3f", u / 1000}'; }

failed=0
# ---- baseline
wrk_run "static GET /healthz, c$CONNS" "$CONNS" /healthz static - || exit 1
BASE_RPS=$R_rps BASE_P50=$(ms "$R_p50_us") BASE_P99=$(ms "$R_p99_us")
"$PRINT" "serve: static GET /healthz" "$BASE_RPS" "-" -1 "(baseline)" "req/s"
"$PRINT" "serve: static GET /healthz, p50" "$BASE_P50" "-" -1 "(baseline)" "ms"
"$PRINT" "serve: static GET /healthz, p99" "$BASE_P99" "-" -1 "(baseline)" "ms"

# ---- durable appends, each run into a fresh artifact; then one run onto
# an artifact that already holds BENCH_SERVE_BIG_BLOCKS blocks
RUNS="" FRESH_RPS=-1
for c in $APPEND_CONNS; do
    art=append-c$c
    code=$(curl -s -o /dev/null -w '%{http_code}' -H "$AUTH" -H 'Content-Type: application/json' -d "{\"name\":\"$art\"}" "$URL/v1/artifacts")
    [ "$code" = 201 ] || { echo "bench_serve: creating $art: HTTP $code" >&2; failed=1; continue; }
    mkdir -p "$D/acks-$art"
    wrk_run "durable append ?commit=1, c$c" "$c" "/v1/artifacts/$art/blocks" append "$TOKEN" "$art" "$D/acks-$art" ||
        { failed=1; continue; }
    RUNS="$RUNS $art:$c:$R_s201"
    [ "$c" = "$CONNS" ] && FRESH_RPS=$R_rps
    [ "$R_sother" = 0 ] || { echo "bench_serve: $R_sother appends were not 201" >&2; failed=1; }
    "$PRINT" "serve: durable appends, c$c" "$R_rps" "static GET /healthz" "$BASE_RPS" ">= 20000/s" "req/s"
    "$PRINT" "serve: durable appends, c$c, p50" "$(ms "$R_p50_us")" "static GET /healthz" "$BASE_P50" "-" "ms"
    "$PRINT" "serve: durable appends, c$c, p99" "$(ms "$R_p99_us")" "static GET /healthz" "$BASE_P99" "< 10 ms" "ms"
    "$PRINT" "serve: CPU per append (server+wrk), c$c" "$(awk -v a="$R_CPU_US" -v b="$R_WRK_US" 'BEGIN {print a + b}')" \
        "-" -1 "-" "us"
done
if [ "$BIG" -gt 0 ]; then
    art=append-big
    mkdir -p "$D/acks-$art"
    wrk_run "the same, c$CONNS, onto $BIG blocks" "$CONNS" "/v1/artifacts/$art/blocks" append "$TOKEN" "$art" "$D/acks-$art" ||
        failed=1
    RUNS="$RUNS $art:$CONNS:$R_s201"
    "$PRINT" "serve: durable appends onto $BIG blocks" "$R_rps" "the same, fresh artifact" "$FRESH_RPS" "-" "req/s"
fi

# ---- reads and searches
wrk_run "GET a block (JSON-free, raw), c$CONNS" "$CONNS" /v1/artifacts/corpus/blocks read "$TOKEN" corpus "$NBLOCKS" || failed=1
"$PRINT" "serve: block reads" "$R_rps" "static GET /healthz" "$BASE_RPS" "-" "req/s"
"$PRINT" "serve: block reads, p99" "$(ms "$R_p99_us")" "static GET /healthz" "$BASE_P99" "-" "ms"
wrk_run "search k=10 (BM25), c$CONNS" "$CONNS" /v1/artifacts/corpus/search search "$TOKEN" corpus || failed=1
"$PRINT" "serve: searches ($NBLOCKS blocks)" "$R_rps" "static GET /healthz" "$BASE_RPS" "-" "req/s"
"$PRINT" "serve: searches, p99" "$(ms "$R_p99_us")" "static GET /healthz" "$BASE_P99" "-" "ms"

# ---- no acknowledged commit lost
kill -TERM "$SERVER"
st=1
for _ in $(seq 600); do kill -0 "$SERVER" 2>/dev/null || { wait "$SERVER"; st=$?; break; }; sleep 0.1; done
SERVER=""
[ "$st" = 0 ] || { echo "bench_serve: the server did not exit 0 on SIGTERM ($st)" >&2; failed=1; }
lost_all=0
for run in $RUNS; do
    IFS=: read -r art c acked <<< "$run"
    f=$D/art/$art.maif
    if "$MAIF" verify "$f" > "$D/verify.out" 2>&1; then vok=yes; else vok=no; failed=1; tail -5 "$D/verify.out" >&2; fi
    "$MAIF" info "$f" --json > "$D/info.json"
    "$MAIF" ls "$f" --json > "$D/ls.json"
    read -r blocks commits recorded lost < <(/usr/bin/python3 -c '
import glob, json, sys
info = json.load(open(sys.argv[1]))
ids = {b["index"]: b["id"] for b in json.load(open(sys.argv[2]))}
acks = [json.loads(l) for f in glob.glob(sys.argv[3] + "/ack.*") for l in open(f) if l.strip()]
lost = sum(1 for a in acks if not a.get("committed") or ids.get(a.get("index")) != a.get("id"))
print(info["blocks"], info["commits"], len(acks), lost)' "$D/info.json" "$D/ls.json" "$D/acks-$art")
    base=0 base_commits=1 # a fresh artifact: the commit that created it
    [ "$art" = append-big ] && base=$BIG base_commits=$BIG_COMMITS
    new=$((blocks - base))
    echo "  $art: wrk received $acked 201s ($recorded recorded with index and id, $lost of them not in the artifact);" \
         "$new blocks appended in $((commits - base_commits)) commits; maif verify: $vok"
    if [ "$lost" = 0 ] && [ "$recorded" = "$acked" ] && [ "$acked" -le "$new" ] && [ $((new - acked)) -le "$c" ]; then
        [ "$new" -gt "$acked" ] && echo "    ($((new - acked)) more were committed while wrk was stopping: in flight, never read by wrk)"
    else
        echo "bench_serve: FAILED: $art: $new blocks appended, $acked 201s received ($recorded recorded, $lost missing)" >&2
        lost_all=$((lost_all + ${lost:-0}))
        failed=1
    fi
done
"$PRINT" "serve: lost acknowledged commits" "$lost_all" "-" -1 "0" "commits"

# ---- what bounds the appends: the disk's synchronous writes, the library's group commit
rm -f "$D/dsync"
t0=$(date +%s%N); dd if=/dev/zero of="$D/dsync" bs=512 count=2000 oflag=dsync status=none; t1=$(date +%s%N)
DSYNC=$(awk -v ns=$((t1 - t0)) 'BEGIN {printf "%.0f", 2000 * 1e9 / ns}')
rm -f "$D/dsync"
"$PRINT" "dd bs=512 oflag=dsync (same fs)" "$DSYNC" "-" -1 "(bound)" "writes/s"
if [ -x "$B/bench/bench_commit" ]; then
    echo "  the library's group commit in process, $CONNS threads, 5 s (bench_commit):"
    "$B/bench/bench_commit" "$W" 5 "$CONNS" | sed 's/^/  /'
fi
exit $failed
