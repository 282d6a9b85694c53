#!/usr/bin/env bash
# CLI tests for `maif prove` and `maif check-proof`: output, exact exit
# codes, tampered proofs, and an independent check of the JSON by a small
# Python implementation of RFC 9162's verification (hashes only; the
# signature is left to maif). Run from the repository root:
#   MAIF_BIN=build/asan/maif bash tests/cli/test_proof.sh
# Ends with exactly one line "N passed, M failed".
HARNESS_NAME=proof
. "$(dirname "$0")/harness.bash"

has() { if grep -q -- "$2" "$OUT"; then pass; else fail "$1: stdout lacks '$2'"; fi; }

# An independent check of a proof's hashes (RFC 9162 §2.1.3.2 / §2.1.4.2).
cat >check.py <<'PY'
import hashlib, json, sys
H = lambda b: hashlib.sha256(b).digest()
def commit(c):
    prev, hdr, pl = (bytes.fromhex(c[k]) for k in ("prev_record_hash", "header", "payload"))
    assert hdr[0] == 0x43 and len(hdr) == 112
    if hdr[1] == 1:  # Ed25519: 64 signature bytes before the tail
        assert c.get("alg", "ed25519") == "ed25519"
        assert H(pl[:-80] + pl[-16:]) == hdr[48:80], "content hash"
    else:  # version 2: a signature area naming its algorithm and key
        nseg, nfr = (int.from_bytes(pl[o:o + 4], "little") for o in (88, 92))
        at = 96 + 24 * nseg + 32 * nfr
        alg, pkl, sgl = pl[at], int.from_bytes(pl[at + 2:at + 4], "little"), int.from_bytes(pl[at + 4:at + 6], "little")
        assert c["alg"] == {1: "ed25519", 2: "rsa-pss", 3: "p256"}[alg]
        pk = pl[at + 8:at + 8 + pkl]
        assert pk.hex() == c["public_key"] and H(pk) == pl[56:88], "key"
        so = at + 8 + pkl
        assert pl[so:so + sgl].hex() == c["signature"]
        assert H(pl[:so] + pl[so + sgl:]) == hdr[48:80], "content hash"
    assert H(prev + hdr[:80]) == hdr[80:112], "record hash"
    assert hdr[80:112].hex() == c["record_hash"]
    return int.from_bytes(pl[8:16], "little"), pl[24:56]
def node(l, r): return H(b"\x01" + l + r)
p = json.load(open(sys.argv[1]))
path = [bytes.fromhex(h) for h in p["path"]]
if p["proof"] == "maif-inclusion-v1":
    n, root = commit(p["commit"])
    i = p["block"]; assert p["tree_size"] == n and i < n
    r = H(b"\x00" + bytes.fromhex(p["leaf_record_hash"]))
    fn, sn = i, n - 1
    for h in path:
        assert sn > 0
        if fn & 1 or fn == sn:
            r = node(h, r)
            while not fn & 1 and fn: fn >>= 1; sn >>= 1
        else:
            r = node(r, h)
        fn >>= 1; sn >>= 1
    assert sn == 0 and r == root, "inclusion"
else:
    m, r1 = commit(p["from_commit"]); n, r2 = commit(p["to_commit"])
    assert (m, n) == (p["from_size"], p["to_size"]) and 0 < m < n
    if m & (m - 1) == 0: path = [r1] + path
    fn, sn = m - 1, n - 1
    while fn & 1: fn >>= 1; sn >>= 1
    fr = sr = path[0]
    for h in path[1:]:
        assert sn > 0
        if fn & 1 or fn == sn:
            fr = node(h, fr); sr = node(h, sr)
            while not fn & 1 and fn: fn >>= 1; sn >>= 1
        else:
            sr = node(sr, h)
        fn >>= 1; sn >>= 1
    assert sn == 0 and fr == r1 and sr == r2, "consistency"
print("python: ok")
PY

m keygen k.key; expect "keygen" 0
m keygen other.key; expect "keygen other" 0
m create a.maif --key k.key; expect "create" 0
for i in $(seq 0 12); do
  echo "entry $i" >in.txt
  m add a.maif --type text --text "entry $i" --key k.key; expect "add $i" 0
done

# inclusion: text summary, JSON, check-proof, pinned key, independent check
m prove a.maif 5; expect "prove text" 0
has "prove text" "^proof: *inclusion"
has "prove text" "^tree size: *13"
has "prove text" "^path: *4 hashes"
m prove a.maif 5 --json; expect "prove --json" 0
cp "$OUT" inc.json
if [ "$(wc -l <inc.json)" = 1 ]; then pass; else fail "prove --json is one line"; fi
m check-proof inc.json; expect "check-proof inclusion" 0
has "check-proof" "^ok: inclusion proof checks"
m check-proof inc.json --pubkey k.key.pub; expect "check-proof pinned" 0
m check-proof inc.json --pubkey other.key.pub; expect_err "check-proof other key" 1 "is not pinned"
m check-proof - <inc.json; expect "check-proof stdin" 0
if $PY check.py inc.json >/dev/null 2>&1; then pass; else fail "python checks the inclusion proof"; fi
m prove a.maif 2 --commit 4 --json; expect "prove --commit" 0
cp "$OUT" inc4.json
if grep -q '"tree_size":4' inc4.json; then pass; else fail "--commit 4 proves against 4 blocks"; fi
m check-proof inc4.json; expect "check-proof commit 4" 0
if $PY check.py inc4.json >/dev/null 2>&1; then pass; else fail "python checks commit 4"; fi

# consistency
m prove a.maif --from 3 --to 11; expect "prove consistency text" 0
has "consistency text" "^proof: *consistency"
has "consistency text" "^from size: *3"
m prove a.maif --from 3 --to 11 --json; expect "prove consistency" 0
cp "$OUT" con.json
m check-proof con.json --pubkey k.key.pub; expect "check-proof consistency" 0
has "check-proof consistency" "^ok: consistency proof checks"
if $PY check.py con.json >/dev/null 2>&1; then pass; else fail "python checks the consistency proof"; fi
m prove a.maif --from 6 --json; expect "prove --from only (to the last)" 0

# tampered proofs: one line, exit 1
sed 's/"block":5/"block":6/' inc.json >t1.json
m check-proof t1.json; expect_err "wrong index" 1 "does not lead from block 6"
sed 's/"tree_size":13/"tree_size":14/' inc.json >t2.json
m check-proof t2.json; expect_err "wrong size" 1 "tree_size 14 is not the commit's 13 blocks"
$PY -c 'import json,sys; p=json.load(open("inc.json")); h=p["path"][0]; p["path"][0]=("0" if h[0]!="0" else "1")+h[1:]; print(json.dumps(p))' >t3.json
m check-proof t3.json; expect_err "flipped path hash" 1 "audit path"
$PY -c 'import json; p=json.load(open("inc.json")); p["path"]=p["path"][:-1]; print(json.dumps(p))' >t4.json
m check-proof t4.json; expect_err "short path" 1 "audit path (3 hashes)"
$PY -c 'import json; p=json.load(open("inc.json")); c=p["commit"]; s=c["payload"]; i=len(s)-32-40; c["payload"]=s[:i]+("0" if s[i]!="0" else "1")+s[i+1:]; print(json.dumps(p))' >t5.json
m check-proof t5.json; expect_err "bad signature" 1 "bad signature"
$PY -c 'import json; p=json.load(open("con.json")); p["from_size"]=2; print(json.dumps(p))' >t6.json
m check-proof t6.json; expect_err "wrong from_size" 1 "from_size/to_size"

# bad input: exit 2
echo '{"proof":' >bad.json
m check-proof bad.json; expect_err "not JSON" 2 "not valid JSON"
echo '{"proof":"maif-inclusion-v1"}' >bad2.json
m check-proof bad2.json; expect_err "missing fields" 2 "proof: "
head -c 70000 /dev/zero | tr '\0' ' ' >big.json
m check-proof big.json; expect_err "too large" 2 "larger than 65536 bytes"
m check-proof missing.json; expect "missing proof file" 2
m check-proof; expect "check-proof without PROOF" 2
m prove a.maif 13; expect_err "block past the end" 2 "block 13 is not in the tree"
m prove a.maif 2 --commit 99; expect_err "no such commit" 2 "no commit 99"
m prove a.maif 5 --commit 3; expect_err "block after the commit" 2 "not in the tree of commit 3"
m prove a.maif --from 9 --to 4; expect_err "reversed commits" 2 "comes after"
m prove a.maif x; expect "BLOCK not a number" 2
id=$("$MAIF_BIN" ls a.maif --json | $PY -c 'import json,sys; print(json.load(sys.stdin)[5]["id"])')
m prove a.maif "$id" --json; expect "prove by block id" 0
if grep -q '"block":5' "$OUT"; then pass; else fail "block id resolves to index 5"; fi
m prove a.maif 0123456789abcdef0123456789abcdef; expect_err "unknown block id" 2 "no block with id"
m prove a.maif 1 --from 2; expect "both forms" 2
m prove a.maif; expect "no BLOCK" 2
m prove nofile.maif 0; expect "missing artifact" 2
echo "not maif" >junk.maif
m prove junk.maif 0; expect "not an artifact" 1
m prove --help; expect "prove --help" 0
m check-proof --help; expect "check-proof --help" 0
for f in "$ROOT"/tests/data/v21/sample_text.maif; do
  [ -f "$f" ] || continue
  m prove "$f" 0; expect_err "MAIF 2.1 refused" 2 "native artifact"
done

# RSA-PSS and P-256 commits: the proof names the algorithm and carries the
# key; check-proof checks it alone, pins it by the key file, and python
# checks the hashes and that the key is the one the signer field names
for alg in rsa-pss p256; do
  m keygen "$alg.key" --alg "$alg"; expect "keygen $alg" 0
  m create "$alg.maif" --key "$alg.key"; expect "create $alg" 0
  for i in $(seq 0 129); do echo "{\"type\":\"text\",\"text\":\"$alg $i\"}"; done >"$alg.jsonl"
  m append "$alg.maif" "$alg.jsonl" --key "$alg.key"; expect "append $alg" 0
  m add "$alg.maif" --type text --text "last" --key "$alg.key"; expect "add $alg" 0
  m prove "$alg.maif" 17; expect "prove $alg text" 0
  has "prove $alg text" "($alg)"
  m prove "$alg.maif" 17 --json; expect "prove $alg" 0
  cp "$OUT" "inc-$alg.json"
  if grep -q "\"alg\":\"$alg\"" "inc-$alg.json"; then pass; else fail "$alg proof names its algorithm"; fi
  m check-proof "inc-$alg.json"; expect "check-proof $alg" 0
  m check-proof "inc-$alg.json" --pubkey "$alg.key.pub"; expect "check-proof $alg pinned" 0
  m check-proof "inc-$alg.json" --pubkey k.key.pub; expect_err "check-proof $alg other key" 1 "is not pinned"
  if $PY check.py "inc-$alg.json" >/dev/null 2>&1; then pass; else fail "python checks the $alg inclusion proof"; fi
  m prove "$alg.maif" --from 1 --to 2 --json; expect "prove $alg consistency" 0
  cp "$OUT" "con-$alg.json"
  m check-proof "con-$alg.json" --pubkey "$alg.key.pub"; expect "check-proof $alg consistency" 0
  if $PY check.py "con-$alg.json" >/dev/null 2>&1; then pass; else fail "python checks the $alg consistency proof"; fi
  $PY -c 'import json,sys; p=json.load(open(sys.argv[1])); c=p["commit"]; s=c["signature"]; c["signature"]=s[:-1]+("0" if s[-1]!="0" else "1"); print(json.dumps(p))' "inc-$alg.json" >"t-$alg.json"
  m check-proof "t-$alg.json"; expect_err "$alg edited signature" 1 "\"signature\" does not match"
  $PY -c 'import json,sys; p=json.load(open(sys.argv[1])); c=p["commit"]; s=c["payload"]; i=len(s)-40; c["payload"]=s[:i]+("0" if s[i]!="0" else "1")+s[i+1:]; print(json.dumps(p))' "inc-$alg.json" >"t2-$alg.json"
  m check-proof "t2-$alg.json"; expect "$alg payload signature bytes edited" 1
done

# node records: a batch of 130 blocks completes a 128-leaf subtree; verify checks its node record
m verify rsa-pss.maif --pubkey rsa-pss.key.pub; expect "verify with node records" 0
m ls rsa-pss.maif --all; expect "ls --all" 0
has "ls --all shows the node record" "\[nodes\]"

harness_finish
