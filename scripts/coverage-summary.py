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
    files = {}  # path relative to the tree -> [lines found, hit, branches found, hit]
    cur = None
    with open(info) as f:
        for line in f:
            line = line.strip()
            if line.startswith("SF:"):
                path = os.path.relpath(os.path.realpath(line[3:]), root)
                cur = files.setdefault(path, [0, 0, 0, 0]) if path.startswith("src" + os.sep) else None
            elif cur is None:
                continue
            elif line.startswith("LF:"):
                cur[0] += int(line[3:])
            elif line.startswith("LH:"):
                cur[1] += int(line[3:])
            elif line.startswith("BRF:"):
                cur[2] += int(line[4:])
            elif line.startswith("BRH:"):
                cur[3] += int(line[4:])
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
