#!/usr/bin/python3
"""coverage-summary.py — line and branch coverage of src/ from an lcov
tracefile, per folder (src/api, src/format/native, ...) and in total.

Usage: scripts/coverage-summary.py build/cov/coverage.info [--files]
With --files, every source file is listed under its folder.
"""
import os
import sys


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    info, show_files = sys.argv[1], "--files" in sys.argv[2:]
    root = os.getcwd()
    # per file: {line: hits} and {(line, block, branch): taken}; counted from
    # DA / BRDA records (lcov does not always write the LF / BRF totals)
    files = {}
    cur = None
    with open(info) as f:
        for line in f:
            line = line.strip()
            if line.startswith("SF:"):
                path = os.path.relpath(os.path.realpath(line[3:]), root)
                cur = files.setdefault(path, ({}, {})) if path.startswith("src" + os.sep) else None
            elif cur is None:
                continue
            elif line.startswith("DA:"):
                ln, hits = line[3:].split(",")[:2]
                cur[0][int(ln)] = cur[0].get(int(ln), 0) + int(hits)
            elif line.startswith("BRDA:"):
                ln, block, branch, taken = line[5:].split(",")
                key = (int(ln), block, branch)
                cur[1][key] = cur[1].get(key, 0) + (0 if taken == "-" else int(taken))
    files = {p: [len(d), sum(1 for v in d.values() if v), len(b), sum(1 for v in b.values() if v)]
             for p, (d, b) in files.items()}
    if not files:
        sys.exit("coverage-summary: no src/ files in " + info)
    folders = {}
    for path, c in files.items():
        acc = folders.setdefault(os.path.dirname(path), [0, 0, 0, 0])
        for i in range(4):
            acc[i] += c[i]

    def pct(hit, found):
        return "%6.1f%%" % (100.0 * hit / found) if found else "     - "

    def row(name, c):
        print("%-34s %s %7s   %s %7s" % (name, pct(c[1], c[0]), "%d/%d" % (c[1], c[0]),
                                          pct(c[3], c[2]), "%d/%d" % (c[3], c[2])))

    print("%-34s %7s %7s   %7s %7s" % ("coverage of src/", "lines", "", "branches", ""))
    total = [0, 0, 0, 0]
    for folder in sorted(folders):
        row(folder, folders[folder])
        if show_files:
            for path in sorted(p for p in files if os.path.dirname(p) == folder):
                row("  " + os.path.basename(path), files[path])
        for i in range(4):
            total[i] += folders[folder][i]
    row("total", total)


if __name__ == "__main__":
    main()
