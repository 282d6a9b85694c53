#!/usr/bin/env bash
# The maif demo: one agent session, end to end.
# An agent writes its memory (text, an image, structured data, embeddings)
# with metadata, commits it as signed batches (a long note compressed with
# zstd, a private one encrypted for its own key), lists and reads it back,
# verifies it against its pinned key, and then we play attacker: tamper with
# a copy and watch verification catch it. Finally the artifact goes to the
# MAIF 2.1 format of the original implementation and back, an archive copy
# takes BLAKE3 content hashes (checked with b3sum), a note is erased on
# request (crypto-shredding, its keystore's master key on a SoftHSM
# token), a time-stamp authority vouches for when it existed (RFC 3161),
# and a remote agent appends through `maif serve` (HTTP, durable group
# commit).
# Usage: demo/demo.sh [path/to/maif]
set -u
MAIF=${1:-build/release/maif}
MAIF=$(cd "$(dirname "$MAIF")" && pwd)/$(basename "$MAIF")
work=$(mktemp -d /tmp/maif-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT
export MAIF_HOME="$work/home"
cd "$work"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
expect_rc() { # expect_rc CODE cmd...: runs, shows output, checks the exit code
  local want=$1; shift
  printf '$ %s\n' "$*"; "$@"; local rc=$?
  if [ "$rc" != "$want" ]; then echo "demo: expected exit $want, got $rc" >&2; exit 1; fi
  echo "(exit $rc, as expected)"
}

step "1. The agent gets a signing key"
run "$MAIF" keygen agent.key || exit 1
ls -l agent.key agent.key.pub | awk '{print $1, $NF}'

step "2. It creates its memory artifact"
run "$MAIF" create memory.maif --key agent.key --agent research-assistant-7 || exit 1

step "3. A conversation turn: text with metadata (one commit)"
run "$MAIF" add memory.maif --key agent.key --type text \
  --text "User asked for a summary of the Q3 incident report; I found three root causes." \
  --meta '{"source":"chat","privacy":"internal","session":"s-42"}' || exit 1

step "4. A batch of mixed memories in one transaction: image, JSON, embeddings, knowledge"
base64 -d > chart.png <<'PNG'
iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSncAAAAbUlEQVR4nBXOUREAUQhCUaMYhShEMcqNQhSi7Fs/OQzjzLCDBg83MGToMLPsosXLLSxZug/ECgmLE4iI6oFZI2NzBhNTPzj20OHjDo4cvQf/7Bt41Rf+F+h7YsIGBYfLHyc0D8oWFZfrX05p+QDeqGABsIj8kAAAAABJRU5ErkJggg==
PNG
cat > batch.jsonl <<'JSONL'
{"type":"image","file":"chart.png","meta":{"source":"tool:plot","caption":"incident timeline","privacy":"internal"}}
{"type":"json","text":"{\"root_causes\":[\"expired certificate\",\"retry storm\",\"missing alert\"],\"severity\":2}","meta":{"source":"analysis"}}
{"type":"embedding","vector":[[0.12,-0.40,0.33,0.91],[0.05,0.22,-0.17,0.48]],"meta":{"model":"demo-4d","source":"embedder"}}
{"type":"knowledge","text":"[[\"retry storm\",\"caused_by\",\"expired certificate\"]]","meta":{"source":"analysis"}}
JSONL
run cat batch.jsonl
run "$MAIF" append memory.maif batch.jsonl --key agent.key || exit 1

step "4b. Long notes are compressed on the way in (zstd), and read back as written"
for i in $(seq 1 40); do echo "Observation $i: the retry storm started when the certificate expired; alerts were missing."; done > notes.txt
run "$MAIF" add memory.maif --key agent.key --type text --file notes.txt --compress zstd \
  --meta '{"source":"agent-notes"}' || exit 1
run "$MAIF" ls memory.maif
"$MAIF" cat memory.maif 5 | cmp - notes.txt && echo "block 5 decodes byte-identical to notes.txt"

cp memory.maif shareable.maif   # a copy before any private note, for step 12
step "4c. A private note is encrypted for the agent's own key (metadata stays public)"
run "$MAIF" add memory.maif --key agent.key --type text --text "Patient asked to keep the diagnosis private." \
  --meta '{"source":"chat","privacy":"confidential"}' --encrypt --recipient agent.key.pub || exit 1
grep -q "diagnosis private" memory.maif && { echo "demo: plaintext found in the file" >&2; exit 1; }
echo "the note's words are nowhere in the file"
expect_rc 3 "$MAIF" cat memory.maif 7
run "$MAIF" cat memory.maif 7 --identity agent.key && echo

step "5. A bad batch is refused whole: nothing of it is committed"
printf '%s\n' '{"type":"text","text":"this line is fine"}' '{"type":"text","text":"bad","vector":[1]}' > bad.jsonl
expect_rc 2 "$MAIF" append memory.maif bad.jsonl --key agent.key

step "6. What the agent remembers"
run "$MAIF" ls memory.maif || exit 1
run "$MAIF" cat memory.maif 0 && echo
run "$MAIF" cat memory.maif 2 && echo
"$MAIF" cat memory.maif 1 > chart.out && cmp chart.png chart.out && echo "block 1 reads back byte-identical to chart.png"
run "$MAIF" info memory.maif || exit 1

step "6b. Understanding on the way in: image features, and the knowledge graph"
run "$MAIF" add memory.maif --key agent.key --type image --file chart.png --analyze --caption "incident timeline, redrawn" || exit 1
"$MAIF" ls memory.maif --json | /usr/bin/python3 -c 'import json,sys; m=json.load(sys.stdin)[-1]["meta"]; print("stored features:", {k: m[k] for k in ("format","width","height","phash","caption")})'
run "$MAIF" add memory.maif --key agent.key --type knowledge \
  --text '[["missing alert","made_worse","retry storm"],["expired certificate","owned_by","platform team"]]' || exit 1
run "$MAIF" graph memory.maif --from "missing alert" --to "platform team" || exit 1

step "6c. Search by meaning and by words (embeddings stored in the artifact, bound to their sources)"
run "$MAIF" embed memory.maif --key agent.key || exit 1
run "$MAIF" search memory.maif "why did the alerts not fire" -k 2 || exit 1

step "7. Verification against the agent's pinned public key"
expect_rc 0 "$MAIF" verify memory.maif --pubkey agent.key.pub

step "8. Someone else's key is not trusted"
"$MAIF" keygen other.key >/dev/null
expect_rc 1 "$MAIF" verify memory.maif --pubkey other.key.pub

step "9. Tampering: change one byte of the stored text in a copy"
cp memory.maif tampered.maif
off=$(grep -abo "three root causes" tampered.maif | head -n1 | cut -d: -f1)
printf 'f' | dd of=tampered.maif bs=1 seek="$off" conv=notrunc status=none
echo "changed the byte at offset $off ('t' -> 'f')"
expect_rc 1 "$MAIF" verify tampered.maif --pubkey agent.key.pub

step "10. Tampering: change the metadata of a block (session s-42 -> s-43)"
cp memory.maif tampered2.maif
off=$(grep -abo '"session":"s-42"' tampered2.maif | head -n1 | cut -d: -f1)
printf '3' | dd of=tampered2.maif bs=1 seek=$((off + 14)) conv=notrunc status=none
expect_rc 1 "$MAIF" verify tampered2.maif --pubkey agent.key.pub

step "10b. A tampered artifact cannot be laundered: convert verifies its source first"
expect_rc 1 "$MAIF" convert tampered.maif laundered.maif --to native --key agent.key
[ ! -e laundered.maif ] && echo "nothing was written"

step "11. A crash in the middle of an append leaves a torn tail; recover cuts it"
cp memory.maif crashed.maif
size=$(stat -c %s crashed.maif)
head -c 5000 /dev/urandom > big.bin
"$MAIF" add crashed.maif --key agent.key --type binary --file big.bin >/dev/null || exit 1
truncate -s $((size + 3000)) crashed.maif   # as if the process died while writing the batch
echo "simulated a crash: the file now ends 3000 bytes into an uncommitted batch"
expect_rc 0 "$MAIF" verify crashed.maif --pubkey agent.key.pub
run "$MAIF" recover crashed.maif || exit 1
expect_rc 0 "$MAIF" verify crashed.maif --pubkey agent.key.pub

step "12. Interoperability: to MAIF 2.1 (the original format) and back"
echo "MAIF 2.1 cannot hold encryption, so the artifact with the private note is refused:"
expect_rc 2 "$MAIF" convert memory.maif memory-v21.maif --to 2.1 --key agent.key
echo "the copy taken before the note converts (its zstd block is written decoded):"
run "$MAIF" convert shareable.maif memory-v21.maif --to 2.1 --key agent.key || exit 1
expect_rc 0 "$MAIF" verify memory-v21.maif --pubkey agent.key.pub
run "$MAIF" ls memory-v21.maif
run "$MAIF" convert memory-v21.maif roundtrip.maif --to native --key agent.key || exit 1
for i in 0 1 2 3 4 5; do
  cmp <("$MAIF" cat shareable.maif $i) <("$MAIF" cat roundtrip.maif $i) || { echo "block $i differs"; exit 1; }
done
echo "all 6 payloads identical after native -> 2.1 -> native"

step "12b. An archive copy with BLAKE3 content hashes (about twice as fast to verify on large blocks)"
run "$MAIF" convert shareable.maif archive.maif --to native --hash blake3 --key agent.key || exit 1
"$MAIF" info archive.maif | grep 'content hash'
expect_rc 0 "$MAIF" verify archive.maif --pubkey agent.key.pub
if command -v b3sum > /dev/null; then
  want=$("$MAIF" ls archive.maif --json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["content_hash"])')
  got=$("$MAIF" cat archive.maif 0 | b3sum --no-names)
  echo "block 0: stored content hash $want"
  echo "         b3sum of its bytes  $got"
  [ "$want" = "$got" ] || { echo "demo: b3sum disagrees"; exit 1; }
fi

step "12c. The right to be forgotten: a shreddable note, its keystore's master key on a PKCS#11 token"
mod=""
for m in /usr/lib/softhsm/libsofthsm2.so /usr/lib/*/softhsm/libsofthsm2.so; do [ -e "$m" ] && mod=$m && break; done
if [ -n "$mod" ] && command -v softhsm2-util > /dev/null; then
  mkdir -p tokens
  printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' "$work" > softhsm2.conf
  export SOFTHSM2_CONF="$work/softhsm2.conf"
  softhsm2-util --init-token --free --label agent-token --pin 1234 --so-pin 5678 > /dev/null || exit 1
  echo 1234 > token.pin
  echo "a SoftHSM token 'agent-token' stands in for a hardware one"
  printf '$ %s\n' "maif add memory.maif --type text --text ... --encrypt --shreddable --keystore-pkcs11 $mod --keystore-token agent-token ..."
  out=$("$MAIF" add memory.maif --key agent.key --type text --text "The user's home address: 12 Elm Street." \
    --encrypt --shreddable --keystore-pkcs11 "$mod" --keystore-token agent-token --keystore-pin-file token.pin) || exit 1
  echo "$out"
  n=${out%% *}
  run "$MAIF" cat memory.maif "$n" --keystore-pin-file token.pin && echo
  cp memory.maif.keystore backup.keystore && cp "$MAIF_HOME"/masters/*.master backup.master
  echo "(a backup of the keystore and its master file, taken now)"
  run "$MAIF" shred memory.maif "$n" --punch --key agent.key --keystore-pin-file token.pin || exit 1
  expect_rc 3 "$MAIF" cat memory.maif "$n" --keystore-pin-file token.pin
  cp memory.maif.keystore now.keystore && cp "$MAIF_HOME"/masters/*.master now.master
  cp backup.keystore memory.maif.keystore && cp backup.master "$MAIF_HOME"/masters/
  echo "restoring the backup does not bring it back: the token key that sealed that master is destroyed"
  expect_rc 3 "$MAIF" cat memory.maif "$n" --keystore-pin-file token.pin
  cp now.keystore memory.maif.keystore && cp now.master "$MAIF_HOME"/masters/
  "$MAIF" verify memory.maif --pubkey agent.key.pub | grep -E 'erased|OK' || exit 1
else
  echo "(skipped: SoftHSM is not installed; scripts/install-deps.sh installs it)"
fi

step "12d. A time-stamp authority vouches for when the memory existed (RFC 3161; openssl ts plays the TSA)"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout tsaroot.key -subj /CN=Demo-TSA-Root \
  -days 30 -out tsaroot.pem 2> /dev/null || exit 1
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout tsa.key -subj /CN=Demo-TSA \
  -out tsa.csr 2> /dev/null || exit 1
printf '[t]\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=critical,timeStamping\n' > tsaext.cnf
openssl x509 -req -in tsa.csr -CA tsaroot.pem -CAkey tsaroot.key -set_serial 1 -days 30 -extfile tsaext.cnf \
  -extensions t -out tsa.pem 2> /dev/null || exit 1
printf '[tsa]\ndefault_tsa = t\n[t]\nserial = ./tsaserial\nsigner_cert = ./tsa.pem\ncerts = ./tsa.pem\nsigner_key = ./tsa.key\nsigner_digest = sha256\ndefault_policy = 1.2.3.4.1\ndigests = sha256\ness_cert_id_alg = sha256\n' > tsa.cnf
echo 01 > tsaserial
run "$MAIF" timestamp memory.maif --query memory.tsq || exit 1
echo "$ openssl ts -reply -config tsa.cnf -queryfile memory.tsq -out memory.tsr   # the TSA answers"
openssl ts -reply -config tsa.cnf -queryfile memory.tsq -out memory.tsr 2> /dev/null || exit 1
run "$MAIF" timestamp memory.maif --attach memory.tsr --key agent.key || exit 1
"$MAIF" verify memory.maif --pubkey agent.key.pub --tsa-ca tsaroot.pem | grep -E 'time-stamp|OK' || exit 1

step "13. Agents on other machines reach the memory through maif serve (HTTP, group commit)"
mkdir -p served && cp memory.maif served/memory.maif
"$MAIF" serve --dir served --no-auth --listen 127.0.0.1:0 --key agent.key --ready-file ready.url \
  --log serve.log > serve.out 2>&1 &
spid=$!
for _ in $(seq 100); do [ -s ready.url ] && break; sleep 0.1; done
url=$(cat ready.url 2>/dev/null) || { echo "demo: the server did not start"; cat serve.out; exit 1; }
echo "server at $url"
run curl -s -H 'Content-Type: application/json' \
  -d '{"type":"text","text":"a remote agent remembers: the deploy finished","meta":{"agent":"remote-1"}}' \
  "$url/v1/artifacts/memory/blocks?commit=1" || exit 1
echo
run curl -s "$url/v1/artifacts/memory/verify" | head -c 300; echo
kill -TERM "$spid"; wait "$spid"; echo "server stopped on SIGTERM (exit $?)"
expect_rc 0 "$MAIF" verify served/memory.maif --pubkey agent.key.pub
run "$MAIF" ls served/memory.maif | tail -2

printf '\n\033[1mdemo complete: written (compressed, encrypted, analysed, embedded), searched, signed, verified, tampering detected (and not laundered), recovered, converted (to 2.1, and to BLAKE3 content hashes), erased on request (keystore master on a token), time-stamped by a TSA, served over HTTP.\033[0m\n'
