#!/usr/bin/env bash
# CLI tests for signature algorithms and identities: `maif keygen --alg`,
# artifacts signed with RSA-PSS and ECDSA P-256 (and mixed with Ed25519),
# an independent check of their commit signatures by the openssl CLI, and
# the clear errors where only Ed25519 keys can go; X.509 chains to a CA of
# our own, and their revocation by CRLs the openssl CLI makes. Run from the repository
# root:
#   MAIF_BIN=build/asan/maif bash tests/cli/test_identities.sh
# Ends with exactly one line "N passed, M failed".
HARNESS_NAME=identities
. "$(dirname "$0")/harness.bash"

# The last commit's signature area, signed message and key, from the file
# (FORMAT.md §5.6), written as msg.bin, sig.bin (DER for p256), pub.der.
cat >sigarea.py <<'PY'
import hashlib, struct, sys
b = open(sys.argv[1], "rb").read()
off = struct.unpack_from("<Q", b, len(b) - 16)[0]
hdr = b[off:off + 112]
assert hdr[0] == ord("C") and hdr[1] == 2, "not a version 2 commit"
size = struct.unpack_from("<Q", hdr, 8)[0]
p = b[off + 112:off + 112 + size]
nseg, nfr = struct.unpack_from("<II", p, 88)
at = 96 + 24 * nseg + 32 * nfr
alg, _, pkl, sgl, _ = struct.unpack_from("<BBHHH", p, at)
pk = p[at + 8:at + 8 + pkl]
sig = p[at + 8 + pkl:at + 8 + pkl + sgl]
assert hashlib.sha256(pk).digest() == p[56:88], "signer field is not SHA-256(pk)"
so = at + 8 + pkl
assert hashlib.sha256(p[:so] + p[so + sgl:]).digest() == hdr[48:80], "content hash"
open("msg.bin", "wb").write(b"MAIF-COMMIT-V1\0\0" + hdr[80:112])
open("pub.der", "wb").write(pk)
def der_int(x):
    v = x.lstrip(b"\0") or b"\0"
    if v[0] & 0x80: v = b"\0" + v
    return b"\x02" + bytes([len(v)]) + v
if alg == 3:
    body = der_int(sig[:32]) + der_int(sig[32:])
    sig = b"\x30" + bytes([len(body)]) + body
open("sig.bin", "wb").write(sig)
print({1: "ed25519", 2: "rsa-pss", 3: "p256"}[alg])
PY

# ---- keygen
m keygen --alg rsa-pss rsa.key
expect "keygen --alg rsa-pss" 0
ok "rsa-pss secret is PEM PKCS#8, mode 0600" bash -c "head -n1 rsa.key | grep -qx -- '-----BEGIN PRIVATE KEY-----' && [ \$(stat -c %a rsa.key) = 600 ]"
ok "rsa-pss key is 3072 bits" bash -c "openssl pkey -in rsa.key -noout -text 2>/dev/null | grep -q '3072 bit'"
ok "keygen prints the signer id" out_has '^rsa-pss key, signer id [0-9a-f]{64} '
m keygen --alg p256 ec.key
expect "keygen --alg p256" 0
ok "p256 public key is a PEM PUBLIC KEY on prime256v1" bash -c "openssl pkey -pubin -in ec.key.pub -noout -text 2>/dev/null | grep -q 'prime256v1'"
m keygen --alg ed25519 ed.key
expect "keygen --alg ed25519" 0
ok "ed25519 key keeps the one-line format" bash -c "grep -q '^maif-ed25519-secret:' ed.key"
m keygen --alg rsa-pss --bits 2048 rsa2k.key
expect "keygen --alg rsa-pss --bits 2048" 0
m keygen --alg dsa x.key
expect_err "keygen --alg dsa" 2 "--alg must be ed25519, rsa-pss or p256"
m keygen --alg p256 --bits 2048 y.key
expect_err "keygen --bits with p256" 2 "--bits applies to rsa-pss only"
m keygen --alg rsa-pss --bits 1024 z.key
expect_err "keygen --bits 1024" 2 "2048..8192"

# ---- artifacts signed with each algorithm
for a in rsa ec rsa2k; do
  m create $a.maif --key $a.key
  expect "create with $a key" 0
  m add $a.maif --key $a.key --type text --text "hello $a"
  expect "add with $a key" 0
  m verify $a.maif --pubkey $a.key.pub
  expect "verify $a artifact pinned to its .pub" 0
  m verify $a.maif --pubkey ed.key.pub
  expect "verify $a artifact pinned to another key" 1
  m verify $a.maif --json
  cp "$OUT" v.json
done
m verify ec.maif
ok "verify names the algorithm" out_has 'checked against the p256 key'
m verify ec.maif --json
cp "$OUT" v.json
jcheck "verify --json signer alg" v.json 'd["ok"] and d["signers"][0]["alg"]=="p256"'
m info rsa.maif
ok "an rsa-pss artifact has read version 3" out_has '^version: +3\.0'
m info ed.maif 2>/dev/null; m create ed.maif --key ed.key
m info ed.maif
ok "an ed25519 artifact keeps read version 2" out_has '^version: +2\.0'

# ---- independent check of the commit signatures by the openssl CLI
m create chk.maif --key rsa.key
"$PY" sigarea.py chk.maif >alg.txt 2>"$ERR"
ok "rsa-pss commit layout as documented" grep -qx rsa-pss alg.txt
ok "openssl verifies the rsa-pss commit signature (PSS, SHA-256, salt 32)" bash -c \
  "openssl dgst -sha256 -keyform DER -verify pub.der -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 -sigopt rsa_mgf1_md:sha256 -signature sig.bin msg.bin >/dev/null 2>&1"
m create chk2.maif --key ec.key
"$PY" sigarea.py chk2.maif >alg.txt 2>"$ERR"
ok "p256 commit layout as documented" grep -qx p256 alg.txt
ok "openssl verifies the p256 commit signature" bash -c \
  "openssl dgst -sha256 -keyform DER -verify pub.der -signature sig.bin msg.bin >/dev/null 2>&1"

# ---- tampering with the signature area
cp chk.maif bad.maif
"$PY" - bad.maif <<'PY'
import struct, sys
b = bytearray(open(sys.argv[1], "rb").read())
b[len(b) - 16 - 40] ^= 1   # inside the RSA signature
open(sys.argv[1], "wb").write(b)
PY
m verify bad.maif
expect "verify a flipped rsa-pss signature" 1
ok "one signature finding names the algorithm" out_has 'error: \[commit @0x[0-9a-f]+\] commit [0-9]+ at offset [0-9]+: rsa-pss signature does not verify'

# ---- mixed signers, and keys made by the openssl CLI
m add ed.maif --key rsa.key --type text --text "from rsa"
expect "append rsa-pss commit to an ed25519 artifact" 0
m add ed.maif --key ec.key --type text --text "from p256"
m add ed.maif --key ed.key --type text --text "from ed"
m verify ed.maif --json
cp "$OUT" v.json
jcheck "three signers, three algorithms" v.json 'd["ok"] and [s["alg"] for s in d["signers"]]==["ed25519","rsa-pss","p256"]'
openssl genpkey -algorithm ec -pkeyopt ec_paramgen_curve:P-256 -out ossl.pem 2>/dev/null
m create ossl.maif --key ossl.pem
expect "create with an openssl-made P-256 key" 0
openssl genpkey -algorithm ec -pkeyopt ec_paramgen_curve:P-384 -out p384.pem 2>/dev/null
m create p384.maif --key p384.pem
expect_err "a P-384 key is refused" 2 "P-256"
printf -- '-----BEGIN PRIVATE KEY-----\nnot base64 at all\n-----END PRIVATE KEY-----\n' >junk.pem
m create junk.maif --key junk.pem
expect_err "a malformed PEM key is refused" 2 "junk.pem"

# ---- where only Ed25519 goes
m add rsa.maif --key rsa.key --type text --text secret --encrypt
expect_err "encrypt to oneself with an rsa-pss key" 3 "cannot be a recipient"
m add ed.maif --key ed.key --type text --text secret --encrypt --recipient ec.key.pub
expect_err "an rsa/p256 .pub cannot be a recipient" 2 "p256 key cannot be a recipient"
m convert rsa.maif out.maif21 --to 2.1 --key rsa.key
ok "convert to MAIF 2.1 with an rsa-pss key is refused" bash -c "[ $rc = 2 ] && grep -q 'Ed25519 only' '$ERR'"

# ---- a torn version 2 commit: every cut of the last batch recovers to the commit before
m create torn.maif --key rsa2k.key
m add torn.maif --key rsa2k.key --type text --text one
cp torn.maif torn-base.maif
m add torn.maif --key rsa2k.key --type text --text two
"$PY" - "$MAIF_BIN" >torn.txt 2>&1 <<'PY'
import subprocess, sys
M = sys.argv[1]
full = open("torn.maif", "rb").read(); base = len(open("torn-base.maif", "rb").read())
bad = 0
for cut in range(base, len(full), 53):
    open("t.maif", "wb").write(full[:cut])
    r = subprocess.run([M, "recover", "t.maif"], capture_output=True)
    v = subprocess.run([M, "verify", "t.maif"], capture_output=True)
    l = subprocess.run([M, "ls", "t.maif"], capture_output=True, text=True)
    if r.returncode or v.returncode or len(l.stdout.strip().splitlines()) != 1 or b"Sanitizer" in r.stderr + v.stderr:
        bad += 1
        print("cut", cut, r.returncode, v.returncode)
print("bad", bad)
PY
ok "every cut of an rsa-pss commit batch recovers to the commit before" grep -qx "bad 0" torn.txt

# ---- X.509 chains: a CA of our own (root, intermediate, leaves) -----------
cat >ext.cnf <<'CNF'
[ v3_ca ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
[ v3_leaf ]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
[ v3_leaf_nods ]
basicConstraints = CA:FALSE
keyUsage = critical,keyEncipherment
CNF
mkdir -p ca/new && : >ca/index.txt && echo 1000 >ca/serial
cat >ca.cnf <<'CNF'
[ ca ]
default_ca = d
[ d ]
database = ca/index.txt
new_certs_dir = ca/new
serial = ca/serial
default_md = sha256
policy = p
unique_subject = no
[ p ]
commonName = supplied
CNF
ecgen() { openssl genpkey -algorithm ec -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
# sign CSR ISSUER EXT OUT [startdate enddate]: a certificate from the CA
sign() {
  if [ $# -gt 4 ]; then
    openssl ca -batch -config ca.cnf -cert "$2.pem" -keyfile "$2.key" -in "$1" -out "$4" -extfile ext.cnf \
      -extensions "$3" -startdate "$5" -enddate "$6" -notext >/dev/null 2>&1
  else
    openssl x509 -req -in "$1" -CA "$2.pem" -CAkey "$2.key" -set_serial "$RANDOM$RANDOM" -days 30 \
      -extfile ext.cnf -extensions "$3" -out "$4" 2>/dev/null
  fi
}
utc() { date -u -d "@$1" +%Y%m%d%H%M%SZ; }
ecgen root.key
openssl req -x509 -new -key root.key -subj /CN=Test-Root -days 30 -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" -out root.pem 2>/dev/null
ecgen int.key
openssl req -new -key int.key -subj /CN=Test-Intermediate -out int.csr 2>/dev/null
sign int.csr root v3_ca int.pem
ecgen other.key
openssl req -x509 -new -key other.key -subj /CN=Other-Root -days 30 -out other.pem 2>/dev/null
ok "test CA built with the openssl CLI" test -s int.pem

# maif csr: a request per algorithm, certified by the intermediate
for a in ed rsa ec; do
  m csr $a.key --subject "/CN=agent-$a/O=Test"
  expect "csr for the $a key" 0
  cp "$OUT" $a.csr
  ok "openssl accepts the $a request" bash -c "openssl req -in $a.csr -noout -verify >/dev/null 2>&1 && openssl req -in $a.csr -noout -subject | grep -q 'CN *= *agent-$a'"
  sign $a.csr int v3_leaf $a.crt
  cat $a.crt int.pem >$a.chain
  m create id-$a.maif --key $a.key
  m cert id-$a.maif $a.chain --key $a.key
  expect "cert attaches the $a chain" 0
  ok "cert prints the block" out_has '^0 [0-9a-f]{32}$'
  m verify id-$a.maif --ca root.pem
  expect "verify --ca with a valid $a chain" 0
done
m csr ec.key --subject "CN=no-slash"
expect_err "csr with a malformed subject" 2 "subject"
m csr ec.key
expect_err "csr without --subject" 2 "--subject is required"
m verify id-ec.maif --ca root.pem --json
cp "$OUT" v.json
jcheck "verify --ca --json ok" v.json 'd["ok"] and not any(f["code"].startswith("identity") for f in d["findings"])'

# an unknown root
m verify id-ec.maif --ca other.pem
expect "verify --ca with an unknown root" 1
ok "one unknown-issuer line" bash -c "[ \$(grep -c 'unknown issuer' '$OUT') = 1 ] && grep -q 'error: \[commit\] commit 0 (signer [0-9a-f]*\.\.\.): unknown issuer /CN=Test-Root' '$OUT'"

# a leaf without digitalSignature
sign ec.csr int v3_leaf_nods nods.crt
cat nods.crt int.pem >nods.chain
m create nods.maif --key ec.key
m cert nods.maif nods.chain --key ec.key
m verify nods.maif --ca root.pem
expect "verify --ca: leaf without digitalSignature" 1
ok "one key-usage line" bash -c "[ \$(grep -c 'error:' '$OUT') = 1 ] && grep -q 'key usage lacks digitalSignature' '$OUT'"

# expiry at signing time: a leaf valid for a few seconds; commits inside
# its validity verify after it expired, a commit after it does not
now=$(date -u +%s)
sign ec.csr int v3_leaf short.crt "$(utc $((now - 60)))" "$(utc $((now + 4)))"
cat short.crt int.pem >short.chain
m create exp.maif --key ec.key
m cert exp.maif short.chain --key ec.key
expect "attach a short-lived chain" 0
sleep 5
m verify exp.maif --ca root.pem
expect "commits signed while the leaf was valid still verify after it expired" 0
m add exp.maif --key ec.key --type text --text late
m verify exp.maif --ca root.pem
expect "a commit signed after expiry fails" 1
ok "one expiry line naming the commit and times" bash -c "[ \$(grep -c 'error:' '$OUT') = 1 ] && grep -qE 'commit 2 .*had expired at signing time [0-9T:-]+Z \(not after [0-9T:-]+Z\)' '$OUT'"
m verify exp.maif --ca root.pem --json
cp "$OUT" v.json
jcheck "verify --json: identity-expired" v.json 'not d["ok"] and [f["code"] for f in d["findings"] if f["severity"]=="error"]==["identity-expired"]'
# not yet valid at signing time
sign ec.csr int v3_leaf future.crt "$(utc $((now + 86400)))" "$(utc $((now + 172800)))"
cat future.crt int.pem >future.chain
m create fut.maif --key ec.key
m cert fut.maif future.chain --key ec.key
m verify fut.maif --ca root.pem
expect "a leaf not yet valid at signing time" 1
ok "one not-yet-valid line" bash -c "[ \$(grep -c 'error:' '$OUT') = 1 ] && grep -q 'was not yet valid at signing time' '$OUT'"

# a signer without a chain, and a chain for another key
cp id-ec.maif two.maif
m add two.maif --key rsa.key --type text --text "no chain"
m verify two.maif --ca root.pem
expect "a second signer without a chain" 1
ok "one no-chain line" bash -c "[ \$(grep -c 'error:' '$OUT') = 1 ] && grep -q 'commit 2: its rsa-pss signer [0-9a-f]*\.\.\. attached no certificate chain' '$OUT'"
m cert id-ec.maif rsa.chain --key ec.key
expect_err "cert refuses a chain for another key" 2 "is not for the signing key"
cp id-ec.maif mm.maif
m add mm.maif --key ec.key --type X5CH --file rsa.chain
m verify mm.maif --ca root.pem
expect "a chain block for another key" 1
ok "one key-mismatch line" bash -c "[ \$(grep -c 'error:' '$OUT') = 1 ] && grep -q 'chain block 1: the leaf certificate (/CN=agent-rsa/O=Test) is not for the key' '$OUT'"

# bad input: malformed PEM and DER, a loop, 100 levels
printf -- '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' >bad.pem
head -c 300 /dev/urandom >bad.der
m cert id-ec.maif bad.pem --key ec.key
expect_err "cert: malformed PEM" 2 "certificate 1 is malformed PEM or DER"
m cert id-ec.maif bad.der --key ec.key
expect_err "cert: malformed DER" 2 "certificate 1 is malformed PEM or DER"
m verify id-ec.maif --ca bad.pem
expect_err "verify --ca: malformed root file" 2 "root certificates: certificate 1 is malformed"
m verify id-ec.maif --ca nosuch.pem
expect "verify --ca: missing root file" 2
cat ec.crt int.pem int.pem >loop.chain
m cert id-ec.maif loop.chain --key ec.key
expect_err "cert: a chain with a loop" 2 "are the same (a loop)"
# a cross-signed loop: I1 issued by I2, I2 issued by I1, neither a root
ecgen i1.key; ecgen i2.key
openssl req -new -key i1.key -subj /CN=Loop-1 -out i1.csr 2>/dev/null
openssl req -new -key i2.key -subj /CN=Loop-2 -out i2.csr 2>/dev/null
openssl req -x509 -new -key i2.key -subj /CN=Loop-2 -days 30 -out i2.pem 2>/dev/null
sign i1.csr i2 v3_ca i1.pem
sign i2.csr i1 v3_ca i2x.pem
cp i2x.pem i2.pem
sign ec.csr i1 v3_leaf looped.crt
cat looped.crt i1.pem i2.pem >xloop.chain
m create xloop.maif --key ec.key
m cert xloop.maif xloop.chain --key ec.key
m verify xloop.maif --ca root.pem
expect "verify --ca: a cross-signed loop" 1
ok "one unknown-issuer line for the loop" bash -c "[ \$(grep -c 'error:' '$OUT') = 1 ] && grep -q 'unknown issuer' '$OUT'"
# 100 levels under the root
cp root.key l0.key; cp root.pem l0.pem
for i in $(seq 1 100); do
  ecgen l$i.key
  openssl req -new -key l$i.key -subj "/CN=Level-$i" -out l$i.csr 2>/dev/null
  sign l$i.csr l$((i - 1)) v3_ca l$i.pem
done
sign ec.csr l100 v3_leaf deep.crt
{ cat deep.crt; for i in $(seq 100 -1 1); do cat l$i.pem; done; } >deep.chain
m cert id-ec.maif deep.chain --key ec.key
expect_err "cert: a chain of 101 certificates is refused" 2 "more than 16 certificates"
cp id-ec.maif deep.maif
m add deep.maif --key ec.key --type X5CH --file deep.chain
m verify deep.maif --ca root.pem
expect "verify --ca: a 101-certificate chain block" 1
ok "one chain-limit line" bash -c "[ \$(grep -c 'error:' '$OUT') = 1 ] && grep -q 'chain block 1: certificate chain: more than 16 certificates' '$OUT'"
{ cat deep.crt; for i in $(seq 100 -1 86); do cat l$i.pem; done; } >deep16.chain
m create deep16.maif --key ec.key
m cert deep16.maif deep16.chain --key ec.key
expect "cert: 16 certificates are within the bound" 0
m verify deep16.maif --ca root.pem
expect "verify --ca: 16 certificates that do not reach the root" 1
ok "one unknown-issuer line for the cut chain" bash -c "[ \$(grep -c 'error:' '$OUT') = 1 ] && grep -q 'unknown issuer /CN=Level-85' '$OUT'"

# ---- revocation: CRLs made by `openssl ca` (one database per CA) -----------
mkcadb() { # mkcadb NAME: a CA database and its config NAME.cnf
  mkdir -p "$1/new" && : >"$1/index.txt" && echo 2000 >"$1/serial" && echo 01 >"$1/crlnumber"
  printf '[ ca ]\ndefault_ca = d\n[ d ]\ndatabase = %s/index.txt\nnew_certs_dir = %s/new\nserial = %s/serial\ncrlnumber = %s/crlnumber\ndefault_md = sha256\ndefault_crl_days = 7\npolicy = p\nunique_subject = no\n[ p ]\ncommonName = supplied\n' \
    "$1" "$1" "$1" "$1" >"$1.cnf"
}
mkcadb rootdb
mkcadb intdb
# leaf LABEL: a P-256 key, certified by the intermediate through its database, and an artifact signed with it
leaf() {
  ecgen "$1.key"
  openssl req -new -key "$1.key" -subj "/CN=$1" -out "$1.csr" 2>/dev/null
  openssl ca -batch -config intdb.cnf -cert int.pem -keyfile int.key -in "$1.csr" -out "$1.crt" -extfile ext.cnf \
    -extensions v3_leaf -days 30 -notext >/dev/null 2>&1
  cat "$1.crt" int.pem >"$1.chain"
  "$MAIF_BIN" create "$1.maif" --key "$1.key" >/dev/null 2>&1
  "$MAIF_BIN" cert "$1.maif" "$1.chain" --key "$1.key" >/dev/null 2>&1
}
gencrl() { # gencrl DB ISSUER OUT [extra openssl ca options]
  local db=$1 iss=$2 out=$3
  shift 3
  openssl ca -batch -config "$db.cnf" -cert "$iss.pem" -keyfile "$iss.key" -gencrl -out "$out" "$@" >/dev/null 2>&1
}
leaf good
leaf compromised
leaf superseded
leaf late
openssl ca -batch -config intdb.cnf -cert int.pem -keyfile int.key -revoke compromised.crt -crl_reason keyCompromise >/dev/null 2>&1
sleep 1
openssl ca -batch -config intdb.cnf -cert int.pem -keyfile int.key -revoke superseded.crt -crl_reason superseded >/dev/null 2>&1
openssl ca -batch -config intdb.cnf -cert int.pem -keyfile int.key -revoke late.crt -crl_reason superseded >/dev/null 2>&1
sleep 1
"$MAIF_BIN" add late.maif --key late.key --type text --text "signed after the revocation" >/dev/null 2>&1
gencrl intdb int int.crl
gencrl rootdb root root.crl
ok "CRLs made with the openssl CLI" bash -c "openssl crl -in int.crl -noout -text 2>/dev/null | grep -q 'Key Compromise'"
cat int.crl root.crl >crls.pem
m verify good.maif --ca root.pem --crl crls.pem
expect "verify --ca --crl: a chain no CRL revokes" 0
m verify good.maif --ca root.pem --crl crls.pem --json
cp "$OUT" v.json
jcheck "... and no identity finding" v.json 'd["ok"] and not any(f["code"].startswith("identity") for f in d["findings"])'
openssl crl -in crls.pem -outform DER -out int.der 2>/dev/null
openssl crl -in root.crl -outform DER -out root.der 2>/dev/null
cat int.der root.der >crls.der
m verify good.maif --ca root.pem --crl crls.der
expect "verify --crl with DER CRLs back to back" 0
m verify good.maif --ca root.pem --crl int.crl
expect "verify --crl without the root's CRL" 1
ok "one crl-missing line naming the intermediate" bash -c "[ \$(grep -c 'error:' '$OUT') = 1 ] && grep -q 'no CRL of /CN=Test-Root was given, so certificate /CN=Test-Intermediate cannot be checked' '$OUT'"
m verify compromised.maif --ca root.pem --crl crls.pem
expect "verify --crl: a leaf revoked for keyCompromise" 1
ok "identity-revoked, whatever the commit's time" bash -c "grep -q 'error: .*certificate /CN=compromised was revoked at .* (keyCompromise): a compromised key could have signed with any timestamp' '$OUT'"
m verify superseded.maif --ca root.pem --crl crls.pem --json
cp "$OUT" v.json
jcheck "revoked (superseded) after the commit: a warning, the file passes" v.json 'd["ok"] and [f["code"] for f in d["findings"] if f["code"].startswith("identity")] == ["identity-revoked-later"] and [f["severity"] for f in d["findings"] if f["code"].startswith("identity")] == ["warning"]'
m verify late.maif --ca root.pem --crl crls.pem
expect "verify --crl: a commit signed after its certificate was revoked" 1
ok "identity-revoked before the commit's time" bash -c "grep -q 'certificate /CN=late was revoked at .* (superseded), before the commit.s signing time' '$OUT'"
# a CRL under the intermediate's name, signed by another key, does not count
openssl req -x509 -new -key other.key -subj /CN=Test-Intermediate -days 30 -out fakeint.pem 2>/dev/null
mkcadb fakedb
openssl ca -batch -config fakedb.cnf -cert fakeint.pem -keyfile other.key -gencrl -out fake.crl >/dev/null 2>&1
cat fake.crl root.crl >fakecrls.pem
m verify compromised.maif --ca root.pem --crl fakecrls.pem
expect "a forged CRL is no CRL" 1
ok "... crl-missing, saying one did not verify" bash -c "grep -q 'no CRL of /CN=Test-Intermediate verifies with its key (one that names it does not)' '$OUT'"
# a stale CRL (nextUpdate in the past)
gencrl intdb int stale.crl -crl_lastupdate 20200101000000Z -crl_nextupdate 20200108000000Z
cat stale.crl root.crl >stalecrls.pem
m verify good.maif --ca root.pem --crl stalecrls.pem --json
cp "$OUT" v.json
jcheck "a CRL past its nextUpdate: a warning" v.json 'any(f["code"]=="identity-crl-stale" and f["severity"]=="warning" for f in d["findings"])'
m verify good.maif --ca root.pem --crl ext.cnf
expect_err "verify --crl: not a CRL file" 2 "CRLs: CRL 1 is malformed PEM or DER"
m verify good.maif --crl crls.pem
expect_err "verify --crl without --ca" 2 "give --ca"

# ---- trusted timestamps (RFC 3161): a TSA of our own, run by `openssl ts -reply` -----------
# The TSA's root and certificate start two hours back, so that a TSA run an
# hour in the past (faketime) signs with a valid certificate too.
cat >tsaext.cnf <<'CNF'
[ tsa_ext ]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = critical,timeStamping
CNF
ecgen tsaroot.key
ecgen tsa.key
faketime '-2 hours' openssl req -x509 -new -key tsaroot.key -subj /CN=TSA-Root -days 30 -out tsaroot.pem 2>/dev/null
openssl req -new -key tsa.key -subj /CN=Test-TSA -out tsa.csr 2>/dev/null
faketime '-2 hours' openssl x509 -req -in tsa.csr -CA tsaroot.pem -CAkey tsaroot.key -set_serial 77 -days 30 \
  -extfile tsaext.cnf -extensions tsa_ext -out tsa.pem 2>/dev/null
echo 01 >tsaserial
cat >tsa.cnf <<'CNF'
[ tsa ]
default_tsa = t
[ t ]
serial = ./tsaserial
signer_cert = ./tsa.pem
certs = ./tsa.pem
signer_key = ./tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256
accuracy = secs:1
ess_cert_id_alg = sha256
CNF
tsreply() { openssl ts -reply -config tsa.cnf -queryfile "$1" -out "$2" >/dev/null 2>&1; }
ok "a TSA made with the openssl CLI" test -s tsa.pem
m timestamp good.maif --query q.tsq
expect "timestamp --query" 0
# the imprint is SHA-256 of the last commit's signed message, computed here on our own
cat >imprint.py <<'PY'
import hashlib, struct, sys
b = open(sys.argv[1], "rb").read()
off = struct.unpack_from("<Q", b, len(b) - 16)[0]
print(hashlib.sha256(b"MAIF-COMMIT-V1\0\0" + b[off + 80:off + 112]).hexdigest())
PY
want=$("$PY" imprint.py good.maif)
got=$(openssl ts -query -in q.tsq -text 2>/dev/null | sed -n '/Message data/,/Policy/p' | grep -E '^ +[0-9a-f]{4} - ' | sed -E 's/^ +[0-9a-f]{4} - //; s/   .*//; s/[ -]//g' | tr -d '\n')
ok "the request's imprint is SHA-256 of the commit's signed message" test "$want" = "$got"
ok "openssl reads the request: sha256, a nonce, the certificate asked for" bash -c "openssl ts -query -in q.tsq -text 2>/dev/null | grep -q 'Hash Algorithm: sha256' && openssl ts -query -in q.tsq -text 2>/dev/null | grep -q 'Certificate required: yes'"
tsreply q.tsq r.tsr
ok "openssl verifies its own response to the request" bash -c "openssl ts -verify -in r.tsr -queryfile q.tsq -CAfile tsaroot.pem >/dev/null 2>&1"
m timestamp good.maif --attach r.tsr --key good.key
expect "timestamp --attach" 0
ok "attach names the stamped commit" out_has '^[0-9]+ [0-9a-f]{32} stamps commit 1$'
m verify good.maif --tsa-ca tsaroot.pem
expect "verify --tsa-ca" 0
ok "an info line per token" bash -c "grep -q 'info: .*time-stamp block 1: commit 1, and everything before it, existed by .* (TSA /CN=Test-TSA)' '$OUT'"
m verify good.maif --ca root.pem --crl crls.pem --tsa-ca tsaroot.pem
expect "verify --ca --crl --tsa-ca together" 0
m verify good.maif --tsa-ca other.pem --json
cp "$OUT" v.json
jcheck "a token under another root: timestamp-invalid" v.json 'not d["ok"] and [f["code"] for f in d["findings"] if f["code"].startswith("timestamp")] == ["timestamp-invalid"]'
# a response for another artifact's commit, a rejected request, not a response at all
m timestamp compromised.maif --query q2.tsq
tsreply q2.tsq r2.tsr
m timestamp good.maif --attach r2.tsr --key good.key
expect_err "attach a token for another artifact" 2 "stamps another digest"
openssl ts -query -data imprint.py -sha1 -out q3.tsq 2>/dev/null
tsreply q3.tsq r3.tsr
m timestamp good.maif --attach r3.tsr --key good.key
expect_err "attach a rejected response" 2 "status rejection, no token"
m timestamp good.maif --attach imprint.py --key good.key
expect_err "attach something that is not a response" 2 "not an RFC 3161 time-stamp response or token"
m timestamp good.maif
expect_err "timestamp without --query or --attach" 2 "give --query OUT or --attach RESP"
m verify good.maif --tsa-ca ext.cnf
expect_err "verify --tsa-ca: not a certificate file" 2 "TSA root certificates"
# hostile blocks of type TSTK: garbage, and a real token for another artifact's commit
cp good.maif hostile.maif
m add hostile.maif --key good.key --type TSTK --file imprint.py
openssl ts -reply -in r2.tsr -token_out -out tok2.der >/dev/null 2>&1
m add hostile.maif --key good.key --type TSTK --file tok2.der
m verify hostile.maif --tsa-ca tsaroot.pem --json
cp "$OUT" v.json
jcheck "garbage and a foreign token: timestamp-invalid and timestamp-no-commit" v.json 'not d["ok"] and sorted(f["code"] for f in d["findings"] if f["code"].startswith("timestamp-")) == ["timestamp-invalid", "timestamp-no-commit"]'
# a TSA whose clock is an hour behind the commit's claim: a warning
m timestamp hostile.maif --query q4.tsq
faketime '-1 hour' openssl ts -reply -config tsa.cnf -queryfile q4.tsq -out r4.tsr >/dev/null 2>&1
cp good.maif clock.maif
m timestamp good.maif --query q5.tsq
faketime '-1 hour' openssl ts -reply -config tsa.cnf -queryfile q5.tsq -out r5.tsr >/dev/null 2>&1
m timestamp clock.maif --attach r5.tsr --key good.key
m verify clock.maif --tsa-ca tsaroot.pem --json
cp "$OUT" v.json
jcheck "a commit claiming a time after its TSA saw it: timestamp-clock" v.json 'd["ok"] and any(f["code"]=="timestamp-clock" and f["severity"]=="warning" for f in d["findings"])'

# a timestamp made before the signer's certificate was revoked keeps its commits valid, even for keyCompromise
leaf stamped
m timestamp stamped.maif --query qs.tsq
tsreply qs.tsq rs.tsr
m timestamp stamped.maif --attach rs.tsr --key stamped.key
expect "stamp a commit of the signer's" 0
sleep 2
openssl ca -batch -config intdb.cnf -cert int.pem -keyfile int.key -revoke stamped.crt -crl_reason keyCompromise >/dev/null 2>&1
gencrl intdb int int2.crl
cat int2.crl root.crl >crls2.pem
m verify stamped.maif --ca root.pem --crl crls2.pem
expect "revoked for keyCompromise after the commit, no timestamp: fails" 1
ok "... saying so" bash -c "grep -q 'without a trusted timestamp before it' '$OUT'"
m verify stamped.maif --ca root.pem --crl crls2.pem --tsa-ca tsaroot.pem
expect "the same, with the commit's trusted timestamp before the revocation: passes" 0
m add stamped.maif --key stamped.key --type text --text "signed after the revocation"
m verify stamped.maif --ca root.pem --crl crls2.pem --tsa-ca tsaroot.pem
expect "a later commit without a timestamp still fails" 1
ok "... only that commit (the one that stores the token is not failed)" bash -c "[ \$(grep -c 'error:' '$OUT') = 1 ] && grep -q 'error: .*commit 3 .*keyCompromise' '$OUT'"

harness_finish
