#!/usr/bin/env bash
# CLI tests for the privacy lifecycle: grant, revoke, rotate, shred
# (with and without --punch, and the old keystore copy), policy --set /
# --show with its enforcement in add and cat, cat --audit, and audit
# [--json] including tampered control blocks. Run from the repository root:
#   MAIF_BIN=build/asan/maif bash tests/cli/test_privacy.sh
HARNESS_NAME=privacy
. "$(dirname "$0")/harness.bash"

m keygen owner.key; expect "keygen owner" 0
m keygen bob.key; expect "keygen bob" 0
m keygen carol.key; expect "keygen carol" 0
OWNER=$(cut -d: -f2 owner.key.pub); BOB=$(cut -d: -f2 bob.key.pub); CAROL=$(cut -d: -f2 carol.key.pub)
m create a.maif --key owner.key; expect "create" 0

# ---- grant / revoke / rotate
m add a.maif --type text --text "first secret" --encrypt --key owner.key; expect "add --encrypt" 0
m cat a.maif 1 --identity bob.key; expect_err "bob cannot read before the grant" 3 "access denied"
m grant a.maif; expect_err "grant without --recipient" 2 "missing --recipient"
m grant a.maif --recipient bob.key.pub --role "Bad Role" --key owner.key; expect_err "grant with a bad role" 2 "role"
m grant a.maif --recipient nope.pub --key owner.key; expect_err "grant of a missing key file" 2 "no such key file"
m grant a.maif --recipient bob.key.pub --role clinician --key owner.key; expect "grant" 0
ok "grant reports the re-wrap" out_has "^granted $BOB \(role clinician\); 1 data keys re-wrapped"
m cat a.maif 1 --identity bob.key; expect "bob reads the old block after the grant" 0
ok "the plaintext" out_has "^first secret$"
m add a.maif --type text --text "second secret" --encrypt --key owner.key; expect "add after grant" 0
IDX2=$(cut -d' ' -f1 "$OUT")
m cat a.maif "$IDX2" --identity bob.key; expect "a new block is wrapped for the granted key" 0
m revoke a.maif --recipient bob.key.pub --key owner.key; expect "revoke" 0
m add a.maif --type text --text "third secret" --encrypt --key owner.key; expect "add after revoke" 0
IDX3=$(cut -d' ' -f1 "$OUT")
m cat a.maif "$IDX3" --identity bob.key; expect_err "a block added after the revocation is closed to it" 3 "access denied"
m add a.maif --type text --text "x" --encrypt --recipient bob.key.pub --key owner.key
expect_err "naming a revoked recipient is refused" 3 "revoked"
m rotate a.maif --key owner.key; expect "rotate" 0
ok "rotate reports what it re-wrapped" out_has "^rotated: 3 data keys re-wrapped, 0 not opened"
m cat a.maif 1 --identity owner.key; expect "the owner still reads after rotation" 0
m cat a.maif "$IDX3" --identity carol.key; expect_err "carol never could" 3 "access denied"
m verify a.maif; expect "verify after the lifecycle" 0

# ---- audit
m audit a.maif; expect "audit" 0
ok "audit lists grant, revoke, rotate in order" bash -c "grep -oE ' ok  (grant|revoke|rotate) ' '$OUT' | tr -s ' ' | tr '\n' '|' | grep -q '^ ok grant | ok revoke | ok rotate |$'"
ok "audit names the actor" out_has "actor=$OWNER"
m audit a.maif --json; expect "audit --json" 0
jcheck "audit --json shape" "$OUT" "d['ok'] and [e['action'] for e in d['entries']] == ['grant','revoke','rotate'] and all(e['signature']=='ok' and e['actor']=='$OWNER' for e in d['entries']) and d['entries'][0]['record']['recipient']=='$BOB'"
m audit missing.maif; expect_err "audit of a missing file" 2 "missing.maif"
m audit; expect "audit without FILE" 2
cp a.maif t.maif
$PY - t.maif <<'PY'
import sys
p = sys.argv[1]; b = bytearray(open(p, 'rb').read())
i = b.find(b'"action":"revoke"')
b[i + 10] ^= 0x01
open(p, 'wb').write(b)
PY
m audit t.maif; expect_err "a tampered audit block: audit refuses the trail" 1 "does not verify"
m verify t.maif; expect "and verify fails" 1

# ---- cat --audit
m cat a.maif 1 --identity owner.key --audit --key owner.key; expect "cat --audit" 0
ok "cat --audit writes the payload" out_has "^first secret$"
m audit a.maif --json; expect "audit after a read" 0
jcheck "the read is in the trail" "$OUT" "d['entries'][-1]['action']=='read' and d['entries'][-1]['record']['index']==1"
m cat a.maif 1 --key owner.key; expect_err "--key without --audit" 2 "--audit"

# ---- sealed metadata
m add a.maif --type text --text "visit" --meta '{"source":"clinic"}' --meta-private '{"patient":"Jane Doe"}' --encrypt --key owner.key
expect "add --meta-private" 0
SM=$(cut -d' ' -f1 "$OUT")
ok "the private part is not in the file" bash -c "! grep -q 'Jane Doe' a.maif"
m cat a.maif "$SM" --sealed-meta --identity owner.key; expect "cat --sealed-meta" 0
ok "the sealed metadata" out_has '^\{"patient":"Jane Doe"\}$'
m cat a.maif "$SM" --sealed-meta --identity carol.key; expect_err "cat --sealed-meta with the wrong key" 3 "no usable key"
m cat a.maif 1 --sealed-meta --identity owner.key; expect_err "a block without sealed metadata" 2 "no sealed metadata"
m add a.maif --type text --text "x" --meta-private '{"a":1}'; expect_err "--meta-private needs --encrypt" 2 "need --encrypt"
m add a.maif --type text --text "x" --meta-private '[1]' --encrypt --key owner.key; expect "--meta-private that is not an object" 2

# ---- shred
m add a.maif --type text --text "forget me" --encrypt --shreddable --key owner.key; expect "add --shreddable" 0
S1=$(cut -d' ' -f1 "$OUT")
m add a.maif --type text --text "keep me" --encrypt chacha20 --shreddable --key owner.key; expect "add --shreddable chacha20" 0
S2=$(cut -d' ' -f1 "$OUT")
m add a.maif --type text --text "x" --encrypt --shreddable --recipient bob.key.pub; expect_err "--shreddable with --recipient" 2 "shreddable"
m add a.maif --type text --text "x" --shreddable; expect_err "--shreddable needs --encrypt" 2 "need --encrypt"
ok "the keystore sits beside the artifact" test -s a.maif.keystore
ok "the master key is in MAIF_HOME/masters, private" bash -c "ls '$MAIF_HOME'/masters/*.master >/dev/null && [ \$(stat -c %a '$MAIF_HOME'/masters) = 700 ]"
m cat a.maif "$S1"; expect "a shreddable block reads with the keystore" 0
ok "its plaintext" out_has "^forget me$"
cp a.maif.keystore old.keystore
m shred a.maif 1 --key owner.key; expect_err "shred of a block not in the keystore" 2 "not shreddable"
m shred a.maif 999 --key owner.key; expect_err "shred of a block out of range" 2 "not a block index"
m shred a.maif "$S1" --key owner.key; expect "shred" 0
ok "shred reports" out_has "^erased 1 block; keystore master key replaced"
m cat a.maif "$S1"; expect_err "the shredded block opens no more" 3 "access denied"
m cat a.maif "$S2"; expect "the other shreddable block still opens" 0
m verify a.maif; expect "verify after shred" 0
m audit a.maif --json; expect "audit after shred" 0
jcheck "the erasure record is in the trail" "$OUT" "d['entries'][-1]['action']=='shred' and d['entries'][-1]['record']['punched']==False and len(d['entries'][-1]['record']['blocks'])==1"
cp a.maif.keystore new.keystore; cp old.keystore a.maif.keystore
m cat a.maif "$S1"; expect_err "the keystore copy taken before the shred opens nothing" 3 "access denied"
cp new.keystore a.maif.keystore
ok "the plaintext is not in the file" bash -c "! grep -q 'forget me' a.maif a.maif.keystore old.keystore"
m shred a.maif "$S2" --punch --key owner.key; expect "shred --punch" 0
ok "shred --punch reports" out_has "overwritten and punched"
m verify a.maif; expect "verify accepts the punched payload" 0
ok "verify reports the erasure" out_has "info: .*payload erased"
m verify a.maif --json; expect "verify --json" 0
jcheck "the erased finding" "$OUT" "any(f['code']=='erased' for f in d['findings'])"
m cat a.maif "$S2"; expect_err "the punched block opens no more" 3 "access denied"
# ---- policy
cat > pol.json <<EOF
{"level":"confidential","roles":{"admin":["$OWNER"],"clinician":["$BOB"],"intern":["$CAROL"]},
 "rules":[{"role":"admin","levels":["confidential","secret"]},
          {"role":"clinician","levels":["confidential"],"types":["text"],"purposes":["treatment"]},
          {"role":"intern","levels":["public"]}]}
EOF
m create p.maif --key owner.key; expect "create p" 0
m policy p.maif --show; expect "policy --show without one" 0
ok "no policy" out_has "^no access policy$"
m policy p.maif; expect_err "policy without --set or --show" 2 "exactly one"
echo '{"level":"cosmic","roles":{},"rules":[]}' > badpol.json
m policy p.maif --set badpol.json --key owner.key; expect_err "hostile policy JSON" 2 "level"
echo '[1,2' > badpol2.json
m policy p.maif --set badpol2.json --key owner.key; expect_err "policy not JSON" 2 "policy"
m policy p.maif --set pol.json --key owner.key; expect "policy --set" 0
m policy p.maif --show; expect "policy --show" 0
jcheck "the policy as stored" "$OUT" "d['level']=='confidential' and d['roles']['clinician']==['$BOB']"
m add p.maif --type text --text "plain" --key owner.key; expect_err "a confidential artifact refuses a plain block" 3 "requires encryption"
m add p.maif --type text --text "note" --encrypt --recipient bob.key.pub --recipient carol.key.pub --recipient owner.key.pub --key owner.key
expect "encrypted add under the policy" 0
N=$(cut -d' ' -f1 "$OUT")
m cat p.maif "$N" --identity bob.key; expect_err "clinician without a purpose" 3 "purpose"
m cat p.maif "$N" --identity bob.key --purpose treatment; expect "clinician for treatment" 0
m cat p.maif "$N" --identity carol.key; expect_err "intern: level denied" 3 "may not read level confidential"
m add p.maif --type text --text "ts" --meta '{"level":"top_secret"}' --encrypt --key owner.key
expect_err "top_secret needs a pinned signer" 3 "pinned signer"
m add p.maif --type text --text "sec" --meta '{"level":"secret"}' --encrypt --key owner.key; expect "a secret block" 0
N2=$(cut -d' ' -f1 "$OUT")
m cat p.maif "$N2" --identity owner.key; expect_err "secret reads must be audited" 3 "audited"
m cat p.maif "$N2" --identity owner.key --audit --key owner.key; expect "audited secret read" 0
echo '{"type":"text","text":"plain line"}' > plain.jsonl
m append p.maif plain.jsonl --key owner.key; expect_err "append under a confidential policy refuses a plain block" 3 "requires encryption"
m policy p.maif --set pol.json --key bob.key; expect_err "a non-admin cannot replace the policy" 3 "admin"
m audit p.maif --json; expect "audit of p" 0
jcheck "policy and read in the trail" "$OUT" "[e['action'] for e in d['entries']]==['policy-set','read']"
# ---- STREAM: a large file is sealed as it is read and opened chunk by
# chunk, in bounded memory (peak RSS under /usr/bin/time; the ASan build
# carries its own tens of MiB, the release build is held to 32 MiB)
head -c $((256 * 1024 * 1024)) /dev/urandom >big.bin
m create s.maif --key owner.key; expect "create s.maif" 0
rss() { # rss BIN OUTFILE ARGS...: runs BIN ARGS, stdout to OUTFILE; sets rc, and kb to the peak RSS in KiB
  local bin=$1 out=$2; shift 2
  /usr/bin/time -f '%M' -o mem.txt "$bin" "$@" >"$out" 2>"$ERR"; rc=$?
  kb=$(tail -n1 mem.txt)
}
if [ -x /usr/bin/time ]; then
  rss "$MAIF_BIN" "$OUT" add s.maif --type binary --file big.bin --encrypt --key owner.key
  expect "add --encrypt of 256 MiB" 0
  ok "256 MiB encrypted add peaks under 64 MiB ($kb KiB)" test "$kb" -lt 65536
  rss "$MAIF_BIN" out.bin cat s.maif 1 --identity owner.key
  expect "cat of the 256 MiB encrypted block" 0
  ok "256 MiB encrypted cat peaks under 64 MiB ($kb KiB)" test "$kb" -lt 65536
  ok "it reads back byte for byte" cmp -s out.bin big.bin
  REL=${MAIF_RELEASE_DIR:-build/release}/maif
  case "$REL" in /*) ;; *) REL="$ROOT/$REL" ;; esac  # relative to the root, and the harness cd'ed away
  if [ -x "$REL" ]; then
    rss "$REL" "$OUT" add s.maif --type binary --file big.bin --encrypt --key owner.key
    expect "release build: add --encrypt of 256 MiB" 0
    ok "release build: 256 MiB encrypted add peaks under 32 MiB ($kb KiB)" test "$kb" -lt 32768
    rss "$REL" out.bin cat s.maif 3 --identity owner.key  # 2 is the key wrap of that add
    expect "release build: cat of 256 MiB" 0
    ok "release build: 256 MiB encrypted cat peaks under 32 MiB ($kb KiB)" test "$kb" -lt 32768
    ok "release build: it reads back" cmp -s out.bin big.bin
  fi
else
  m add s.maif --type binary --file big.bin --encrypt --key owner.key; expect "add --encrypt of 256 MiB" 0
fi
m ls s.maif; expect "ls s.maif" 0
ok "stored as cipher 4: 32 + 16 bytes a 64 KiB chunk over the payload" out_has " 268501024 "
m verify s.maif; expect "s.maif verifies without a key" 0
m cat s.maif 1; expect_err "no key: access denied" 3 "access denied"
# a byte flipped in the middle of the ciphertext: nothing is written
cp s.maif t.maif
/usr/bin/python3 -c "
f = open('t.maif', 'r+b'); f.seek(128 << 20); b = f.read(1); f.seek(128 << 20); f.write(bytes([b[0] ^ 0x10]))"
"$MAIF_BIN" cat t.maif 1 --identity owner.key >out.bin 2>"$ERR"; rc=$?
expect_err "a flipped ciphertext byte fails authentication" 1 "authentication failed"
ok "and nothing reached stdout" test ! -s out.bin
m verify t.maif; expect "verify reports the flipped byte" 1
# stdin has no size to announce: read whole, then sealed
printf 'piped secret' | "$MAIF_BIN" add s.maif --type text --file - --encrypt --key owner.key >"$OUT" 2>"$ERR"; rc=$?
expect "add --encrypt from a pipe" 0
IDXP=$(cut -d' ' -f1 "$OUT")
m cat s.maif "$IDXP" --identity owner.key; expect "cat of the piped block" 0
ok "its plaintext" out_has "^piped secret$"
rm -f big.bin out.bin t.maif s.maif

harness_finish
