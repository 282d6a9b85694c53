#!/usr/bin/env bash
# CLI tests for signature algorithms and identities: `maif keygen --alg`,
# artifacts signed with RSA-PSS and ECDSA P-256 (and mixed with Ed25519),
# an independent check of their commit signatures by the openssl CLI, and
# the clear errors where only Ed25519 keys can go. Run from the repository
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

harness_finish
