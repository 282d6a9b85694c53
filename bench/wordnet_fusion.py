#!/usr/bin/python3
"""wordnet_fusion.py DIR — hybrid fusion rules tried offline on the ranked
lists that `WORDNET_KEEP=DIR bench/wordnet_eval.sh` stores (DIR/ranks.NAME,
one per embedder; the format is bench/bench_wordnet.c's).

For each embedder: recall@10 of the vector list, the text list, the
library's own default (column 3 of the file) and each rule below, over all
queries, the first / second 500 and the odd / even ones. Then the
split-half check: for each family of rules, the parameter that maximises
the sum over embedders of (hybrid - the better of its two lists) on one
half, and what it gives on the other half. The rules:

  dbsf(w)    each list mapped by its own mean +- 3 sd (over its best 50) to
             [0, 1], w * vector + text (src/semantic/fusion.c, w = 1 there)
  rrf(k, w)  w / (k + rank) + 1 / (k + rank)
  minmax(w)  each list mapped by its own min and max to [0, 1], w * vector + text
"""
import math
import os
import sys

HALVES = (("all", lambda i: True), ("A", lambda i: i < 500), ("B", lambda i: i >= 500),
          ("odd", lambda i: i % 2 == 1), ("even", lambda i: i % 2 == 0))
SPLITS = (("A", "B"), ("B", "A"), ("odd", "even"), ("even", "odd"))


def load(path):
    rows = []
    for line in open(path):
        f = line.rstrip("\n").split("\t")
        cols = [[(int(x.split(":")[0]), float(x.split(":")[1])) for x in c.split(",")] if c else [] for c in f[1:]]
        rows.append((int(f[0]), cols))
    return rows


def ranked(sc):
    return [b for b, _ in sorted(sc.items(), key=lambda t: (-t[1], t[0]))]


def col(c):
    return lambda cols: [b for b, _ in cols[c]]


def norm_dbsf(lst):
    xs = [s for _, s in lst[:50]]
    if not xs:
        return {}
    m = sum(xs) / len(xs)
    sd = math.sqrt(sum((x - m) ** 2 for x in xs) / len(xs))
    return {b: 0.5 if not sd > 0 else (s - (m - 3 * sd)) / (6 * sd) for b, s in reversed(lst)}


def norm_minmax(lst):
    if not lst:
        return {}
    hi, lo = lst[0][1], min(s for _, s in lst)
    return {b: 1.0 if hi == lo else (s - lo) / (hi - lo) for b, s in reversed(lst)}


def score_rule(norm, w):
    def f(cols):
        sc = {b: w * s for b, s in norm(cols[0]).items()}
        for b, s in norm(cols[1]).items():
            sc[b] = sc.get(b, 0.0) + s
        return ranked(sc)
    return f


def rrf(k, w):
    def f(cols):
        sc = {}
        for r, (b, _) in reversed(list(enumerate(cols[0]))):
            sc[b] = w / (k + r + 1)
        for r, (b, _) in enumerate(cols[1]):
            sc[b] = sc.get(b, 0.0) + 1 / (k + r + 1)
        return ranked(sc)
    return f


def recall(rows, fn, sel):
    q = [(i, cols) for i, cols in rows if sel(i)]
    return sum(1 for i, cols in q if i in fn(cols)[:10]) / len(q)


def main():
    d = sys.argv[1] if len(sys.argv) > 1 else "."
    data = {}
    for name in ("hashed", "use", "glove"):
        p = os.path.join(d, "ranks." + name)
        if os.path.exists(p):
            data[name] = load(p)
    if not data:
        sys.exit("wordnet_fusion.py: no ranks.* in %s (WORDNET_KEEP=%s bench/wordnet_eval.sh ...)" % (d, d))
    fams = {
        "dbsf(w)": [((w,), score_rule(norm_dbsf, w)) for w in (0.5, 0.75, 1, 1.25, 1.5, 2)],
        "rrf(k,w)": [((k, w), rrf(k, w)) for k in (10, 20, 40, 60, 100) for w in (0.5, 0.75, 1, 1.25, 1.5, 2, 3)],
        "minmax(w)": [((w,), score_rule(norm_minmax, w)) for w in (0.5, 0.75, 1, 1.25, 1.5, 2)],
    }
    base = {"vector": col(0), "text": col(1), "library default": col(2)}
    fixed = [("dbsf(1)", score_rule(norm_dbsf, 1)), ("rrf(60,1)", rrf(60, 1)), ("rrf(60,2)", rrf(60, 2)),
             ("minmax(1)", score_rule(norm_minmax, 1))]
    print("recall@10: %s" % " / ".join(h for h, _ in HALVES))
    for name, rows in data.items():
        for label, fn in list(base.items()) + fixed:
            print("  %-7s %-16s %s" % (name, label, " / ".join("%.3f" % recall(rows, fn, s) for _, s in HALVES)))
    sel = dict(HALVES)
    best_list = {(n, h): max(recall(r, col(0), sel[h]), recall(r, col(1), sel[h])) for n, r in data.items()
                 for h, _ in HALVES}
    print("split-half: parameter chosen on one half (max sum of margins over the better list), read on the other")
    for fam, members in fams.items():
        for tune, test in SPLITS:
            best = None
            for p, fn in members:
                m = sum(recall(r, fn, sel[tune]) - best_list[(n, tune)] for n, r in data.items())
                if best is None or m > best[0]:
                    best = (m, p, fn)
            _, p, fn = best
            res = ["%s %.3f (%+.3f)" % (n, recall(r, fn, sel[test]), recall(r, fn, sel[test]) - best_list[(n, test)])
                   for n, r in data.items()]
            print("  %-9s on %-4s -> %-10s on %-4s: %s" % (fam, tune, ",".join("%g" % x for x in p), test,
                                                          "  ".join(res)))


if __name__ == "__main__":
    main()
