#!/usr/bin/env python3
"""make-ftz-seeds: tiny handmade fastText models (the seed corpus of
fuzz/fuzz_ftz.c and the models of tests/unit/test_understand.c).

Each is a valid model `fasttext predict` loads: dimension 4, the words
"</s>", "hello", "bonjour", labels __label__en (count 10) and __label__fr
(count 5); "hello" points along +x, "bonjour" along -x, and the output
sends +x to en, -x to fr. Variants: dense with hierarchical softmax and
word bigrams; product-quantised (pruned buckets, norm codes, quantised
output); softmax loss; plus a truncated copy and a bad magic.
Usage: make-ftz-seeds.py DIR
"""
import os
import struct
import sys

WORDS = [("</s>", 3, 0), ("hello", 2, 0), ("bonjour", 2, 0), ("__label__en", 10, 1), ("__label__fr", 5, 1)]
NW, DIM = 3, 4


def header(loss, bucket, minn, maxn, ngrams, prune):
    b = struct.pack("<ii", 793712314, 12)
    b += struct.pack("<12id", DIM, 5, 5, 1, 5, ngrams, loss, 3, bucket, minn, maxn, 100, 1e-4)
    b += struct.pack("<iiiqq", len(WORDS), NW, len(WORDS) - NW, 25, len(prune) if prune is not None else -1)
    for w, c, t in WORDS:
        b += w.encode() + b"\0" + struct.pack("<qb", c, t)
    for k, v in (prune or []):
        b += struct.pack("<ii", k, v)
    return b


def dense(rows):
    b = struct.pack("<qq", len(rows), DIM)
    for r in rows:
        b += struct.pack("<4f", *r)
    return b


def pq(dim, dsub, cents):
    nsubq = (dim + dsub - 1) // dsub
    last = dim % dsub or dsub
    b = struct.pack("<4i", dim, nsubq, dsub, last)
    c = list(cents) + [0.0] * (dim * 256 - len(cents))
    return b + struct.pack("<%df" % len(c), *c)


def quant(rows_codes, norms):
    # dsub 2: two sub-quantisers; centroid 0 = (0,0), 1 = (1,0), 2 = (-1,0)
    b = struct.pack("<B", 1) + struct.pack("<qqi", len(rows_codes), DIM, 2 * len(rows_codes))
    for c in rows_codes:
        b += bytes(c)
    # sub-quantiser 0 centroids (0..255, 2 floats each), then sub-quantiser 1 (last)
    cents = [0.0] * (DIM * 256)
    cents[2 * 1] = 1.0
    cents[2 * 2] = -1.0
    b += pq(DIM, 2, cents)
    b += bytes(norms)
    b += pq(1, 1, [1.0, 2.0])
    return b


def main():
    d = sys.argv[1]
    os.makedirs(d, exist_ok=True)
    out = {}
    zero = [0.0] * DIM
    inrows = [zero, [1, 0, 0, 0], [-1, 0, 0, 0]] + [zero] * 16
    m = header(1, 16, 2, 3, 2, None) + b"\0" + dense(inrows) + b"\0" + dense([[1, 0, 0, 0], zero])
    out["tiny_hs_dense.bin"] = m
    out["tiny_softmax.bin"] = header(3, 16, 2, 3, 1, None) + b"\0" + dense(inrows) + b"\0" + dense(
        [[1, 0, 0, 0], [-1, 0, 0, 0]])
    # quantised: 3 word rows + 2 pruned bucket rows
    codes = [(0, 0), (1, 0), (2, 0), (0, 0), (1, 0)]
    qm = header(1, 1000, 2, 3, 1, [(7, 0), (999, 1)]) + b"\1" + quant(codes, [0, 0, 1, 0, 0])
    qm += b"\1" + quant([(1, 0), (0, 0)], [0, 0])
    out["tiny_quant.ftz"] = qm
    out["truncated.ftz"] = qm[: len(qm) // 2]
    out["bad_magic.bin"] = b"\0\0\0\0" + m[4:]
    for k, v in out.items():
        with open(os.path.join(d, k), "wb") as f:
            f.write(v)


if __name__ == "__main__":
    main()
