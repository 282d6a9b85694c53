#!/usr/bin/env bash
# CLI tests for signing on a PKCS#11 token: a SoftHSM 2.6 token in a
# temporary directory (SOFTHSM2_CONF), key pairs generated on it by
# pkcs11-tool (Ed25519, P-256, RSA), artifacts signed through it with
# `--pkcs11 MODULE --token LABEL --key-label L` and verified against the
# public key exported from the token; and the clear errors: a missing
# module, a file that is not a module, a module whose calls fail, a wrong
# PIN, no PIN, a missing token or key. Then a keystore whose master key
# is on the token (maif add --shreddable --keystore-pkcs11 MODULE
# --keystore-token LABEL): cat, shred and rotate with its PIN, the old
# token key destroyed on every erasure (pkcs11-tool counts them), a
# backup of the keystore and master file opening nothing after a shred,
# and the errors. Run from the repository root:
#   MAIF_BIN=build/asan/maif bash tests/cli/test_pkcs11.sh
# Ends with exactly one line "N passed, M failed".
HARNESS_NAME=pkcs11
. "$(dirname "$0")/harness.bash"

MOD=""
for d in /usr/lib/softhsm /usr/lib/x86_64-linux-gnu/softhsm /usr/lib/aarch64-linux-gnu/softhsm; do
  [ -e "$d/libsofthsm2.so" ] && MOD="$d/libsofthsm2.so" && break
done
if [ -z "$MOD" ] || ! command -v pkcs11-tool >/dev/null || ! command -v softhsm2-util >/dev/null; then
  echo "test_pkcs11: softhsm2 or opensc not installed (scripts/install-deps.sh installs them)" >&2
  harness_finish
  exit $?
fi
# SoftHSM's own OpenSSL use leaks a few bytes per signature and at
# initialisation, inside the module: suppress leaks whose stack passes
# through our calls into it (full stacks are needed to see that), or
# through the module itself (a frame in libsofthsm2.so).
printf 'leak:maif_p11_sign\nleak:maif_p11_open\nleak:maif_p11_close\nleak:libsofthsm2.so\n' >"$T/lsan.supp"
export LSAN_OPTIONS="suppressions=$T/lsan.supp:print_suppressions=0"
export ASAN_OPTIONS="${ASAN_OPTIONS}:fast_unwind_on_malloc=0"

mkdir -p tokens
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' "$T" >softhsm2.conf
export SOFTHSM2_CONF="$T/softhsm2.conf"
softhsm2-util --init-token --free --label maif-test --pin 123456 --so-pin 654321 >/dev/null 2>&1
ok "SoftHSM token initialised in a temporary directory" bash -c "ls tokens | grep -q ."
p11() { pkcs11-tool --module "$MOD" --token-label maif-test "$@" >/dev/null 2>&1; }
p11 --login --pin 123456 --keypairgen --key-type EC:edwards25519 --label ed
ok "Ed25519 key pair generated on the token" test $? = 0
p11 --login --pin 123456 --keypairgen --key-type EC:prime256v1 --label ec
p11 --login --pin 123456 --keypairgen --key-type rsa:2048 --label rsa
echo 123456 >pin
echo 000000 >wrongpin

for l in ed ec rsa; do
  m create $l.maif --pkcs11 "$MOD" --token maif-test --key-label $l --pin-file pin
  expect "create signed on the token ($l)" 0
  m add $l.maif --pkcs11 "$MOD" --token maif-test --key-label $l --pin-file pin --type text --text "hello $l"
  expect "add signed on the token ($l)" 0
  printf '{"type":"text","text":"a"}\n{"type":"text","text":"b"}\n' >in.jsonl
  MAIF_PKCS11_PIN=123456 m append $l.maif in.jsonl --pkcs11 "$MOD" --token maif-test --key-label $l
  expect "append signed on the token, PIN from the environment ($l)" 0
  pkcs11-tool --module "$MOD" --token-label maif-test --read-object --type pubkey --label $l -o $l.exp >/dev/null 2>&1
  if head -c 10 $l.exp | grep -q -- '-----'; then cp $l.exp $l.pub; else openssl pkey -pubin -inform DER -in $l.exp -out $l.pub 2>/dev/null; fi
  m verify $l.maif --pubkey $l.pub
  expect "verify against the public key exported from the token ($l)" 0
done
m verify ed.maif --json
cp "$OUT" v.json
jcheck "token-signed Ed25519 commits are ordinary Ed25519 commits" v.json 'd["ok"] and d["signers"][0]["alg"]=="ed25519" and d["blocks"]==3'
m verify ec.maif --json
cp "$OUT" v.json
jcheck "token-signed P-256 commits" v.json 'd["ok"] and d["signers"][0]["alg"]=="p256"'
m verify rsa.maif --json
cp "$OUT" v.json
jcheck "token-signed RSA-PSS commits" v.json 'd["ok"] and d["signers"][0]["alg"]=="rsa-pss"'
ok "openssl agrees with the RSA key on the token" bash -c "openssl pkey -pubin -in rsa.pub -noout -text 2>/dev/null | grep -q '2048 bit'"

# ---- errors, one line each
m create e1.maif --pkcs11 "$T/nosuch.so" --token maif-test --key-label ed --pin-file pin
expect_err "a missing module" 2 "cannot load the PKCS#11 module"
ok "nothing created after an error" test ! -e e1.maif
m create e2.maif --pkcs11 /lib/x86_64-linux-gnu/libc.so.6 --token maif-test --key-label ed --pin-file pin
expect_err "a library that is not a PKCS#11 module" 2 "not a PKCS#11 module"
m create e3.maif --pkcs11 "$MOD" --token maif-test --key-label ed --pin-file wrongpin
expect_err "a wrong PIN" 3 "C_Login failed: CKR_PIN_INCORRECT"
m create e4.maif --pkcs11 "$MOD" --token nosuch --key-label ed --pin-file pin
expect_err "no such token" 3 "no token labelled 'nosuch'"
m create e5.maif --pkcs11 "$MOD" --token maif-test --key-label nosuch --pin-file pin
expect_err "no such key" 3 "holds no private key labelled 'nosuch'"
env -u MAIF_PKCS11_PIN "$MAIF_BIN" create e6.maif --pkcs11 "$MOD" --token maif-test --key-label ed >"$OUT" 2>"$ERR"
rc=$?
expect_err "no PIN" 2 "no PIN"
m create e7.maif --pkcs11 "$MOD" --key-label ed --pin-file pin
expect_err "--pkcs11 without --token" 2 "needs --token"
m create e8.maif --key pin --pkcs11 "$MOD" --token maif-test --key-label ed --pin-file pin
expect_err "--key and --pkcs11 together" 2 "exclusive"
m create e9.maif --token maif-test
expect_err "--token without --pkcs11" 2 "go with --pkcs11"
# a module whose calls fail: SoftHSM pointed at a configuration it cannot use
printf 'directories.tokendir = %s/no/such/dir\nobjectstore.backend = file\n' "$T" >bad.conf
SOFTHSM2_CONF="$T/bad.conf" m create e10.maif --pkcs11 "$MOD" --token maif-test --key-label ed --pin-file pin
ok "a module that returns errors: one line, exit 3" bash -c "[ $rc = 3 ] && [ \$(wc -l <'$ERR') = 1 ] && grep -q '^maif: .*PKCS#11 C_' '$ERR'"
m add ed.maif --pkcs11 "$MOD" --token maif-test --key-label ed --pin-file pin --type text --text s --encrypt
expect_err "a token key cannot be an encryption recipient" 3 "cannot be a recipient here"

# ---- a keystore whose master key is on the token
keys_on_token() { # the keystore keys (label maif-keystore-*) on the token
  pkcs11-tool --module "$MOD" --token-label maif-test --login --pin 123456 --list-objects --type secrkey 2>/dev/null |
    grep -c 'label: *maif-keystore-'
}
"$MAIF_BIN" keygen owner.key >/dev/null 2>&1
m create ks.maif --key owner.key
m add ks.maif --key owner.key --type text --text "forget me" --encrypt --shreddable \
  --keystore-pkcs11 "$MOD" --keystore-token maif-test --keystore-pin-file pin
expect "add --shreddable creates the keystore with its master key on the token" 0
masterf=$(ls "$MAIF_HOME"/masters/*.master 2>/dev/null | head -n1)
for f in "$MAIF_HOME"/masters/*.master; do grep -q MKP1 "$f" && masterf=$f; done
ok "the master file holds the sealed form (MKP1) and names the token" bash -c "head -c 4 '$masterf' | grep -q MKP1 && grep -q maif-test '$masterf'"
ok "one keystore key on the token" test "$(keys_on_token)" = 1
MAIF_KEYSTORE_PIN=123456 m add ks.maif --key owner.key --type text --text "keep me" --encrypt chacha20 --shreddable
expect "a second shreddable block, PIN from \$MAIF_KEYSTORE_PIN" 0
m cat ks.maif 0 --keystore-pin-file pin
ok "cat with the keystore's PIN" bash -c "[ $rc = 0 ] && [ \"\$(cat '$OUT')\" = 'forget me' ]"
env -u MAIF_KEYSTORE_PIN "$MAIF_BIN" cat ks.maif 0 >"$OUT" 2>"$ERR"
rc=$?
expect_err "cat without the keystore's PIN" 2 "a PIN is needed.*--keystore-pin-file"
m cat ks.maif 0 --keystore-pin-file wrongpin
expect_err "cat with a wrong keystore PIN" 3 "CKR_PIN_INCORRECT"
ok "nothing written on a wrong PIN" test ! -s "$OUT"
m add ks.maif --key owner.key --type text --text x --encrypt --shreddable --keystore-pkcs11 "$MOD" \
  --keystore-token maif-test --keystore-pin-file pin
expect_err "--keystore-pkcs11 on a keystore that exists" 2 "exists: its master key stays"
m add ks.maif --key owner.key --type text --text x --encrypt --keystore-pin-file pin
expect_err "--keystore-pin-file without --shreddable" 2 "go with --shreddable"
m add ks.maif --key owner.key --type text --text x --encrypt --shreddable --keystore-pkcs11 "$MOD" --keystore-pin-file pin
expect_err "--keystore-pkcs11 without --keystore-token" 2 "go together"
m create ks2.maif --key owner.key
m add ks2.maif --key owner.key --type text --text x --encrypt --shreddable --keystore-pkcs11 "$MOD" \
  --keystore-token nosuch --keystore-pin-file pin
expect_err "a keystore on a token that does not exist" 3 "no token labelled 'nosuch'"
ok "nothing added after a keystore error" bash -c "! '$MAIF_BIN' cat ks2.maif 0 >/dev/null 2>&1"
env -u MAIF_KEYSTORE_PIN "$MAIF_BIN" add ks2.maif --key owner.key --type text --text x --encrypt --shreddable \
  --keystore-pkcs11 "$MOD" --keystore-token maif-test >"$OUT" 2>"$ERR"
rc=$?
expect_err "a keystore on a token, no PIN" 2 "no PIN for token 'maif-test'"

m create ks3.maif --key owner.key
MAIF_KEYSTORE_PIN=123456 m add ks3.maif --key owner.key --type text --text plain-master --encrypt --shreddable
expect "a PIN in the environment does not put a new keystore on a token" 0
MAIF_KEYSTORE_PIN=123456 m cat ks3.maif 0
ok "... and that keystore opens with or without it" bash -c "[ $rc = 0 ] && '$MAIF_BIN' cat ks3.maif 0 | grep -q plain-master"

# a backup of the keystore and its master file, then the erasure
cp ks.maif.keystore old.keystore
cp "$masterf" old.master
m shred ks.maif 0 --key owner.key --keystore-pin-file pin
expect "shred with the master key on the token" 0
ok "still one keystore key on the token: the old one is destroyed" test "$(keys_on_token)" = 1
m cat ks.maif 0 --keystore-pin-file pin
expect_err "the shredded block opens no more" 3 "access denied"
m cat ks.maif 1 --keystore-pin-file pin
ok "the other block still opens" bash -c "[ $rc = 0 ] && [ \"\$(cat '$OUT')\" = 'keep me' ]"
m verify ks.maif
expect "verify passes after the shred" 0
cp ks.maif.keystore now.keystore
cp "$masterf" now.master
cp old.keystore ks.maif.keystore
cp old.master "$masterf"
m cat ks.maif 0 --keystore-pin-file pin
expect_err "the backup (keystore and master file) opens nothing, PIN given" 3 "access denied"
cp now.keystore ks.maif.keystore
cp now.master "$masterf"
m rotate ks.maif --key owner.key --keystore-pin-file pin
ok "rotate replaces the token key" bash -c "[ $rc = 0 ] && grep -q 'keystore master key replaced' '$OUT' && [ \$(pkcs11-tool --module '$MOD' --token-label maif-test --login --pin 123456 --list-objects --type secrkey 2>/dev/null | grep -c 'label: *maif-keystore-') = 1 ]"
m cat ks.maif 1 --keystore-pin-file pin
ok "the block still opens after the rotation" bash -c "[ $rc = 0 ] && [ \"\$(cat '$OUT')\" = 'keep me' ]"
env -u MAIF_KEYSTORE_PIN "$MAIF_BIN" shred ks.maif 1 --key owner.key >"$OUT" 2>"$ERR"
rc=$?
expect_err "shred without the keystore's PIN" 2 "a PIN is needed"

harness_finish
