#!/usr/bin/python3
"""check-api-tests.py — every public function has a unit test.

Lists the functions include/maif.h declares and fails, naming them, when
one is not used by any C file in tests/unit/ (outside comments). A call
through a conditional expression, as in `(borrow ? maif_writer_add_borrowed
: maif_writer_add)(w, ...)`, counts: the name must appear as an identifier.
CLI tests do not count, since a shell script cannot show which library
calls its command made.

Usage: scripts/check-api-tests.py [--list]   (--list: print the table)
Run from the top of the tree, or through `make check-api-tests`.
"""
import glob
import re
import sys

HEADER = "include/maif.h"
TESTS = "tests/unit/*.c"


def strip_c(text):
    """Removes comments, string and character literals (kept as blanks)."""
    pat = re.compile(r'//[^\n]*|/\*.*?\*/|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'', re.S)

    def blank(m):
        s = m.group(0)
        return '""' if s.startswith('"') else (" " if s.startswith("/") else "' '")

    return pat.sub(blank, text)


def public_functions(path):
    text = strip_c(open(path).read())
    text = re.sub(r"^\s*#.*(?:\\\n.*)*", "", text, flags=re.M)  # preprocessor lines, continued ones too
    names = []
    for m in re.finditer(r"\b(maif_[a-z0-9_]+)\s*\(", text):
        if m.group(1) not in names:
            names.append(m.group(1))
    return names


def main():
    funcs = public_functions(HEADER)
    if not funcs:
        sys.exit("check-api-tests: no functions found in " + HEADER)
    used = {}
    for path in sorted(glob.glob(TESTS)):
        text = strip_c(open(path).read())
        for name in funcs:
            if re.search(r"\b%s\b" % name, text):
                used.setdefault(name, []).append(path.rsplit("/", 1)[-1])
    if "--list" in sys.argv[1:]:
        for name in funcs:
            print("%-32s %s" % (name, " ".join(used.get(name, ["-"]))))
    missing = [n for n in funcs if n not in used]
    if missing:
        print("check-api-tests: %d of %d public functions have no unit test in tests/unit/:" % (len(missing), len(funcs)))
        for n in missing:
            print("  " + n)
        sys.exit(1)
    print("check-api-tests: all %d public functions are used by tests/unit/" % len(funcs))


if __name__ == "__main__":
    main()
