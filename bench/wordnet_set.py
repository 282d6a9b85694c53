#!/usr/bin/python3
"""wordnet_set.py [N] — the labelled retrieval set of the embedder quality
benchmark: N (default 1000) WordNet 3.0 noun senses (Debian wordnet-base,
data.noun), taken at a fixed stride through the file, one per distinct
lemma; prints "lemma<TAB>gloss" lines (underscores in lemmas become
spaces; the gloss is the definition before any example in quotes). The
gloss is the query, the lemma the answer to find among the N lemmas."""
import os
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
path = os.path.join(os.environ.get("WORDNET_DIR", "/usr/share/wordnet"), "data.noun")
try:
    lines = [l for l in open(path, encoding="utf-8", errors="replace") if not l.startswith("  ") and " | " in l]
except OSError as e:
    sys.stderr.write("wordnet_set.py: %s (install wordnet-base)\n" % e)
    sys.exit(2)
stride = max(len(lines) // (n * 2), 1)
seen, out = set(), []
for i in range(0, len(lines), stride):
    f = lines[i].split(" ")
    lemma = f[4].replace("_", " ")
    gloss = lines[i].split(" | ", 1)[1].split("; \"")[0].strip()
    key = lemma.lower()
    if key in seen or not gloss:
        continue
    seen.add(key)
    out.append("%s\t%s" % (lemma, gloss))
    if len(out) == n:
        break
sys.stdout.write("\n".join(out) + "\n")
