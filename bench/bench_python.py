#!/usr/bin/python3
"""bench_python.py BUILD_DIR WORKDIR REPS — the Python binding's cost.

Figures, each beside a baseline measured in this run on the same blocks:
  - writing N text blocks of ~1 KiB with metadata through MAIFEncoder,
    against `maif append` of the same blocks as JSON Lines (the C writer
    behind the CLI: one process, one commit);
  - reading every block back through MAIFDecoder (block list, metadata,
    payloads), against maif.Reader.read of the same payloads (the bare
    binding: what the compatibility objects add);
  - maif.verify of the artifact, against `maif verify` (the same C call
    from the CLI: what the binding adds to a long call).
Best of REPS runs each. Rows go to $BENCH_RESULTS for bench/run.sh's table.
"""
import json
import os
import subprocess
import sys
import time

B, W, REPS = sys.argv[1], sys.argv[2], int(sys.argv[3])
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("MAIF_LIB", os.path.join(os.path.abspath(B), "libmaif.so"))
sys.path.insert(0, os.path.join(ROOT, "python"))
import maif  # noqa: E402

N = int(os.environ.get("BENCH_PY_BLOCKS", "20000"))
MAIF_BIN = os.path.join(B, "maif")
TEXT = "x" * 1000
os.environ["MAIF_HOME"] = os.path.join(W, "py-home")


def best(fn):
    out = []
    for _ in range(REPS):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return min(out)


def row(label, value, unit, base_label, base_value):
    ratio = value / base_value if base_value else 0
    print("%-34s %10.0f %-9s  %s %.0f (ratio %.2f)" % (label, value, unit, base_label, base_value, ratio))
    res = os.environ.get("BENCH_RESULTS")
    if res:
        with open(res, "a") as f:
            f.write("F\t%s\t%.0f\t%s\t%s\t%.0f\t%.2f\t-\n" % (label, value, unit, base_label, base_value, ratio))


jsonl = os.path.join(W, "py-batch.jsonl")
with open(jsonl, "w") as f:
    for i in range(N):
        f.write(json.dumps({"type": "text", "text": "%05d %s" % (i, TEXT), "meta": {"i": i}}) + "\n")
cli_path, py_path = os.path.join(W, "py-cli.maif"), os.path.join(W, "py-enc.maif")
key = maif.Key.default()


def cli_write():
    if os.path.exists(cli_path):
        os.unlink(cli_path)
    subprocess.run([MAIF_BIN, "create", cli_path], check=True, capture_output=True)
    subprocess.run([MAIF_BIN, "append", cli_path, jsonl], check=True, capture_output=True)


def py_write():
    enc = maif.MAIFEncoder(py_path, "bench", private_key=key)
    for i in range(N):
        enc.add_text_block("%05d %s" % (i, TEXT), {"i": i})
    enc.finalize()


def py_read():
    with maif.MAIFDecoder(py_path) as d:
        n = sum(len(b.data) for b in d.blocks if b.metadata is not None)
    assert n == N * 1006


def raw_read():
    with maif.Reader(py_path) as r:
        n = sum(len(r.read(i)) for i in range(len(r)))
    assert n == N * 1006


t_cli, t_py = best(cli_write), best(py_write)
row("python MAIFEncoder, 1 KiB text", N / t_py, "blocks/s", "maif append (CLI)", N / t_cli)
t_dec, t_raw = best(py_read), best(raw_read)
row("python MAIFDecoder read, 1 KiB", N / t_dec, "blocks/s", "maif.Reader.read", N / t_raw)
t_v = best(lambda: maif.verify(py_path))
t_vc = best(lambda: subprocess.run([MAIF_BIN, "verify", py_path], check=True, capture_output=True))
row("python maif.verify (%d blocks)" % N, t_v * 1000, "ms", "maif verify (CLI), ms", t_vc * 1000)
for p in (jsonl, cli_path, py_path):
    os.unlink(p)
