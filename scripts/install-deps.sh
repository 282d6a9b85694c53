#!/usr/bin/env bash
# Installs the Debian packages maif builds and tests with, and nothing else.
# Called by the Makefile; safe to run again (it only installs what is missing).
set -eu
pkgs="build-essential pkg-config libsodium-dev libssl-dev openssl libjansson-dev libcmocka-dev libzstd-dev liblz4-dev libstemmer-dev libpcre2-dev python3"
# libicu-dev: NFKC of the USE-lite tokenizer; libopenblas-dev: its matrix
# products; wordnet-base: sentences of the embedder reference test and benchmark.
pkgs="$pkgs libicu-dev libopenblas-dev wordnet-base"
# Image decoding (understanding engine).
pkgs="$pkgs libpng-dev libjpeg-dev"
# The media tests decode Debian's icons and analyse sounds made with sox and espeak-ng.
pkgs="$pkgs adwaita-icon-theme sox espeak-ng"
# The knowledge-graph tests check that Graphviz accepts `maif graph --dot`.
pkgs="$pkgs graphviz"
# PKCS#11 signing keys and keystore master keys: the standard header (p11-kit's pkcs11.h; modules are dlopen'ed, nothing is linked),
# and for the tests and the demo a software token (SoftHSM 2.6: CKM_EDDSA, CKM_AES_GCM) and pkcs11-tool.
pkgs="$pkgs softhsm2 opensc libp11-kit-dev"
# `maif serve`: libmicrohttpd (HTTP/1.1, TLS through GnuTLS); its tests check
# /metrics with promtool (package prometheus), drive the web viewer in
# headless Chromium, and parse the deploy/ manifests with PyYAML.
pkgs="$pkgs libmicrohttpd-dev prometheus chromium python3-yaml curl"
# The Python package's tests (and numpy for its embeddings and the media reference).
pkgs="$pkgs python3-pytest python3-numpy"
# the text-analysis tests: fasttext (the reference for language id) and the
# packages whose translations make the multilingual test set
pkgs="$pkgs fasttext libglib2.0-data shared-mime-info"
# b3sum: the reference implementation the BLAKE3 tests compare with.
pkgs="$pkgs b3sum"
# faketime: the trusted-timestamp tests run `openssl ts -reply` (the TSA) at another time.
pkgs="$pkgs faketime"
# `install-deps.sh fuzz` adds what `make fuzz` needs (clang's libFuzzer runtime).
[ "${1:-}" = fuzz ] && pkgs="$pkgs clang libclang-rt-14-dev"
# `install-deps.sh coverage` adds what `make coverage` needs (lcov; gcov comes with gcc).
[ "${1:-}" = coverage ] && pkgs="$pkgs lcov"
# `install-deps.sh bench` adds the zstd and lz4 command-line tools the benchmarks compare with,
# wrk (the HTTP load generator of bench_serve), hnswlib (header-only, C++) as the vector-index baseline of bench_index, and
# WordNet for the retrieval-quality set (bench/wordnet_eval.sh) and the glosses bench_dict_maif stores as records,
# and b3sum (the reference BLAKE3) beside bench_blake3.
[ "${1:-}" = bench ] && pkgs="$pkgs zstd lz4 libhnswlib-dev g++ wordnet-base wrk b3sum"
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "install-deps: installing:$missing"
SUDO=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install:$missing" >&2; exit 2; }
  SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get -o DPkg::Lock::Timeout=300 update -qq
$SUDO apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends $missing >/dev/null
echo "install-deps: done"
