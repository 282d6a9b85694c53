#!/usr/bin/env bash
# CLI tests for images and sounds: `maif add --analyze`, `--caption`,
# `--captioner`, on sounds made here with sox and espeak-ng and on
# Debian's Adwaita icons; damaged inputs; and the log-mel spectrogram of
# libmaif checked against a numpy implementation (tests/cli/media_ref.py).
# Run from the repository root:
#   MAIF_BIN=build/asan/maif bash tests/cli/test_media.sh
# Ends with exactly one line "N passed, M failed".
HARNESS_NAME=media
. "$(dirname "$0")/harness.bash"
LIB="$ROOT/build/release/libmaif.so"   # numpy's check loads the release build (ASan needs its runtime first)
ICON=/usr/share/icons/Adwaita/512x512/devices/camera-web.png

for tool in sox espeak-ng; do
  command -v $tool >/dev/null || { echo "$tool is missing: scripts/install-deps.sh installs it"; fail "$tool present"; }
done
sox -n -r 16000 -b 16 tone.wav synth 1 sine 1000 2>/dev/null
sox -n -r 44100 -b 24 -c 2 chord.wav synth 0.5 sine 440 sine 660 2>/dev/null
espeak-ng -w speech.wav "The agent remembers what it heard." 2>/dev/null
m create a.maif; expect "create" 0

m add a.maif --type audio --file tone.wav --analyze --meta '{"source":"sox"}'; expect "add tone --analyze" 0
m add a.maif --type audio --file chord.wav --analyze; expect "add 24-bit stereo --analyze" 0
m add a.maif --type audio --file speech.wav --analyze; expect "add speech --analyze" 0
m add a.maif --type image --file "$ICON" --analyze --caption "a web camera"; expect "add icon --analyze --caption" 0
m add a.maif --type image --file "$ICON" --captioner 'wc -c'; expect "add icon --captioner" 0
m_in "$ICON" add a.maif --type image --analyze -; expect "add icon from stdin --analyze" 0
m ls a.maif --json; expect "ls --json" 0
cp "$OUT" ls.json
jcheck "tone: rate, duration, source kept" ls.json 'd[0]["meta"]["sample_rate"]==16000 and abs(d[0]["meta"]["duration"]-1)<1e-9 and d[0]["meta"]["source"]=="sox" and len(d[0]["meta"]["mfcc_mean"])==13'
jcheck "chord: 24-bit stereo" ls.json 'd[1]["meta"]["bits"]==24 and d[1]["meta"]["channels"]==2 and abs(d[1]["meta"]["duration"]-0.5)<1e-3'
jcheck "speech: espeak-ng's rate, some seconds long" ls.json 'd[2]["meta"]["sample_rate"]==22050 and 0.8<d[2]["meta"]["duration"]<6'
jcheck "icon: size, format, hashes, histograms" ls.json 'd[3]["meta"]["width"]==512 and d[3]["meta"]["format"]=="png" and len(d[3]["meta"]["phash"])==16 and len(d[3]["meta"]["color_histogram"])==72 and len(d[3]["meta"]["hog"])==36 and abs(sum(d[3]["meta"]["color_histogram"])-1)<1e-3'
jcheck "caption from the agent" ls.json 'd[3]["meta"]["caption"]=="a web camera" and d[3]["meta"]["caption_source"]=="agent"'
SIZE=$(stat -c %s "$ICON")
jcheck "caption from the captioner" ls.json 'd[4]["meta"]["caption"]=="'"$SIZE"'" and d[4]["meta"]["caption_source"]=="captioner" and "phash" not in d[4]["meta"]'
jcheck "stdin analysed the same" ls.json 'd[5]["meta"]["phash"]==d[3]["meta"]["phash"]'
m verify a.maif; expect "verify" 0

# user keys win over the analysis
m add a.maif --type image --file "$ICON" --analyze --meta '{"width":1}'; expect "add --meta width" 0
m ls a.maif --json; jcheck "--meta wins" "$OUT" 'd[6]["meta"]["width"]==1 and "phash" in d[6]["meta"]'

# errors: one line, exit 2, nothing added
printf 'not an image' >bad.png
m add a.maif --type image --file bad.png --analyze; expect_err "not an image" 2 "not a PNG or JPEG"
head -c 3000 "$ICON" >cut.png
m add a.maif --type image --file cut.png --analyze; expect_err "truncated PNG" 2 "damaged PNG"
head -c 100 tone.wav >cut.wav
m add a.maif --type audio --file cut.wav --analyze; expect "truncated WAV: the whole frames that are there" 0
printf 'RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x00\x01\x40\x1f\x00\x00\x80\x3e\x00\x00\x02\x00\x10\x00data\x00\x00\x00\x00' >chan.wav
m add a.maif --type audio --file chan.wav --analyze; expect_err "256 channels" 2 "channels"
m add a.maif --type video --file tone.wav --analyze; expect_err "--analyze on video" 2 "text, image and audio"
m add a.maif --type image --file "$ICON" --caption x --captioner cat; expect_err "both caption flags" 2 "not both"
m add a.maif --type audio --file tone.wav --caption x; expect_err "caption on audio" 2 "describe an image"
m add a.maif --type image --file "$ICON" --captioner 'exit 3'; expect_err "captioner fails" 2 "failed"
m add a.maif --type image --file "$ICON" --captioner 'true'; expect_err "captioner prints nothing" 2 "no caption"
m add a.maif --type image --file "$ICON" --captioner 'head -c 5000 /dev/zero | tr "\0" a'; expect_err "caption too long" 2 "longer than"
m ls a.maif --json
if [ "$(grep -c '"index"' "$OUT")" = 8 ]; then pass; else fail "8 blocks after the failures (only the cut WAV added)"; fi

# cross-modal search: images found through what is said about them (ACAM)
m create x.maif; expect "create x" 0
m add x.maif --type image --file /usr/share/icons/Adwaita/512x512/devices/printer.png --caption "an office printer"; expect "add printer" 0
P=$(cut -d' ' -f2 "$OUT")
m add x.maif --type text --text "The printer on floor 2 jams every Monday morning" --meta "{\"relationships\":[{\"type\":\"about\",\"target\":\"$P\"}]}"; expect "add a note about it" 0
m add x.maif --type image --file "$ICON" --caption "a web camera on a monitor"; expect "add webcam" 0
m search x.maif "paper jam on Monday" --cross-modal --type image; expect "search --cross-modal" 0
[ "$(head -1 "$OUT" | cut -d' ' -f1)" = 0 ] && out_has '\(2 texts\)' && pass || fail "the printer first, known by two texts"
m search x.maif "web camera" --cross-modal --type image --json; expect "--cross-modal --json" 0
jcheck "the webcam first" "$OUT" 'd["mode"]=="cross-modal" and d["results"][0]["block"]==2'
m search x.maif "jam" --cross-modal; expect_err "--cross-modal without --type" 2 "needs --type"

# the C log-mel against numpy's, frame by frame
for w in tone.wav speech.wav; do
  r=$("$PY" "$ROOT/tests/cli/media_ref.py" "$LIB" "$w" 2>&1)
  set -- $r
  if [ "$#" = 3 ] && [ "$1" = "$2" ] && "$PY" -c "import sys; sys.exit(0 if float('$3') < 1e-3 else 1)"; then pass
  else fail "log-mel of $w against numpy: $r"; fi
done

harness_finish
