#!/bin/bash
# test_content_hash.sh — `maif create --hash blake3` and `maif convert
# --hash`: artifacts whose blocks are hashed with BLAKE3. The stored
# content hashes are compared with b3sum (the BLAKE3 team's own
# implementation, Debian package b3sum) and sha256sum, so the library's
# BLAKE3 is checked against an independent one on real files.
HARNESS_NAME=content-hash
source "$(dirname "$0")/harness.bash"

if ! command -v b3sum >/dev/null; then
  echo "b3sum is missing: scripts/install-deps.sh installs it" >&2
  fail "b3sum present"
  harness_finish
  exit 1
fi

m keygen k
expect "keygen" 0

# payloads of odd sizes around BLAKE3's chunk and tree boundaries
sizes="0 1 1023 1024 1025 4097 65536 300001 1048577 3145728"
for n in $sizes; do
  head -c "$n" /dev/urandom >"p$n.bin"
done

m create b3.maif --key k --hash blake3
expect "create --hash blake3" 0
ok "create says so" out_has 'content hash blake3'
for n in $sizes; do
  m add b3.maif --type binary --file "p$n.bin" --key k
  expect "add $n bytes" 0
done
m info b3.maif
ok "info: content hash blake3" out_has '^content hash: +blake3$'
m info b3.maif --json
cp "$OUT" info.json
jcheck "info --json: content_hash" info.json 'd["content_hash"] == "blake3"'
m verify b3.maif
expect "verify a BLAKE3 artifact" 0

# every block's stored content hash is what b3sum computes of its bytes
m ls b3.maif --json
cp "$OUT" ls.json
i=0
for n in $sizes; do
  want=$(b3sum --no-names "p$n.bin")
  got=$("$PY" -c "import json,sys; print(json.load(open('ls.json'))[$i]['content_hash'])")
  if [ "$want" = "$got" ]; then pass; else fail "block $i ($n bytes): content hash $got, b3sum says $want"; fi
  i=$((i + 1))
done

# a default artifact stays SHA-256, and sha256sum agrees
m create s.maif --key k
m add s.maif --type binary --file p300001.bin --key k
m info s.maif
ok "info: content hash sha256 by default" out_has '^content hash: +sha256$'
m ls s.maif --json
cp "$OUT" ls2.json
want=$(sha256sum p300001.bin | cut -d' ' -f1)
jcheck "SHA-256 content hash matches sha256sum" ls2.json "d[0]['content_hash'] == '$want'"

# convert either way
m convert s.maif s3.maif --to native --hash blake3 --key k
expect "convert --hash blake3" 0
m info s3.maif
ok "the converted artifact is BLAKE3" out_has '^content hash: +blake3$'
m verify s3.maif
expect "the converted artifact verifies" 0
m convert b3.maif back.maif --to native --key k
expect "convert back to the default" 0
m info back.maif
ok "converted back: SHA-256" out_has '^content hash: +sha256$'
m verify back.maif
expect "converted back: verifies" 0

# bad arguments
m create x.maif --key k --hash md5
expect_err "create --hash md5" 2 'unknown content hash'
ok "nothing was created" test ! -e x.maif
m convert s.maif x21.maif --to 2.1 --hash blake3 --key k
expect_err "convert --to 2.1 --hash blake3" 2 'SHA-256 only'

# convert decodes every block and takes no keys: an encrypted block refuses
m keygen e
m create enc.maif --key k
m add enc.maif --type text --text "a secret" --encrypt --recipient e.pub --key k
m convert enc.maif enc3.maif --to native --hash blake3 --key k
expect_err "convert of an encrypted artifact to native" 3 'access denied'
ok "nothing was written" test ! -e enc3.maif

# a flipped payload byte deep in the 3 MiB block is found without any key
cp b3.maif bad.maif
off=$("$PY" -c "import json; b=json.load(open('ls.json'))[-1]; print(b['offset'])")
size=$(stat -c %s bad.maif)
"$PY" - "$off" <<'EOF'
import sys
off = int(sys.argv[1])
data = bytearray(open('bad.maif', 'rb').read())
pos = off + 112 + 2000000  # inside the last block's payload
data[pos] ^= 0x40
open('bad.maif', 'wb').write(data)
EOF
ok "the damaged file keeps its size" test "$(stat -c %s bad.maif)" = "$size"
m verify bad.maif
expect "verify finds the flipped byte" 1
ok "it names the content hash" out_has 'content hash mismatch'

harness_finish
