#!/usr/bin/env python3
"""make-lid-sentences: the multilingual test set of the language-id tests.

Reads the translations (compiled .mo catalogues) that two Debian packages
install, libglib2.0-data (glib20.mo) and shared-mime-info, for a fixed list
of languages, and prints one sentence per line: for each language, the
translated strings (and, for English, the original msgids) that look like
prose (at least 4 words, 24..300 bytes, no format directives, no markup),
sorted, the first PER_LANG of them. Deterministic for a given package
version. The sentences are generated at test time from the installed
packages and never committed (their licences are the packages' own).

Usage: make-lid-sentences.py [PER_LANG] > sentences.tsv
Output lines: LANG<TAB>SENTENCE (LANG is the catalogue's language).
"""
import os
import re
import struct
import sys

LANGS = ["de", "fr", "es", "it", "pt", "nl", "sv", "pl", "cs", "ru", "uk", "el",
         "tr", "hu", "fi", "ja", "zh_CN", "ko", "ar", "he", "ro", "da", "ca", "vi"]
CATALOGUES = ["glib20.mo", "shared-mime-info.mo"]
ROOT = "/usr/share/locale"


def read_mo(path):
    """(msgid, msgstr) pairs of a GNU .mo file; plural forms: the first."""
    with open(path, "rb") as f:
        d = f.read()
    magic = struct.unpack_from("<I", d, 0)[0]
    e = "<" if magic == 0x950412DE else ">"
    n, oo, ot = struct.unpack_from(e + "III", d, 8)
    out = []
    for i in range(n):
        ol, oof = struct.unpack_from(e + "II", d, oo + 8 * i)
        tl, tof = struct.unpack_from(e + "II", d, ot + 8 * i)
        mid = d[oof:oof + ol].split(b"\0")[0]
        mstr = d[tof:tof + tl].split(b"\0")[0]
        if mid:
            out.append((mid.decode("utf-8", "replace"), mstr.decode("utf-8", "replace")))
    return out


BAD = re.compile(r"%|\{|\}|<|>|\\|_|\t|\||=|/|\u2026|\"\"|</s>")


def prose(s):
    s = " ".join(s.split())
    if not (24 <= len(s.encode()) <= 300) or BAD.search(s) or "\ufffd" in s:
        return None
    if len(s.split()) < 4 and not re.search(r"[\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af]", s):
        return None
    return s


def main():
    per = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    english = set()
    for lang in LANGS:
        got = set()
        for cat in CATALOGUES:
            p = os.path.join(ROOT, lang, "LC_MESSAGES", cat)
            if not os.path.exists(p):
                continue
            for mid, mstr in read_mo(p):
                t = prose(mstr)
                if t and t != prose(mid):
                    got.add(t)
                t = prose(mid)
                if t:
                    english.add(t)
        for s in sorted(got)[:per]:
            print(f"{lang}\t{s}")
    for s in sorted(english)[:per]:
        print(f"en\t{s}")


if __name__ == "__main__":
    main()
