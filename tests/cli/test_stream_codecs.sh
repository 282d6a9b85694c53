#!/usr/bin/env bash
# CLI tests for the codecs beside plain zstd in bounded memory (FORMAT.md
# §5.6.2, §5.7 "Spooling", §8): dictionary-zstd (--compress zstd --dict)
# round trips from a pipe and from a file, plain and encrypted, around the
# 1 MiB spool threshold; a flipped byte in such a block or in its
# dictionary fails (exit 1) with nothing on stdout and is a `decode`
# error of verify --deep; lz4 and shuffle-zstd refuse payloads over
# 64 MiB with one clear line (exit 2, nothing added); and, on the release
# build, a 256 MiB pipe through dictionary-zstd is added and read back,
# and verify --deep decodes it and a 256 MiB zstd block, each under 32 MiB
# of peak RSS. Run from the root:
#   MAIF_BIN=build/asan/maif bash tests/cli/test_stream_codecs.sh
HARNESS_NAME=stream-codecs
. "$(dirname "$0")/harness.bash"

m keygen k.key; expect "keygen" 0
m create a.maif --key k.key; expect "create" 0
# records that share structure (what a dictionary is for), N bytes of them
recs() {
  "$PY" -c "
import sys, json
n = int(sys.argv[1]); out = []; size = 0; i = 0
while size < n:
    s = json.dumps({'user': 'user-%d' % (i * 7919 % 1000), 'event': ['login', 'logout', 'search'][i % 3],
                    'status': 'ok', 'agent': 'Mozilla/5.0 (X11; Linux x86_64)', 'note': 'session %d of eu-west-%d' % (i, i % 4)}) + '\n'
    out.append(s); size += len(s); i += 1
sys.stdout.write(''.join(out)[:n])" "$1"
}
"$PY" -c "
import json
for i in range(800):
    rec = {'user': 'user-%d' % (i * 37 % 500), 'event': ['login', 'logout', 'search'][i % 3], 'status': 'ok',
           'agent': 'Mozilla/5.0 (X11; Linux x86_64)', 'note': 'session %d of eu-west-%d' % (i, i % 4)}
    print(json.dumps({'type': 'json', 'text': json.dumps(rec)}))" >lines.jsonl
m append a.maif lines.jsonl --compress zstd --key k.key; expect "append 800 records" 0
m dict a.maif --train --size 16384 --key k.key; expect "dict --train" 0
for size in 1000 1048577 3145728; do recs $size >"in$size.txt"; done

codec_of() { # codec_of FILE INDEX
  "$MAIF_BIN" ls "$1" --json | "$PY" -c "import json,sys; print([b for b in json.load(sys.stdin) if b['index']==int(sys.argv[1])][0]['codec'])" "$2"
}
for enc in plain sealed; do
  E=""; I=""
  [ $enc = sealed ] && E="--encrypt" && I="--identity k.key"
  for size in 1000 1048577 3145728; do
    what="$enc/$size"
    cat "in$size.txt" | "$MAIF_BIN" add a.maif --type text - --compress zstd --dict $E --key k.key >"$OUT" 2>"$ERR"; rc=$?
    expect "add dict-zstd $what from a pipe" 0
    i=$(cut -d' ' -f1 "$OUT")
    ok "$what is stored with the dictionary" test "$(codec_of a.maif "$i")" = zstd-dict
    m cat a.maif "$i" $I; expect "cat $what" 0
    ok "$what reads back" cmp -s "$OUT" "in$size.txt"
    m add a.maif --type text --file "in$size.txt" --compress zstd --dict $E --key k.key; expect "add dict-zstd $what from a file" 0
    i=$(cut -d' ' -f1 "$OUT")
    m cat a.maif "$i" $I; expect "cat $what (file)" 0
    ok "$what (file) reads back" cmp -s "$OUT" "in$size.txt"
  done
done
m verify a.maif --deep
expect "every block verifies and decodes" 0

# ---- damage: a plain and a sealed 3 MiB dictionary block, and the dictionary
poke() { # poke FILE OFFSET: flips one bit
  "$PY" -c "
import sys; f=open(sys.argv[1],'r+b'); o=int(sys.argv[2]); f.seek(o); b=f.read(1); f.seek(o); f.write(bytes([b[0]^0x10]))" "$1" "$2"
}
payoff() { # payoff FILE INDEX: offset of block INDEX's stored bytes (after its header, extensions and metadata, 8-aligned), and their size
  "$MAIF_BIN" ls "$1" --json | "$PY" -c "
import json,struct,sys; d=json.load(sys.stdin); i=int(sys.argv[1]); b=[x for x in d if x['index']==i][0]
h=open(sys.argv[2],'rb'); h.seek(b['offset']); r=h.read(112)
meta,ext=struct.unpack_from('<IH', r, 24)
print(b['offset'] + (112 + ext + meta + 7) // 8 * 8, struct.unpack_from('<Q', r, 8)[0])" "$2" "$1"
}
m create d.maif --key k.key; expect "create d.maif" 0
m append d.maif lines.jsonl --compress zstd --key k.key; expect "append to d.maif" 0
m dict d.maif --train --size 16384 --key k.key; expect "dict --train d.maif" 0   # block 800
cat in3145728.txt | "$MAIF_BIN" add d.maif --type text - --compress zstd --dict --key k.key >"$OUT" 2>"$ERR"; rc=$?
expect "add a plain 3 MiB dict block" 0                                                  # 801
cat in3145728.txt | "$MAIF_BIN" add d.maif --type text - --compress zstd --dict --encrypt --key k.key >"$OUT" 2>"$ERR"; rc=$?
expect "add a sealed 3 MiB dict block" 0                                                 # 802 KEYW, 803
m add d.maif --type text --text "end" --key k.key; expect "a last block" 0
read -r P N <<<"$(payoff d.maif 801)"
for at in 2 $((N / 2)) $((N - 3)); do
  cp d.maif t.maif; poke t.maif $((P + at))
  "$MAIF_BIN" cat t.maif 801 >out.bin 2>"$ERR"; rc=$?
  expect_err "plain dict block: a flipped byte at +$at fails" 1 "cannot be decoded"
  ok "plain dict block (+$at): nothing reached stdout" test ! -s out.bin
done
m verify t.maif --deep
ok "verify --deep names the damaged dict block (exit $rc)" test "$rc" = 1
ok "verify --deep: a decode finding for block 801" grep -q "801.*decode\|decode.*801" "$OUT" "$ERR"
read -r P N <<<"$(payoff d.maif 803)"
for at in 40 $((N / 2)) $((N - 3)); do
  cp d.maif t.maif; poke t.maif $((P + at))
  "$MAIF_BIN" cat t.maif 803 --identity k.key >out.bin 2>"$ERR"; rc=$?
  expect_err "sealed dict block: a flipped byte at +$at fails" 1 "authentication failed"
  ok "sealed dict block (+$at): nothing reached stdout" test ! -s out.bin
done
read -r P N <<<"$(payoff d.maif 800)"
cp d.maif t.maif; poke t.maif $((P + N / 2))
"$MAIF_BIN" cat t.maif 801 >out.bin 2>"$ERR"; rc=$?
expect_err "a damaged dictionary: the block does not decode" 1 "cannot be decoded"
ok "damaged dictionary: nothing reached stdout" test ! -s out.bin
m cat d.maif 801; expect "the untouched plain block opens" 0
ok "the untouched plain block reads back" cmp -s "$OUT" in3145728.txt
m cat d.maif 803 --identity k.key; expect "the untouched sealed block opens" 0
ok "the untouched sealed block reads back" cmp -s "$OUT" in3145728.txt

# ---- lz4 and shuffle-zstd decode whole: over 64 MiB is refused, nothing added
m create l.maif --key k.key; expect "create l.maif" 0
head -c $((64 * 1024 * 1024 + 1)) /dev/zero >over.bin
for c in lz4 shuffle-zstd; do
  for enc in "" "--encrypt"; do
    m_in over.bin add l.maif --type binary - --compress $c $enc --key k.key
    expect_err "$c $enc: a 64 MiB + 1 pipe is refused" 2 "compress $c takes payloads of at most 64 MiB.*zstd"
    m add l.maif --type binary --file over.bin --compress $c $enc --key k.key
    expect_err "$c $enc: a 64 MiB + 1 file is refused" 2 "compress $c takes payloads of at most 64 MiB.*zstd"
  done
  head -c $((64 * 1024 * 1024)) over.bin | "$MAIF_BIN" add l.maif --type binary - --compress $c --key k.key >"$OUT" 2>"$ERR"; rc=$?
  expect "$c: exactly 64 MiB is taken" 0
  i=$(cut -d' ' -f1 "$OUT")
  ok "$c: stored with $c" test "$(codec_of l.maif "$i")" = $c
  m cat l.maif "$i"
  ok "$c: 64 MiB read back" test "$rc" = 0 -a "$(wc -c <"$OUT")" = $((64 * 1024 * 1024))
done
m ls l.maif --json
jcheck "l.maif holds the two 64 MiB blocks only" "$OUT" "len(d) == 2"
rm -f over.bin

# ---- 256 MiB: a dict-zstd pipe added and read back, verify --deep of it
# and of a zstd block, in bounded memory (peak RSS under /usr/bin/time on
# the release build; the ASan build checks the round trips only)
REL=${MAIF_RELEASE_DIR:-build/release}/maif
case "$REL" in /*) ;; *) REL="$ROOT/$REL" ;; esac
BIG=$REL
[ -x "$REL" ] && [ -x /usr/bin/time ] || BIG=$MAIF_BIN
head -c $((128 * 1024 * 1024)) /dev/urandom >big.bin
recs $((128 * 1024 * 1024)) >>big.bin
m create s.maif --key k.key; expect "create s.maif" 0
m append s.maif lines.jsonl --compress zstd --key k.key; expect "append to s.maif" 0
m dict s.maif --train --size 16384 --key k.key; expect "dict --train s.maif" 0  # block 800
KB=0
peak() { # peak MIB WHAT CMD...: runs CMD (stdout to out.bin), checks exit 0 and, on the release build, peak RSS < MIB MiB (in $KB)
  local mib=$1 what=$2; shift 2
  if [ "$BIG" = "$REL" ]; then
    /usr/bin/time -f '%M' -o mem.txt "$@" >out.bin 2>"$ERR"; rc=$?
    expect "release build: $what" 0
    KB=$(tail -n1 mem.txt)
    ok "release build: $what peaks under $mib MiB ($KB KiB)" test "$KB" -lt $((mib * 1024))
  else
    "$@" >out.bin 2>"$ERR"; rc=$?
    expect "$what" 0
  fi
}
peak 32 "add of a 256 MiB pipe with the dictionary" sh -c "cat big.bin | '$BIG' add s.maif --type binary - --compress zstd --dict --key k.key"
# cat decodes twice (check, then write); measured ~35 MiB, as for a plain
# zstd block of the same size, of which ~13 MiB is the process itself
peak 48 "cat of it" "$BIG" cat s.maif 801
ok "the 256 MiB dict block reads back byte for byte" cmp -s out.bin big.bin
peak 32 "add of 256 MiB with zstd" "$BIG" add s.maif --type binary --file big.bin --compress zstd --key k.key
m ls s.maif --json
jcheck "blocks 801 and 802: zstd-dict and zstd, compressed" "$OUT" \
  "[b['codec'] for b in d if b['index'] in (801, 802)] == ['zstd-dict', 'zstd'] and all(b['size'] < 200*2**20 for b in d if b['index'] in (801, 802))"
# verify's own hash pass maps the file (its pages count in RSS): what
# --deep adds over it, in the same run, is the decode pass, which must
# not hold the 256 MiB payloads
peak 100000 "verify of both 256 MiB blocks" "$BIG" verify s.maif
base=$KB
peak 100000 "verify --deep of both 256 MiB blocks" "$BIG" verify s.maif --deep
ok "verify --deep decoded every block" grep -q "every one decoded" out.bin
if [ "$BIG" = "$REL" ]; then
  ok "release build: verify --deep adds under 16 MiB to verify ($base -> $KB KiB)" test $((KB - base)) -lt 16384
fi
rm -f big.bin out.bin

harness_finish
