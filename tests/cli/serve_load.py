"""serve_load.py — kill -9 of `maif serve` under a mixed load, three
times over (run by test_serve_load.sh).

test_serve_crash.sh (serve_crash.py) kills the server once under JSON
one-shot appends and compares indices and ids. This extends it to what a
deployment sees: bearer tokens on, JSON blocks and streamed binary bodies
(the two write paths: the group-commit queue, and the temp-file path under
the writer lock) mixed on every client, three kill -9 at different moments
with a restart on the same directory after each and the load resumed, and
then every acknowledged append of all three rounds compared by index, id,
payload bytes and metadata; `maif verify` after the last clean shutdown,
and also on the file as the last kill -9 left it (before any restart)."""
import json
import os
import random
import signal
import threading
import time

import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_lib import Server, check, finish, maif, sha256_hex  # noqa: E402

W = os.getcwd()
D = os.path.join(W, "d")
os.makedirs(D)
TOKEN = "serve-load-token-" + os.urandom(8).hex()
with open(os.path.join(W, "tokens.json"), "w") as f:
    json.dump({"tokens": [{"name": "load", "sha256": sha256_hex(TOKEN), "scopes": ["read", "write", "admin"],
                           "artifacts": ["*"], "rate": 1e6, "burst": 1e6}]}, f)
r = maif("keygen", os.path.join(W, "server.key"))
check("keygen", r.returncode == 0, r.stderr)
ARGS = ["--dir", D, "--tokens", os.path.join(W, "tokens.json"), "--key", os.path.join(W, "server.key")]
PATH = os.path.join(D, "load.maif")
NTHREADS = 6


def start(n):
    return Server(W, ARGS, log="serve-%d.log" % n)


def load(S, acks, stop, rnd, lock):
    """NTHREADS keep-alive clients; each alternates a JSON text block and a
    binary body (1 B .. 8 KiB, random bytes, X-Maif-Meta) with ?commit=1
    until the server goes away. acks gets one dict per 201."""

    def worker(w):
        c = S.conn(timeout=20)
        i = 0
        while not stop.is_set():
            if i % 2 == 0:
                text = "round %d worker %d n %d %s" % (rnd, w, i, "x" * (i % 50))
                kind, payload, meta = "text", text.encode(), None
                args = ("POST", "/v1/artifacts/load/blocks?commit=1", {"type": "text", "text": text})
                kw = {}
            else:
                payload = os.urandom(1 + (i * 977 + w * 131) % 8192)
                meta = {"round": rnd, "w": w, "n": i}
                kind = "binary"
                args = ("POST", "/v1/artifacts/load/blocks?commit=1", payload)
                kw = {"headers": {"Content-Type": "application/octet-stream", "X-Maif-Type": "binary",
                                  "X-Maif-Meta": json.dumps(meta)}}
            try:
                st, h, d = S.jreq(*args, token=TOKEN, conn=c, **kw)
            except Exception:
                break  # the server is gone: what was not answered was never acknowledged
            if st == 201 and d and d.get("committed"):
                with lock:
                    acks.append({"index": d["index"], "id": d["id"], "kind": kind, "payload": payload,
                                 "meta": meta, "round": rnd})
            elif st not in (201, 503):
                with lock:
                    acks.append({"bad_status": st, "body": d})
            i += 1
        c.close()

    ts = [threading.Thread(target=worker, args=(w,)) for w in range(NTHREADS)]
    for t in ts:
        t.start()
    return ts


S = start(0)
st, h, d = S.jreq("POST", "/v1/artifacts", {"name": "load"}, token=TOKEN)
check("create the artifact", st == 201, "%d %r" % (st, d))

acks, lock = [], threading.Lock()
def acked(rnd, kind):
    with lock:
        return sum(1 for a in acks if a.get("round") == rnd and a.get("kind") == kind)


for rnd, secs in enumerate((0.2, 0.6, 1.0)):
    if rnd > 0:
        S = start(rnd)
    stop = threading.Event()
    before = len(acks)
    ts = load(S, acks, stop, rnd, lock)
    # the kill comes once both kinds have been acknowledged (a slow machine
    # gets there later), then after a different delay each round
    t0 = time.time()
    while time.time() - t0 < 30 and (acked(rnd, "text") < 20 or acked(rnd, "binary") < 20):
        time.sleep(0.05)
    time.sleep(secs)
    S.p.send_signal(signal.SIGKILL)
    S.p.wait()
    stop.set()
    for t in ts:
        t.join()
    S.out.close()
    S.err.close()
    bad = [a for a in acks if "bad_status" in a]
    check("round %d: only 201s before the kill" % rnd, not bad, repr(bad[:3])[:300])
    n = sum(1 for a in acks[before:] if "index" in a)
    kinds = {a["kind"] for a in acks[before:] if "kind" in a}
    check("round %d: appends of both kinds acknowledged before kill -9 (%d)" % (rnd, n),
          n > 0 and kinds == {"text", "binary"}, repr(kinds))
acks = [a for a in acks if "index" in a]

# the file exactly as the last kill -9 left it: a torn tail is cut by the
# recovery, it is never a failed verification
r = maif("verify", PATH)
check("maif verify on the file the kill left (before any restart)", r.returncode == 0,
      (r.stdout + r.stderr)[-600:])

# restart, read everything back through the server
S = start(9)
listed, off = {}, 0
while True:
    st, h, d = S.jreq("GET", "/v1/artifacts/load/blocks?offset=%d&limit=1000" % off, token=TOKEN)
    if st != 200 or not d["blocks"]:
        break
    listed.update({b["index"]: b for b in d["blocks"]})
    off += len(d["blocks"])
check("the restarted server lists the blocks", len(listed) > 0)
idx = [a["index"] for a in acks]
check("acknowledged indices are distinct", len(set(idx)) == len(idx))
missing = [a for a in acks if listed.get(a["index"], {}).get("id") != a["id"]]
check("every acknowledged append (%d, 3 rounds) is present with its index and id" % len(acks), not missing,
      "%d missing, first %r" % (len(missing), [(a["index"], a["id"]) for a in missing[:3]]))
c = S.conn()
wrong = []
for a in acks:
    st, h, body = S.req("GET", "/v1/artifacts/load/blocks/%d" % a["index"], token=TOKEN, conn=c)
    if st != 200 or body != a["payload"]:
        wrong.append((a["index"], a["kind"], st))
    elif a["meta"] is not None and listed.get(a["index"], {}).get("meta") != a["meta"]:
        wrong.append((a["index"], "meta", listed.get(a["index"], {}).get("meta")))
c.close()
check("every acknowledged payload is byte for byte what was sent, and its metadata", not wrong, repr(wrong[:5]))
extra = len(listed) - len(acks)
check("the unacknowledged blocks are at most the requests in flight at the kills", 0 <= extra <= 3 * NTHREADS,
      "%d blocks, %d acknowledged" % (len(listed), len(acks)))
st, h, d = S.jreq("POST", "/v1/artifacts/load/blocks?commit=1", {"type": "text", "text": "after the last restart"},
                  token=TOKEN)
check("appending after the restarts", st == 201, "%d %r" % (st, d))
st, h, d = S.jreq("GET", "/v1/artifacts/load/verify", token=TOKEN)
check("the server's verify: ok", st == 200 and d and d.get("ok") is True, repr(d)[:400])
rc = S.stop()
check("SIGTERM after the restarts: exit 0", rc == 0, S.stderr_text()[-400:])
check("no sanitizer report in the last server", "Sanitizer" not in S.stderr_text() and
      "runtime error" not in S.stderr_text(), S.stderr_text()[-1500:])
r = maif("verify", PATH)
check("maif verify after the crashes and restarts", r.returncode == 0, (r.stdout + r.stderr)[-600:])
r = maif("info", "--json", PATH)
info = json.loads(r.stdout) if r.returncode == 0 else {}
check("no torn bytes left", info.get("torn_bytes") == 0, repr(info)[:300])
check("blocks = listed + the last append", info.get("blocks") == len(listed) + 1, repr(info.get("blocks")))
print("acknowledged: %d (%s); unacknowledged but committed: %d" % (
    len(acks), ", ".join("%s %d" % (k, sum(1 for a in acks if a["kind"] == k)) for k in ("text", "binary")), extra))
finish()
