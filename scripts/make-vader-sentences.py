#!/usr/bin/env python3
"""make-vader-sentences: the English test set of the sentiment tests.

Deterministic for given inputs, generated at test time, never committed:
  1. English source strings (msgids) of the German catalogues of two Debian
     packages, libglib2.0-data (glib20.mo) and shared-mime-info, that look
     like prose (3+ words, 12..300 bytes), sorted;
  2. the same strings put through one rewrite each (chosen by position):
     shouted words, "!!!", "??", a leading "not", "but" joins, boosters,
     "kind of", "never so", "at least", emoticons, an emoji, non-breaking
     spaces;
  3. template sentences built from every 7th entry of the VADER lexicon
     (LEXICON, the vader_lexicon.txt the tests load), so every rule meets
     sentiment-laden words.
Usage: make-vader-sentences.py LEXICON > sentences.txt   (one per line)
"""
import os
import re
import struct
import sys

CATS = ["/usr/share/locale/de/LC_MESSAGES/glib20.mo", "/usr/share/locale/de/LC_MESSAGES/shared-mime-info.mo"]


def msgids(path):
    with open(path, "rb") as f:
        d = f.read()
    e = "<" if struct.unpack_from("<I", d, 0)[0] == 0x950412DE else ">"
    n, oo, _ = struct.unpack_from(e + "III", d, 8)
    for i in range(n):
        ol, oof = struct.unpack_from(e + "II", d, oo + 8 * i)
        mid = d[oof:oof + ol].split(b"\0")[0].decode("utf-8", "replace")
        if mid:
            yield mid


REWRITES = [
    lambda s, w: s,
    lambda s, w: s + "!!!",
    lambda s, w: " ".join(x.upper() if i % 2 == 0 else x for i, x in enumerate(s.split())),
    lambda s, w: "not " + s,
    lambda s, w: s + " but it is really good",
    lambda s, w: "I am very happy: " + s,
    lambda s, w: s + " :( ??",
    lambda s, w: "It is kind of bad that " + s,
    lambda s, w: "never so " + w + ", " + s,
    lambda s, w: "at least " + s + " :)",
    lambda s, w: s.replace(" ", "\u00a0", 2) + " \U0001F600 sad",
    lambda s, w: "BUT " + s.upper() + " is the shit",
    lambda s, w: "This isn't " + w + " at all, " + s + "?",
    lambda s, w: "Hardly " + s.lower() + ", the least " + w,
]

TEMPLATES = [
    "The {w} thing.",
    "It is not {w}!",
    "This is extremely {w} but I don't care.",
    "The service was VERY {W}, the food was {w}!!",
    "I never said it was so {w}, did I??",
    "Kind of {w}, sort of meh :-)",
    "Without a doubt the most {w} day; at least it wasn't {w}.",
    "yeah right, {w}",
    "{W} {W} {w}!!!!",
    "They hardly ever feel {w} and cut the mustard.",
]


def main():
    lex = sys.argv[1]
    base = set()
    for c in CATS:
        for m in msgids(c):
            s = " ".join(m.split())
            if 12 <= len(s.encode()) <= 300 and len(s.split()) >= 3 and "%" not in s and "_" not in s:
                base.add(s)
    base = sorted(base)
    words = []
    with open(lex, encoding="utf-8") as f:
        for i, line in enumerate(f):
            w = line.split("\t")[0]
            if i % 7 == 0 and re.fullmatch(r"[a-z][a-z'-]+", w):
                words.append(w)
    out = []
    for i, s in enumerate(base):
        out.append(s)
        w = words[i % len(words)]
        out.append(REWRITES[i % len(REWRITES)](s, w))
    for j, w in enumerate(words):
        out.append(TEMPLATES[j % len(TEMPLATES)].format(w=w, W=w.upper()))
    for s in out:
        print(s.replace("\n", " "))


if __name__ == "__main__":
    main()
