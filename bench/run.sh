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

echo "== full verify ($VERIFY_MIB MiB of 1 MiB blocks, page cache)"
VF=$W/verify.maif
if run "$BIN/bench_verify" prepare "$VF" "$VERIFY_MIB"; then
    BASE_OPENSSL_MBS=$(time_openssl "$VF")
    export BASE_OPENSSL_MBS
    figure "openssl dgst -sha256 (same file)" "$BASE_OPENSSL_MBS" "MB/s"
    run "$BIN/bench_verify" run "$VF" "$REPS"
fi
rm -f "$VF"

echo "== open and random read at 1 000 000 blocks"
run "$BIN/bench_open" "$W"

echo "== overhead per block"
run "$BIN/bench_overhead" "$W"

echo "== understanding: image and sound analysis"
run "$BIN/bench_media"

echo "== encryption at rest (per cipher, 4 KiB and 1 MiB blocks; KDF cost)"
run "$BIN/bench_aead" "$W"

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
