#!/usr/bin/env bash
# test_analyze.sh — `maif add --type text --analyze`: language, confidence
# and VADER sentiment merged into the block's metadata; text from --text, a
# file and stdin; non-UTF-8 text, a missing or hostile model, a clash with
# --meta, a non-text type and --encrypt are each one clear error (exit 2)
# and add nothing. Needs the models of scripts/fetch-lid.sh: when they are
# absent the checks that need them are skipped, with the reason printed.
HARNESS_NAME=analyze
source "$(dirname "$0")/harness.bash"

CACHE=${MAIF_CACHE:-build/cache}
case "$CACHE" in /*) ;; *) CACHE="$ROOT/$CACHE" ;; esac
export MAIF_MODELS="$CACHE/models"
unset MAIF_LID_MODEL MAIF_VADER_LEXICON

# meta N FILE: the metadata of block N, as JSON, into FILE
meta() {
  "$MAIF_BIN" ls a.maif --json >ls.json 2>"$ERR" &&
    "$PY" -c "import json,sys; json.dump(json.load(open('ls.json'))[int(sys.argv[1])]['meta'], open(sys.argv[2],'w'))" "$1" "$2"
}

m keygen k >/dev/null
m create a.maif --key k
expect "create" 0

# errors that need no model
m add a.maif --type binary --text hi --analyze --key k
expect_err "--analyze on binary" 2 "--analyze works on text, image and audio"
m add a.maif --type text --text hi --analyze --encrypt --key k
expect_err "--analyze with --encrypt" 2 "public metadata"
printf 'caf\xe9 au lait\n' >latin1.txt
m add a.maif --type text --file latin1.txt --analyze --key k
expect_err "non-UTF-8 text" 2 "latin1.txt: --analyze: the text is not valid UTF-8"
MAIF_LID_MODEL=/nonexistent/lid.ftz m add a.maif --type text --text "hello there" --analyze --key k
expect_err "missing model" 2 "/nonexistent/lid.ftz: not found .*fetch-lid.sh"
head -c 300 "$ROOT/fuzz/corpus/fuzz_ftz/tiny_quant.ftz" >trunc.ftz
MAIF_LID_MODEL=$T/trunc.ftz m add a.maif --type text --text "hello there" --analyze --key k
expect_err "truncated model" 2 "trunc.ftz: fastText model: truncated"
m ls a.maif
ok "nothing was added by the failures" test "$(wc -l <"$OUT")" = 0

if [ ! -s "$MAIF_MODELS/lid.176.ftz" ] || [ ! -s "$MAIF_MODELS/vader_lexicon.txt" ]; then
  echo "SKIP: the lid.176 model or the VADER lexicon is absent from $MAIF_MODELS (scripts/fetch-lid.sh; offline?)"
  harness_finish
  exit $?
fi

m add a.maif --type text --text "I really love this wonderful library, it is great!" --analyze --meta '{"source":"chat"}' --key k
expect "add --analyze --text" 0
ok "ls --json" meta 0 m0.json
jcheck "language en" m0.json 'd["language"] == "en"'
jcheck "confidence in (0.5, 1]" m0.json '0.5 < d["language_confidence"] <= 1'
jcheck "sentiment positive" m0.json 'd["sentiment"]["compound"] > 0.8 and set(d["sentiment"]) == {"compound","neg","neu","pos"}'
jcheck "the given metadata kept" m0.json 'd["source"] == "chat"'

printf 'Ce film était vraiment horrible, je le déteste.\n' >fr.txt
m add a.maif --type text --file fr.txt --analyze --key k
expect "add --analyze --file" 0
ok "ls --json" meta 1 m1.json
jcheck "language fr" m1.json 'd["language"] == "fr"'
m cat a.maif 1
ok "payload kept byte for byte" cmp -s "$OUT" fr.txt

printf 'This is terrible and sad. I hate it.' >en.txt
m_in en.txt add a.maif --type text - --analyze --key k
expect "add --analyze from stdin" 0
ok "ls --json" meta 2 m2.json
jcheck "stdin: negative sentiment" m2.json 'd["language"] == "en" and d["sentiment"]["compound"] < -0.5'

# the stored language agrees with Debian's fasttext on the same text
if command -v fasttext >/dev/null; then
  want=$(fasttext predict "$MAIF_MODELS/lid.176.ftz" fr.txt 1 | sed 's/__label__//')
  jcheck "same label as fasttext predict" m1.json "d['language'] == '$want'"
else
  echo "SKIP: fasttext not installed"
fi

m add a.maif --type text --text "hello" --analyze --meta '{"language":"xx"}' --key k
expect_err "--meta clash" 2 'already has "language"'
m add a.maif --type text --text "" --analyze --key k
expect "empty text still analysed" 0
m verify a.maif
expect "verify" 0
harness_finish
