"""serve_crash.py — `maif serve` loses no acknowledged append (run by
test_serve_crash.sh): SIGTERM during a load of one-shot appends (every
acknowledged append is in the file, the file verifies, exit 0), and
kill -9 during such a load, then a restart on the same directory (the
library's crash recovery): every acknowledged append is present with its
index and id, and the artifact verifies."""
import json
import os
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_lib import Server, check, finish, maif  # noqa: E402

W = os.getcwd()
D = os.path.join(W, "d")
os.makedirs(D)
r = maif("create", os.path.join(D, "load.maif"))
check("create", r.returncode == 0, r.stderr)


def load(S, acks, stop, nthreads=8):
    """One-shot appends from nthreads keep-alive clients until stop is set
    or the server goes away; acks gets (index, id, text) of each 201."""
    lock = threading.Lock()

    def worker(w):
        c = S.conn(timeout=30)
        i = 0
        while not stop.is_set():
            text = "w%d n%d" % (w, i)
            try:
                st, h, d = S.jreq("POST", "/v1/artifacts/load/blocks?commit=1", {"type": "text", "text": text}, conn=c)
            except Exception:
                try:
                    c.close()
                    c = S.conn(timeout=30)
                    time.sleep(0.05)
                    if stop.is_set():
                        break
                    continue
                except Exception:
                    break
            if st == 201:
                with lock:
                    acks.append((d["index"], d["id"], text))
            elif st == 503:
                break
            i += 1
        c.close()

    ts = [threading.Thread(target=worker, args=(w,)) for w in range(nthreads)]
    for t in ts:
        t.start()
    return ts


def blocks_of(path):
    r = maif("ls", "--json", path)
    return {b["index"]: b["id"] for b in json.loads(r.stdout)} if r.returncode == 0 else None


path = os.path.join(D, "load.maif")

# ---- SIGTERM during the load
S = Server(W, ["--dir", D, "--no-auth"], log="term.log")
acks, stop = [], threading.Event()
ts = load(S, acks, stop)
time.sleep(2.0)
n_before = len(acks)
rc = S.stop(signal.SIGTERM)
stop.set()
for t in ts:
    t.join()
check("appends were acknowledged before SIGTERM", n_before > 0, str(n_before))
check("SIGTERM: exit 0", rc == 0, "%d %s" % (rc, S.stderr_text()[-400:]))
check("no sanitizer report", "Sanitizer" not in S.stderr_text() and "runtime error" not in S.stderr_text(),
      S.stderr_text()[-1500:])
b = blocks_of(path)
check("the file lists after shutdown", b is not None)
b = b or {}
check("every acknowledged append is in the file, with its id", all(b.get(i) == x for i, x, _ in acks),
      "%d acks, %d blocks" % (len(acks), len(b)))
check("nothing unacknowledged was committed", len(b) == len(acks), "%d acks, %d blocks" % (len(acks), len(b)))
r = maif("verify", path)
check("the artifact verifies after SIGTERM", r.returncode == 0, r.stdout[-500:])
first = len(b)

# ---- kill -9 during the load, restart, recover
S = Server(W, ["--dir", D, "--no-auth"], log="kill.log")
acks, stop = [], threading.Event()
ts = load(S, acks, stop)
time.sleep(2.0)
S.p.send_signal(signal.SIGKILL)
S.p.wait()
stop.set()
for t in ts:
    t.join()
S.out.close()
S.err.close()
check("appends were acknowledged before kill -9", len(acks) > 0)
S = Server(W, ["--dir", D, "--no-auth"], log="restart.log")
st, h, d = S.jreq("POST", "/v1/artifacts/load/blocks?commit=1", {"type": "text", "text": "after the crash"})
check("appending after the restart (the writer recovers the file)", st == 201, "%d %r" % (st, d))
ids = {}
off = 0
while True:
    st, h, d = S.jreq("GET", "/v1/artifacts/load/blocks?offset=%d&limit=1000" % off)
    if st != 200 or not d["blocks"]:
        break
    ids.update({x["index"]: x["id"] for x in d["blocks"]})
    off += len(d["blocks"])
check("every acknowledged append survived kill -9", all(ids.get(i) == x for i, x, _ in acks),
      "%d acks, %d blocks" % (len(acks), len(ids)))
st, h, body = S.req("GET", "/v1/artifacts/load/blocks/%d" % acks[-1][0]) if acks else (0, {}, b"")
check("its payload too", body.decode() == acks[-1][2] if acks else False)
st, h, d = S.jreq("GET", "/v1/artifacts/load/verify")
check("the server's verify: ok", st == 200 and d["ok"] is True, repr(d)[:400])
rc = S.stop()
check("restarted server: exit 0", rc == 0)
r = maif("verify", path)
check("maif verify after the crash and restart", r.returncode == 0, r.stdout[-500:])
check("the blocks before the crash are all there", len(blocks_of(path) or {}) >= first + len(acks) + 1)
finish()
