"""serve_idle.py — `maif serve` gives back what it does not use (run by
test_serve_idle.sh): a writer idle for --writer-idle is closed, so `maif
add` on the same file gets the lock while the server runs, and the
server's next append (one-shot or pending + commit) chains after the
CLI's block; the server's reads see blocks other processes committed;
with --max-open 2, reads of five artifacts in turn stay correct while the
least recently used ones are evicted (maif_artifact_evictions_total
rises, maif_open_artifacts stays at 2), an artifact with pending blocks is
never evicted; a policy another process sets while the writer is idle
binds the server's next writes (pending ones included); and appends, reads, listings, CLI appends and evictions
running at once on threads keep every answer right. Under `make tsan` the
same script drives a ThreadSanitizer build of the server, whose stderr
must hold no report."""
import fcntl
import json
import os
import random
import re
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_lib import Server, check, finish, maif  # noqa: E402

W = os.getcwd()
D = os.path.join(W, "d")
os.makedirs(D)
IDLE_MS = 1500

r = maif("serve", "--help")
check("serve --help lists --writer-idle and --max-open",
      r.returncode == 0 and "--writer-idle" in r.stdout and "--max-open" in r.stdout)
for args, what in [(["--writer-idle", "x"], "bad --writer-idle"), (["--writer-idle", "3600001"], "--writer-idle too big"),
                   (["--max-open", "0"], "--max-open 0")]:
    r = maif("serve", "--dir", D, "--no-auth", *args)
    check("serve %s: exit 2" % what, r.returncode == 2 and r.stderr.count("\n") == 1, "%d %r" % (r.returncode, r.stderr))

NAMES = ["a", "e0", "e1", "e2", "e3", "e4", "c", "p"]
for n in NAMES:
    r = maif("create", os.path.join(D, n + ".maif"))
    check("create %s" % n, r.returncode == 0, r.stderr)
for n in ["e0", "e1", "e2", "e3", "e4"]:
    for i in range(3):
        r = maif("add", os.path.join(D, n + ".maif"), "--type", "text", "--text", "%s block %d" % (n, i))
        check("add to %s" % n, r.returncode == 0, r.stderr)

S = Server(W, ["--dir", D, "--no-auth", "--writer-idle", str(IDLE_MS), "--max-open", "2", "--threads", "4"])


def on_crash(kind, value, tb):
    """A server that died (a sanitizer report stops it) says why."""
    sys.__excepthook__(kind, value, tb)
    print("server stderr (tail):\n" + S.stderr_text()[-4000:], flush=True)


sys.excepthook = on_crash


def metric(name):
    st, h, body = S.req("GET", "/metrics")
    m = re.search(r"^%s (\d+)" % re.escape(name), body.decode(), re.M)
    return int(m.group(1)) if st == 200 and m else -1


def wait_metric(name, at_least, limit=15.0):
    t = time.time() + limit
    while time.time() < t:
        v = metric(name)
        if v >= at_least:
            return v
        time.sleep(0.05)
    return metric(name)


def append(name, text, commit=True):
    return S.jreq("POST", "/v1/artifacts/%s/blocks%s" % (name, "?commit=1" if commit else ""),
                  {"type": "text", "text": text})


def text_of(name, index):
    st, h, body = S.req("GET", "/v1/artifacts/%s/blocks/%d" % (name, index))
    return body.decode("utf-8", "replace") if st == 200 else "<%d>" % st


def ls(name):
    r = maif("ls", "--json", os.path.join(D, name + ".maif"))
    return json.loads(r.stdout) if r.returncode == 0 else []


def verify(name):
    r = maif("verify", os.path.join(D, name + ".maif"))
    return r.returncode == 0, r.stdout + r.stderr


for m_name, kind in [("maif_artifact_evictions_total", "counter"), ("maif_writer_releases_total", "counter"),
                     ("maif_open_artifacts", "gauge")]:
    st, h, body = S.req("GET", "/metrics")
    check("metrics: %s is a %s" % (m_name, kind), ("# TYPE %s %s\n" % (m_name, kind)) in body.decode())

# ---- the idle writer: the CLI gets the lock, the server chains after it
rel0 = metric("maif_writer_releases_total")
st, h, d = append("a", "server one")
check("server append: index 0", st == 201 and d["index"] == 0, "%d %r" % (st, d))
t0 = time.time()
r = maif("add", os.path.join(D, "a.maif"), "--type", "text", "--text", "cli one")
waited = time.time() - t0
check("maif add while the server runs: waits for the idle writer, then succeeds", r.returncode == 0, r.stderr)
check("... the server held the lock until the idle delay (waited %.2f s)" % waited, waited >= 1.0)
check("the release is counted", wait_metric("maif_writer_releases_total", rel0 + 1) >= rel0 + 1)
st, h, d = S.jreq("GET", "/v1/artifacts/a/blocks")
check("the server's reads see the CLI's block", st == 200 and d["total"] == 2 and text_of("a", 1) == "cli one",
      "%d %r" % (st, d))
st, h, d = append("a", "server two")
check("the next server append chains after the CLI's block", st == 201 and d["index"] == 2, "%d %r" % (st, d))
srv_id = d.get("id") if d else None
ok, out = verify("a")
check("maif verify a", ok, out)
blocks = ls("a")
check("three blocks in order, ids as acknowledged",
      [b.get("index") for b in blocks] == [0, 1, 2] and blocks[2]["id"] == srv_id, str(blocks))
check("texts in order", [text_of("a", i) for i in range(3)] == ["server one", "cli one", "server two"])
# pending blocks survive a writer release; the commit appends after the CLI
st, h, d = append("a", "pending one", commit=False)
check("pending append", st == 201 and d["committed"] is False, "%d %r" % (st, d))
r = maif("add", os.path.join(D, "a.maif"), "--type", "text", "--text", "cli two")
check("maif add with blocks pending in the server", r.returncode == 0, r.stderr)
st, h, d = S.jreq("POST", "/v1/artifacts/a/commit", {})
check("commit after the CLI's block: first_index 4", st == 200 and d["blocks"] == 1 and d["first_index"] == 4,
      "%d %r" % (st, d))
check("texts after the commit", [text_of("a", i) for i in range(3, 5)] == ["cli two", "pending one"])
ok, out = verify("a")
check("maif verify a after the pending commit", ok, out)

# another writer holds the lock when the server wants it back: 503, then on
rel1 = wait_metric("maif_writer_releases_total", metric("maif_writer_releases_total") + 1)
fd = os.open(os.path.join(D, "a.maif"), os.O_RDWR)
fcntl.flock(fd, fcntl.LOCK_EX)
t0 = time.time()
st, h, d = append("a", "while locked")
check("append while another process holds the lock: 503 after the 2 s wait",
      st == 503 and d["error"]["code"] == "unavailable" and time.time() - t0 >= 1.5, "%d %r" % (st, d))
fcntl.flock(fd, fcntl.LOCK_UN)
os.close(fd)
st, h, d = append("a", "after the lock")
check("then the next append: index 5", st == 201 and d["index"] == 5, "%d %r" % (st, d))
ok, out = verify("a")
check("maif verify a after the refused reopen", ok, out)

# ---- eviction: five artifacts read in turn through two slots
ev0 = metric("maif_artifact_evictions_total")
good = True
for rnd in range(3):
    for n in ["e0", "e1", "e2", "e3", "e4"]:
        for i in range(3):
            t = text_of(n, (i + rnd) % 3)
            if t != "%s block %d" % (n, (i + rnd) % 3):
                good = False
                print("wrong read %s %d: %r" % (n, i, t))
check("reads through --max-open 2 stay correct", good)
ev1 = wait_metric("maif_artifact_evictions_total", ev0 + 12)
check("evictions counted (%d -> %d)" % (ev0, ev1), ev1 >= ev0 + 12)
check("open artifacts within --max-open", 0 <= metric("maif_open_artifacts") <= 2)
st, h, d = S.jreq("GET", "/v1/artifacts")
names = sorted(x["name"] for x in d["artifacts"]) if st == 200 else []
check("the list names every artifact, with block counts",
      names == sorted(NAMES) and all(x["blocks"] == 3 for x in d["artifacts"] if x["name"].startswith("e")),
      "%d %r" % (st, d))
# pending blocks pin their artifact
st, h, d = append("e0", "kept pending", commit=False)
check("pending append to e0", st == 201)
for n in ["e1", "e2", "e3", "e4", "e1", "e2"]:
    text_of(n, 0)
st, h, d = S.jreq("POST", "/v1/artifacts/e0/commit", {})
check("e0's pending block survived the evictions", st == 200 and d["blocks"] == 1 and d["first_index"] == 3,
      "%d %r" % (st, d))
check("e0 block 3", text_of("e0", 3) == "kept pending")

# ---- a policy another process sets while the writer is idle binds the server's next writes
r = maif("keygen", os.path.join(W, "r.key"))
m = re.search(r"\b[0-9a-f]{64}\b", r.stdout)
pol = {"level": "public", "roles": {"reader": [m.group(0) if m else "00" * 32]},
       "rules": [{"role": "reader", "levels": ["public"], "types": ["text"]}]}
json.dump(pol, open(os.path.join(W, "pol.json"), "w"))
rel = metric("maif_writer_releases_total")
st, h, d = append("p", "before the policy")
check("p: append before any policy", st == 201 and d["index"] == 0, "%d %r" % (st, d))
CONF = {"type": "text", "text": "secret", "meta": {"level": "confidential"}}
st, h, d = S.jreq("POST", "/v1/artifacts/p/blocks", CONF)
check("p: an unencrypted confidential block is pending (no policy yet)", st == 201, "%d %r" % (st, d))
check("p: the writer is released", wait_metric("maif_writer_releases_total", rel + 1) >= rel + 1)
r = maif("policy", os.path.join(D, "p.maif"), "--set", os.path.join(W, "pol.json"))
check("p: maif policy --set beside the server", r.returncode == 0, r.stderr)
st, h, d = S.jreq("POST", "/v1/artifacts/p/commit", {})
check("p: the commit checks the pending block against the policy under the new lock: 403, dropped",
      st == 403 and d["error"]["message"].startswith(
          "commit refused, the pending blocks are dropped: the artifact's policy refuses"), "%d %r" % (st, d))
st, h, d = S.jreq("POST", "/v1/artifacts/p/blocks?commit=1", CONF)
check("p: a one-shot confidential write: 403", st == 403, "%d %r" % (st, d))
ok, out = verify("p")
check("maif verify p", ok, out)
r = maif("ls", "--json", os.path.join(D, "p.maif"))
check("p: the refused blocks are not in the file", r.returncode == 0 and "secret" not in r.stdout, r.stdout[-500:])

# ---- all at once: appends, reads, listings, a CLI writer, evictions
acks, errors = [], []
lock = threading.Lock()
stop = threading.Event()
base = {n: len(ls(n)) for n in NAMES}
# "c" is written by the CLI only, after one server append (its writer then idles out)
st, h, d = append("c", "server in c")
check("server append to c", st == 201)


def appender(k):
    rnd = random.Random(k)
    for i in range(25):
        n = rnd.choice(["e0", "e1", "e2", "e3"])
        text = "t%d-%d" % (k, i)
        try:
            st, h, d = append(n, text)
        except OSError as e:
            st, d = 0, str(e)
        with lock:
            if st == 201:
                acks.append((n, d["index"], d["id"], text))
            else:
                errors.append("append %s: %d %r" % (n, st, d))


def reader(k):
    rnd = random.Random(100 + k)
    while not stop.is_set():
        n = rnd.choice(["e0", "e1", "e2", "e3", "e4", "a"])
        try:
            if rnd.random() < 0.15:
                st, h, d = S.jreq("GET", "/v1/artifacts")
                ok = st == 200 and len(d["artifacts"]) == len(NAMES)
            elif n == "a":
                ok = text_of("a", 1) == "cli one"
            else:
                i = rnd.randrange(3)
                ok = text_of(n, i) == "%s block %d" % (n, i)
        except OSError as e:
            ok = False
            n += " " + str(e)
        if not ok:
            with lock:
                errors.append("read %s" % n)


cli_adds = []


def cli_writer():
    time.sleep(IDLE_MS / 1000.0 + 0.3)
    for i in range(3):
        r = maif("add", os.path.join(D, "c.maif"), "--type", "text", "--text", "cli c %d" % i)
        with lock:
            cli_adds.append(r.returncode)


ev2 = metric("maif_artifact_evictions_total")
threads = [threading.Thread(target=appender, args=(k,)) for k in range(4)]
threads += [threading.Thread(target=cli_writer)]
readers = [threading.Thread(target=reader, args=(k,)) for k in range(3)]
for t in threads + readers:
    t.start()
for t in threads:
    t.join()
stop.set()
for t in readers:
    t.join()
check("concurrent: every request answered right", not errors, "; ".join(errors[:5]))
check("concurrent: 100 appends acknowledged", len(acks) == 100, str(len(acks)))
check("concurrent: the CLI's appends to c succeeded", cli_adds == [0, 0, 0], str(cli_adds))
check("concurrent: evictions happened meanwhile", metric("maif_artifact_evictions_total") > ev2)
for n in ["e0", "e1", "e2", "e3"]:
    mine = sorted((i, x, t) for (a, i, x, t) in acks if a == n)
    idx = [i for i, _, _ in mine]
    check("%s: acknowledged indices are distinct and follow the earlier blocks" % n,
          len(set(idx)) == len(idx) and idx == list(range(base[n], base[n] + len(idx))), str(idx))
    blocks = {b["index"]: b["id"] for b in ls(n)}
    check("%s: each acknowledged index holds the acknowledged id" % n, all(blocks.get(i) == x for i, x, _ in mine))
    check("%s: each acknowledged block reads back" % n, all(text_of(n, i) == t for i, _, t in mine))
    ok, out = verify(n)
    check("maif verify %s" % n, ok, out)
st, h, d = S.jreq("GET", "/v1/artifacts/c/blocks")
check("c: the server reads the CLI's blocks", st == 200 and d["total"] == 4 and text_of("c", 3) == "cli c 2",
      "%d %r" % (st, d))
ok, out = verify("c")
check("maif verify c", ok, out)

# ---- --writer-idle 0 keeps the writer (the lock) until shutdown
rc = S.stop()
check("server exits 0", rc == 0, str(rc))
err = S.stderr_text()
check("no ThreadSanitizer report", "ThreadSanitizer" not in err, err[-3000:])
S = Server(W, ["--dir", D, "--no-auth", "--writer-idle", "0"], log="serve2.log")
st, h, d = append("a", "held")
check("append with --writer-idle 0", st == 201)
time.sleep(1.0)
check("no release with --writer-idle 0", metric("maif_writer_releases_total") == 0)
rc = S.stop()
check("server exits 0 (2)", rc == 0, str(rc))
check("no ThreadSanitizer report (2)", "ThreadSanitizer" not in S.stderr_text())
finish()
