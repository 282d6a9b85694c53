#!/usr/bin/env bash
# CLI tests for payloads sealed in chunks with every algorithm (ciphers
# 4-6, FORMAT.md §5.7): round trips of xchacha20, chacha20 and aes256gcm
# × {no codec, zstd, lz4} × sizes around the 64 KiB chunk, from a pipe and
# from a file; a byte flipped in each chunk, chunks reordered or repeated,
# ciphertexts swapped between blocks and the wrong key: each fails (exit 1
# or 3) with nothing on stdout; and a 256 MiB pipe through zstd and
# chacha20, added and read back in bounded memory. Run from the root:
#   MAIF_BIN=build/asan/maif bash tests/cli/test_stream_ciphers.sh
HARNESS_NAME=stream-ciphers
. "$(dirname "$0")/harness.bash"

m keygen owner.key; expect "keygen owner" 0
m keygen bob.key; expect "keygen bob" 0
m create a.maif --key owner.key; expect "create" 0
ALGS="xchacha20 chacha20"
if grep -qw aes /proc/cpuinfo && grep -qw pclmulqdq /proc/cpuinfo; then ALGS="$ALGS aes256gcm"; fi
# half random, half text: zstd and lz4 pay, and the output still spans chunks
mk() { head -c $(($1 / 2)) /dev/urandom >"$2"; yes 'a line of text the codecs like' | head -c $(($1 - $1 / 2)) >>"$2"; }

# stream form per algorithm, as the header stores it
declare -A SF=([xchacha20]=4 [chacha20]=5 [aes256gcm]=6)
for size in 0 1 65535 65536 65537 3145728; do
  mk "$size" "in$size.bin"
done
for alg in $ALGS; do
  for codec in none zstd lz4; do
    for size in 0 1 65535 65536 65537 3145728; do
      what="$alg/$codec/$size"
      cat "in$size.bin" | "$MAIF_BIN" add a.maif --type binary - --encrypt "$alg" --compress "$codec" --key owner.key >"$OUT" 2>"$ERR"; rc=$?
      expect "add $what from a pipe" 0
      i=$(cut -d' ' -f1 "$OUT")
      m cat a.maif "$i" --identity owner.key; expect "cat $what" 0
      ok "$what reads back" cmp -s "$OUT" "in$size.bin"
    done
    m add a.maif --type binary --file in3145728.bin --encrypt "$alg" --compress "$codec" --key owner.key
    expect "add $alg/$codec from a file" 0
    i=$(cut -d' ' -f1 "$OUT")
    m cat a.maif "$i" --identity owner.key; expect "cat $alg/$codec from a file" 0
    ok "$alg/$codec from a file reads back" cmp -s "$OUT" in3145728.bin
  done
done
m verify a.maif --deep; expect "every block verifies and decodes" 0
# ---- damage: a 5-chunk block per algorithm, plain and zstd
payoff() { # payoff FILE INDEX: offset of block INDEX's stored bytes (the next record starts after them, 8-aligned)
  "$MAIF_BIN" ls "$1" --json | "$PY" -c "
import json,sys; d=json.load(sys.stdin); i=int(sys.argv[1])
b=[x for x in d if x['index']==i][0]; nx=[x for x in d if x['index']==i+1][0]
print(nx['offset'] - ((b['size'] + 7) // 8 * 8))" "$2"
}
poke() { # poke FILE OFFSET: flips one bit
  "$PY" -c "
import sys; f=open(sys.argv[1],'r+b'); o=int(sys.argv[2]); f.seek(o); b=f.read(1); f.seek(o); f.write(bytes([b[0]^0x10]))" "$1" "$2"
}
copy() { # copy FILE FROM TO LEN: overwrites LEN bytes at TO with those at FROM
  "$PY" -c "
import sys; f=open(sys.argv[1],'r+b'); a,b,n=map(int,sys.argv[2:5]); f.seek(a); x=f.read(n); f.seek(b); f.write(x)" "$@"
}
S=$((65536 + 16))
head -c 300000 /dev/urandom >r300k.bin
mk 1200000 z1200k.bin
for alg in $ALGS; do
  rm -f d.maif; m create d.maif --key owner.key; expect "create d.maif ($alg)" 0
  m add d.maif --type binary --file r300k.bin --encrypt "$alg" --key owner.key; expect "add 300 KB ($alg)" 0   # 1
  cat z1200k.bin | "$MAIF_BIN" add d.maif --type binary - --encrypt "$alg" --compress zstd --key owner.key >"$OUT" 2>"$ERR"; rc=$?
  expect "add 1.2 MB zstd ($alg)" 0                                                                            # 3
  m add d.maif --type binary --file r300k.bin --encrypt "$alg" --key owner.key; expect "add 300 KB again ($alg)" 0  # 5
  m add d.maif --type text --text "end" --key owner.key; expect "a last block" 0                               # 6
  for blk in 1 3; do
    src=r300k.bin; [ $blk = 3 ] && src=z1200k.bin
    P=$(payoff d.maif $blk)
    n=$(( ($("$MAIF_BIN" ls d.maif --json | "$PY" -c "import json,sys; print([x for x in json.load(sys.stdin) if x['index']==$blk][0]['size'])") - 32 + S - 1) / S ))
    for c in $(seq 0 $((n - 1))); do
      cp d.maif t.maif; poke t.maif $((P + 32 + c * S + 3))
      "$MAIF_BIN" cat t.maif $blk --identity owner.key >out.bin 2>"$ERR"; rc=$?
      expect_err "$alg block $blk: a flipped byte in chunk $c fails" 1 "authentication failed"
      ok "$alg block $blk chunk $c: nothing reached stdout" test ! -s out.bin
    done
    cp d.maif t.maif; poke t.maif $((P + 5))
    "$MAIF_BIN" cat t.maif $blk --identity owner.key >out.bin 2>"$ERR"; rc=$?
    expect_err "$alg block $blk: a flipped commitment fails" 1 "authentication failed"
    ok "$alg block $blk: nothing reached stdout (commitment)" test ! -s out.bin
    if [ "$n" -ge 3 ]; then
      cp d.maif t.maif; copy t.maif $((P + 32)) $((P + 32 + S)) $S   # chunk 0 repeated as chunk 1
      "$MAIF_BIN" cat t.maif $blk --identity owner.key >out.bin 2>"$ERR"; rc=$?
      expect_err "$alg block $blk: a repeated chunk fails" 1 "authentication failed"
      ok "$alg block $blk: nothing reached stdout (repeat)" test ! -s out.bin
      cp d.maif t.maif   # chunks 0 and 1 swapped
      "$PY" -c "
import sys; f=open('t.maif','r+b'); g=open('d.maif','rb').read(); P=int(sys.argv[1]); S=int(sys.argv[2])
c0=g[P+32:P+32+S]; c1=g[P+32+S:P+32+2*S]; f.seek(P+32); f.write(c1); f.write(c0)" "$P" "$S"
      "$MAIF_BIN" cat t.maif $blk --identity owner.key >out.bin 2>"$ERR"; rc=$?
      expect_err "$alg block $blk: chunks 0 and 1 swapped fail" 1 "authentication failed"
      ok "$alg block $blk: nothing reached stdout (swap)" test ! -s out.bin
    fi
    m cat d.maif $blk --identity owner.key; expect "$alg block $blk: the untouched block opens" 0
    ok "$alg block $blk reads back" cmp -s "$OUT" $src
  done
  # block 1's ciphertext in block 5's place (same size, another data key): fails
  P1=$(payoff d.maif 1); P5=$(payoff d.maif 5)
  cp d.maif t.maif
  "$PY" -c "
import sys; f=open('t.maif','r+b'); g=open('d.maif','rb').read(); a,b,n=map(int,sys.argv[1:4]); f.seek(b); f.write(g[a:a+n])" "$P1" "$P5" $((300000 + 32 + 5 * 16))
  "$MAIF_BIN" cat t.maif 5 --identity owner.key >out.bin 2>"$ERR"; rc=$?
  ok "$alg: a ciphertext moved to another block fails (exit $rc)" test "$rc" != 0
  ok "$alg: nothing reached stdout (moved)" test ! -s out.bin
  m cat d.maif 1 --identity bob.key; expect_err "$alg: the wrong key is refused" 3 "access denied"
done
rm -f t.maif t2.maif out.bin

# ---- a 256 MiB pipe through zstd and chacha20, in bounded memory (peak
# RSS under /usr/bin/time on the release build, as test_privacy.sh does
# for cipher 4; the ASan build only checks the round trip)
REL=${MAIF_RELEASE_DIR:-build/release}/maif
case "$REL" in /*) ;; *) REL="$ROOT/$REL" ;; esac  # tests/run.sh passes it relative to the root
BIG=$REL
[ -x "$REL" ] && [ -x /usr/bin/time ] || BIG=$MAIF_BIN
mk $((256 * 1024 * 1024)) big.bin
m create s.maif --key owner.key; expect "create s.maif" 0
if [ "$BIG" = "$REL" ]; then
  cat big.bin | /usr/bin/time -f '%M' -o mem.txt "$REL" add s.maif --type binary - --compress zstd --encrypt chacha20 \
    --key owner.key >"$OUT" 2>"$ERR"; rc=$?
  expect "release build: add of a 256 MiB pipe, zstd + chacha20" 0
  kb=$(tail -n1 mem.txt)
  ok "release build: the 256 MiB piped add peaks under 32 MiB ($kb KiB)" test "$kb" -lt 32768
  /usr/bin/time -f '%M' -o mem.txt "$REL" cat s.maif 1 --identity owner.key >out.bin 2>"$ERR"; rc=$?
  expect "release build: cat of it" 0
  kb=$(tail -n1 mem.txt)
  ok "release build: the 256 MiB cat peaks under 32 MiB ($kb KiB)" test "$kb" -lt 32768
else
  cat big.bin | "$BIG" add s.maif --type binary - --compress zstd --encrypt chacha20 --key owner.key >"$OUT" 2>"$ERR"; rc=$?
  expect "add of a 256 MiB pipe, zstd + chacha20" 0
  "$BIG" cat s.maif 1 --identity owner.key >out.bin 2>"$ERR"; rc=$?
  expect "cat of it" 0
fi
ok "the 256 MiB payload reads back byte for byte" cmp -s out.bin big.bin
m ls s.maif --json
jcheck "stored compressed (zstd), well under its size" "$OUT" \
  "[b for b in d if b['index']==1][0]['codec']=='zstd' and [b for b in d if b['index']==1][0]['size'] < 140*2**20"
ok "no spool file was left beside the artifact" test "$(ls -A | grep -c maif-spool)" = 0
rm -f big.bin out.bin

harness_finish
