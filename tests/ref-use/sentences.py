#!/usr/bin/python3
"""sentences.py N — N test sentences, one a line, the same on every machine:
WordNet 3.0 glosses (Debian package wordnet-base) taken at a fixed stride
from data.noun, data.verb, data.adj and data.adv in turn, then a fixed list
of harder cases (non-ASCII text that NFKC changes, emoji, long text that the
model clips at 128 tokens, runs of spaces). Exits 2 if WordNet is missing."""
import os
import sys

WN = os.environ.get("WORDNET_DIR", "/usr/share/wordnet")
EXTRA = [
    "Caf\u00e9 cr\u00e8me and na\u00efve r\u00e9sum\u00e9s in the \ufb01eld.",
    "\uff26\uff55\uff4c\uff4c\uff0d\uff57\uff49\uff44\uff54\uff48 letters and \u2460 circled digits become ASCII under NFKC.",
    "Emoji \U0001f600\U0001f680 and CJK \u6f22\u5b57 are unknown pieces.",
    "Stra\u00dfe, \u0441\u043b\u043e\u0432\u043e, \u03bb\u03cc\u03b3\u03bf\u03c2 and \u05e9\u05dc\u05d5\u05dd.",
    "many   spaces    between     words",
    " leading and trailing spaces ",
    "x",
    "?!",
    "Non\u00a0breaking\u00a0spaces\u2003and\u2009thin ones.",
    " ".join("word%d" % i for i in range(200)),
    "The quick brown fox jumps over the lazy dog. " * 20,
]


def glosses(pos):
    out = []
    with open(os.path.join(WN, "data." + pos), encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.startswith("  ") or " | " not in line:
                continue
            g = line.split(" | ", 1)[1].strip()
            if g:
                out.append(g)
    return out


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    try:
        pools = [glosses(p) for p in ("noun", "verb", "adj", "adv")]
    except OSError as e:
        sys.stderr.write("sentences.py: WordNet not found (%s); install wordnet-base\n" % e)
        sys.exit(2)
    want = max(n - len(EXTRA), 0)
    out = []
    per = [want * 6 // 10, want * 2 // 10, want * 15 // 100]
    per.append(want - sum(per))
    for pool, k in zip(pools, per):
        stride = max(len(pool) // max(k, 1), 1)
        out.extend(pool[i * stride] for i in range(min(k, len(pool))))
    out.extend(EXTRA)
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
