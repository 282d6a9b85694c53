#!/usr/bin/env python3
"""check-layers: the source tree's layers point one way.

Layers, bottom up (a file may include headers of its own folder and of
folders on lower layers, never of a higher layer nor of a sibling folder on
the same layer):

    util -> {crypto, io} -> codec -> report -> format -> format/{native, v21}
         -> api -> engines -> tools / server / bindings

include/maif.h is the public contract and may be included anywhere.
tools/ (the CLI) uses only the public header and its own headers: it is a
client of the library like any other. Also fails on any include cycle
between files. Prints the layer of every folder.
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# folder (relative to src/ unless it starts with a top-level dir) -> rank
LAYERS = [
    (0, ["util"]),
    (1, ["crypto", "io"]),
    (2, ["codec"]),
    (3, ["report"]),
    (4, ["format"]),
    (5, ["format/native", "format/v21"]),
    (6, ["api"]),
    (7, ["privacy", "semantic", "stream", "security", "understand"]),  # the engines
    (8, ["../tools", "../server", "../bindings"]),
]
RANK = {f: r for r, fs in LAYERS for f in fs}
INC = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def folder_of(path):
    """Layer folder of a file path relative to ROOT, or None if unlayered."""
    if path.startswith("src/"):
        d = os.path.dirname(path[4:])
        return d
    top = path.split("/")[0]
    if top in ("tools", "server", "bindings"):
        return "../" + top
    return None


def resolve(includer, name):
    """Path (relative to ROOT) of an include, as the compiler finds it
    with -Iinclude -Isrc, or None for a system header."""
    for base in (os.path.dirname(includer), "src", "include"):
        p = os.path.normpath(os.path.join(base, name))
        if os.path.isfile(os.path.join(ROOT, p)):
            return p
    return None


def main():
    os.chdir(ROOT)
    files = []
    for top in ("src", "tools", "server", "bindings", "include"):
        for dp, _, fns in os.walk(top):
            for fn in fns:
                if fn.endswith((".c", ".h")):
                    files.append(os.path.join(dp, fn))
    errors = []
    graph = {}
    folders = {}
    for f in sorted(files):
        src = open(f, encoding="utf-8", errors="replace").read()
        fol = folder_of(f)
        if fol is not None:
            if fol not in RANK:
                errors.append(f"{f}: folder '{fol}' has no layer (add it to scripts/check-layers.py)")
                continue
            folders.setdefault(fol, 0)
            folders[fol] += 1
        edges = []
        for name in INC.findall(src):
            p = resolve(f, name)
            if p is None:
                errors.append(f"{f}: includes \"{name}\", which is not in the tree")
                continue
            edges.append(p)
            if fol is None or p == "include/maif.h":
                continue
            tfol = folder_of(p)
            if tfol is None:
                errors.append(f"{f}: includes {p}, outside the layered tree")
                continue
            if tfol == fol:
                continue
            if fol.startswith("../") and not tfol.startswith("../"):
                errors.append(f"{f}: includes {p}: the tools use only include/maif.h")
                continue
            r, tr = RANK[fol], RANK.get(tfol)
            if tr is None:
                errors.append(f"{f}: includes {p} from a folder with no layer")
            elif tr > r:
                errors.append(f"{f}: includes {p}: layer {tr} ({tfol}) is above layer {r} ({fol})")
            elif tr == r:
                errors.append(f"{f}: includes {p}: {tfol} is a sibling on the same layer {r}")
        graph[f] = edges
    # include cycles
    state = {}
    stack = []

    def dfs(u):
        state[u] = 1
        stack.append(u)
        for v in graph.get(u, []):
            if state.get(v) == 1:
                cyc = stack[stack.index(v):] + [v]
                errors.append("include cycle: " + " -> ".join(cyc))
            elif v not in state:
                dfs(v)
        stack.pop()
        state[u] = 2

    sys.setrecursionlimit(10000)
    for f in sorted(graph):
        if f not in state:
            dfs(f)
    for r, fs in LAYERS:
        present = [f.replace("../", "") + "/" for f in fs if f in folders]
        if present:
            print(f"layer {r}: " + ", ".join(f"{p} ({folders[f]} files)" for p, f in
                                             zip(present, [f for f in fs if f in folders])))
    for e in errors:
        print("check-layers: " + e, file=sys.stderr)
    if errors:
        print(f"check-layers: {len(errors)} problem(s)", file=sys.stderr)
        return 1
    print(f"check-layers: ok ({len(files)} files, no include points up, no cycle)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
