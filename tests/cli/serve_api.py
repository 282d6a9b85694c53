"""serve_api.py — `maif serve` end to end (run by test_serve.sh): every
route of docs/API.md, tokens (scopes, artifact lists, expiry, forged),
the artifact's access policy, rate limits, body and connection limits,
hostile requests, logs, metrics (promtool), trace context, concurrency of
one-shot appends, and docs/openapi.yaml against docs/API.md."""
import base64
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_lib import Server, check, finish, maif, raw, sha256_hex, status_of  # noqa: E402

ROOT = sys.argv[1]
W = os.getcwd()
D = os.path.join(W, "d")
os.makedirs(D)

# ---- keys, tokens, a policy artifact made with the CLI
r = maif("keygen", os.path.join(W, "k1.key"))
check("keygen k1", r.returncode == 0, r.stderr)
r = maif("keygen", os.path.join(W, "k2.key"))

TOK = {n: "tok-%s-secret-%s" % (n, os.urandom(6).hex()) for n in
       ["admin", "reader", "writer", "expired", "slow", "k1", "k2", "nosub"]}
tokens = {"tokens": [
    {"name": "admin", "sha256": sha256_hex(TOK["admin"]), "scopes": ["read", "write", "admin"], "artifacts": ["*"]},
    {"name": "reader", "sha256": sha256_hex(TOK["reader"]), "scopes": ["read"], "artifacts": ["*"]},
    {"name": "writer", "sha256": sha256_hex(TOK["writer"]), "scopes": ["read", "write"], "artifacts": ["a*"],
     "expires": "2099-01-01T00:00:00Z"},
    {"name": "expired", "sha256": sha256_hex(TOK["expired"]), "scopes": ["read"], "expires": "2020-01-01T00:00:00Z"},
    {"name": "slow", "sha256": sha256_hex(TOK["slow"]), "scopes": ["read"], "rate": 0.5, "burst": 2},
    {"name": "k1", "sha256": sha256_hex(TOK["k1"]), "scopes": ["read", "write"],
     "subject": os.path.join(W, "k1.key.pub")},
    {"name": "k2", "sha256": sha256_hex(TOK["k2"]), "scopes": ["read", "write"],
     "subject": os.path.join(W, "k2.key.pub")},
    {"name": "nosub", "sha256": sha256_hex(TOK["nosub"]), "scopes": ["read", "write"]},
]}
json.dump(tokens, open(os.path.join(W, "tokens.json"), "w"))
# the policy artifact: k4 (token "k1") may read public text, nobody else anything
r = maif("create", os.path.join(D, "pol.maif"))
check("create pol", r.returncode == 0, r.stderr)
r = maif("keygen", os.path.join(W, "k4.key"))
m = re.search(r"\b[0-9a-f]{64}\b", r.stdout)
check("keygen prints the public key", m is not None, r.stdout)
K4HEX = m.group(0) if m else "00" * 32
pol = {"level": "public", "roles": {"reader": [K4HEX]},
       "rules": [{"role": "reader", "levels": ["public"], "types": ["text"]}]}
json.dump(pol, open(os.path.join(W, "pol.json"), "w"))
r = maif("policy", os.path.join(D, "pol.maif"), "--set", os.path.join(W, "pol.json"))
check("policy --set", r.returncode == 0, r.stderr)
r = maif("add", os.path.join(D, "pol.maif"), "--type", "text", "--text", "public words")
check("add to pol", r.returncode == 0, r.stderr)
tokens["tokens"][5]["subject"] = os.path.join(W, "k4.key.pub")
json.dump(tokens, open(os.path.join(W, "tokens.json"), "w"))
# an artifact with a punched erasure, for the audit route
SHR = os.path.join(D, "shr.maif")
r = maif("create", SHR, "--key", os.path.join(W, "k1.key"))
check("create shr", r.returncode == 0, r.stderr)
r = maif("add", SHR, "--type", "text", "--text", "forget me", "--encrypt", "--shreddable", "--key",
         os.path.join(W, "k1.key"))
check("add --shreddable", r.returncode == 0, r.stderr)
SHR_NUM, SHR_ID = (r.stdout.split() + ["", ""])[:2]  # "index id"
r = maif("shred", SHR, SHR_NUM, "--punch", "--key", os.path.join(W, "k1.key"))
check("shred --punch", r.returncode == 0, r.stderr)

# ---- bad arguments: exit 2 and one line
for args, what in [([], "no --dir"), (["--dir", D], "no tokens"), (["--dir", D, "--no-auth", "--listen", "0.0.0.0:0"],
                                                                    "no-auth off loopback"),
                   (["--dir", D, "--tokens", "/nonexistent"], "missing tokens file"),
                   (["--dir", D, "--no-auth", "--max-body", "x"], "bad max-body"),
                   (["--dir", D, "--no-auth", "--bogus"], "unknown flag"),
                   (["--dir", D, "--no-auth", "--tls-cert", "x"], "cert without key"),
                   (["--dir", D, "--no-auth", "--otlp-endpoint", "ftp://x"], "bad OTLP endpoint")]:
    r = maif("serve", *args)
    check("serve %s: exit 2" % what, r.returncode == 2 and r.stderr.count("\n") == 1 and r.stderr.startswith("maif: "),
          "%d %r" % (r.returncode, r.stderr))
r = maif("serve", "--help")
check("serve --help lists the flags", r.returncode == 0 and all(f in r.stdout for f in [
    "--dir", "--listen", "--tokens", "--no-auth", "--key", "--tls-cert", "--tls-key", "--client-ca", "--max-body",
    "--max-connections", "--threads", "--rate", "--burst", "--log", "--otlp-endpoint", "--ready-file", "--timeout",
    "--writer-idle", "--max-open"]))
r = maif("--help")
check("maif --help lists serve", " serve " in r.stdout)

# ---- the server
rf = os.path.join(W, "ready")
S = Server(W, ["--dir", D, "--tokens", os.path.join(W, "tokens.json"), "--max-body", "100000",
               "--max-connections", "16", "--ready-file", rf, "--timeout", "3", "--threads", "4"])
check("ready file holds the URL", os.path.exists(rf) and open(rf).read().strip() == S.url)


def on_crash(kind, value, tb):
    """A server that died (a sanitizer report stops it, as under make tsan) says why."""
    sys.__excepthook__(kind, value, tb)
    print("server stderr (tail):\n" + S.stderr_text()[-4000:], flush=True)


sys.excepthook = on_crash
A = TOK["admin"]

st, h, d = S.jreq("GET", "/healthz")
check("healthz", st == 200 and d == {"status": "ok"})
st, h, d = S.jreq("GET", "/readyz")
check("readyz", st == 200)
check("traceparent on every response", re.match(r"^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$", h.get("traceparent", "")))
tp_in = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
st, h, d = S.jreq("GET", "/healthz", headers={"traceparent": tp_in})
check("an incoming traceparent is continued", h.get("traceparent", "").startswith("00-0af7651916cd43dd8448eb211c80319c-")
      and "b7ad6b7169203331" not in h.get("traceparent", ""))
st, h, body = S.req("GET", "/ui/")
check("ui/ is served", st == 200 and h.get("content-type", "").startswith("text/html"), "%d" % st)
st, h, body = S.req("GET", "/ui/no-such-file.js")
check("ui/ unknown file: 404", st == 404)

# ---- auth
st, h, d = S.jreq("GET", "/v1/artifacts")
check("no token: 401 + WWW-Authenticate", st == 401 and h.get("www-authenticate", "").startswith("Bearer")
      and d["error"]["code"] == "unauthenticated" and re.match(r"^[0-9a-f]{32}$", d["trace_id"]))
st, h, d = S.jreq("GET", "/v1/artifacts", token="forged-" + A)
check("forged token: 401", st == 401)
st, h, d = S.jreq("GET", "/v1/artifacts", headers={"Authorization": "Basic eDp5"})
check("basic auth: 401", st == 401)
st, h, d = S.jreq("GET", "/v1/artifacts", token=TOK["expired"])
check("expired token: 401", st == 401 and "expired" in d["error"]["message"])
st, h, d = S.jreq("POST", "/v1/artifacts", {"name": "zz"}, token=TOK["reader"])
check("create without admin scope: 403", st == 403 and d["error"]["code"] == "forbidden")

# ---- create, append, commit, read
st, h, d = S.jreq("POST", "/v1/artifacts", {"name": "a1"}, token=A)
check("create: 201", st == 201 and d["name"] == "a1", "%d %r" % (st, d))
st, h, d = S.jreq("POST", "/v1/artifacts", {"name": "a1"}, token=A)
check("create again: 409", st == 409 and d["error"]["code"] == "conflict")
st, h, d = S.jreq("POST", "/v1/artifacts", {"name": "../etc"}, token=A)
check("create a bad name: 400", st == 400)
st, h, d = S.jreq("POST", "/v1/artifacts/a1/blocks?commit=1", {"type": "text", "text": "hello server",
                                                               "meta": {"who": "test"}}, token=TOK["writer"])
check("append one-shot: 201 committed", st == 201 and d["committed"] is True and d["index"] == 0
      and re.match(r"^[0-9a-f]{32}$", d["id"]), "%d %r" % (st, d))
first_id = d["id"] if d else None
st, h, d = S.jreq("POST", "/v1/artifacts/a1/blocks", {"type": "json", "text": "{\"x\": [1, 2]}"}, token=TOK["writer"])
check("append pending: 201 not committed", st == 201 and d["committed"] is False and d["index"] is None)
st, h, d = S.jreq("GET", "/v1/artifacts/a1/blocks", token=TOK["reader"])
check("pending is not visible", st == 200 and d["total"] == 1)
st, h, d = S.jreq("POST", "/v1/artifacts/a1/commit", token=TOK["writer"])
check("commit: the pending block", st == 200 and d["blocks"] == 1 and isinstance(d["commit"], int), "%d %r" % (st, d))
png = b"\x89PNG\r\n\x1a\n" + os.urandom(5000)
st, h, d = S.jreq("POST", "/v1/artifacts/a1/blocks?commit=1", png, token=TOK["writer"],
                  headers={"Content-Type": "image/png", "X-Maif-Meta": json.dumps({"caption": "noise"})})
check("binary append: 201", st == 201 and d["index"] == 2, "%d %r" % (st, d))
st, h, d = S.jreq("POST", "/v1/artifacts/a1/blocks?commit=1", {"type": "embedding", "vector": [0.5, 0.25, 1.0]},
                  token=TOK["writer"])
check("embedding append", st == 201 and d["index"] == 3)
st, h, d = S.jreq("GET", "/v1/artifacts/a1/blocks?offset=0&limit=10", token=TOK["reader"])
check("blocks page", st == 200 and d["total"] == 4 and [b["type"] for b in d["blocks"]] ==
      ["text", "json", "image", "embedding"] and d["blocks"][0]["meta"] == {"who": "test"}
      and d["blocks"][0]["id"] == first_id and all(isinstance(b["commit"], int) for b in d["blocks"]), repr(d))
st, h, d = S.jreq("GET", "/v1/artifacts/a1/blocks?offset=2&limit=1", token=TOK["reader"])
check("blocks page offset/limit", st == 200 and d["offset"] == 2 and len(d["blocks"]) == 1 and d["blocks"][0]["index"] == 2)
st, h, body = S.req("GET", "/v1/artifacts/a1/blocks/0", token=TOK["reader"])
check("block raw: text", st == 200 and body == b"hello server" and h["content-type"].startswith("text/plain"))
st, h, body = S.req("GET", "/v1/artifacts/a1/blocks/2", token=TOK["reader"])
check("block raw: png bytes and type", st == 200 and body == png and h["content-type"] == "image/png")
st, h, d = S.jreq("GET", "/v1/artifacts/a1/blocks/2", token=TOK["reader"], headers={"Accept": "application/json"})
check("block json: base64", st == 200 and base64.b64decode(d["base64"]) == png and d["meta"] == {"caption": "noise"})
st, h, d = S.jreq("GET", "/v1/artifacts/a1/blocks/0", token=TOK["reader"], headers={"Accept": "application/json"})
check("block json: text", st == 200 and d["text"] == "hello server" and d["type"] == "text")
st, h, d = S.jreq("GET", "/v1/artifacts", token=TOK["reader"])
names = [a["name"] for a in d["artifacts"]] if d else []
check("list", st == 200 and "a1" in names and "pol" in names and all(set(a) == {"name", "blocks", "bytes", "format"}
                                                                      for a in d["artifacts"]))
st, h, d = S.jreq("GET", "/v1/artifacts", token=TOK["writer"])
check("list: only the token's artifacts", st == 200 and [a["name"] for a in d["artifacts"]] == ["a1"], repr(d))
st, h, d = S.jreq("GET", "/v1/artifacts/a1", token=TOK["reader"])
check("info", st == 200 and d["blocks"] == 4 and d["format"] == "native" and d["commits"] >= 4
      and len(d["signers"]) == 1 and d["policy_level"] is None, repr(d))
st, h, d = S.jreq("GET", "/v1/artifacts/a1/history", token=TOK["reader"])
check("history", st == 200 and [c["seq"] for c in d["commits"]] == list(range(len(d["commits"])))
      and d["commits"][-1]["blocks"] == 4 and d["commits"][0]["alg"] == "ed25519", repr(d)[:300])
st, h, d = S.jreq("GET", "/v1/artifacts/a1/verify", token=TOK["reader"])
check("verify", st == 200 and d["ok"] is True and d["blocks"] == 4 and len(d["signers"]) == 1)
st, h, d = S.jreq("GET", "/v1/artifacts/a1/audit", token=TOK["reader"])
check("audit", st == 200 and d["ok"] is True and d["entries"] == [])
st, h, d = S.jreq("GET", "/v1/artifacts/shr/audit", token=TOK["reader"])
check("audit of a punched erasure", st == 200 and d["ok"] is True and d["entries"][-1]["action"] == "shred"
      and d["entries"][-1]["record"]["punched"] is True and len(d["entries"][-1]["record"]["blocks"]) == 1
      and d["entries"][-1]["record"]["blocks"] == [SHR_ID], repr(d)[:400])
st, h, body = S.req("GET", "/v1/artifacts/a1/proof?block=2", token=TOK["reader"])
open(os.path.join(W, "proof.json"), "wb").write(body)
r = maif("check-proof", os.path.join(W, "proof.json"))
check("inclusion proof checks with the CLI", st == 200 and r.returncode == 0, r.stdout + r.stderr)
st, h, body = S.req("GET", "/v1/artifacts/a1/proof?from=1&to=3", token=TOK["reader"])
open(os.path.join(W, "proof2.json"), "wb").write(body)
r = maif("check-proof", os.path.join(W, "proof2.json"))
check("consistency proof checks", st == 200 and r.returncode == 0, r.stdout + r.stderr)
st, h, d = S.jreq("GET", "/v1/artifacts/a1/proof", token=TOK["reader"])
check("proof without block or from: 400", st == 400)
st, h, d = S.jreq("GET", "/v1/artifacts/a1/proof?block=99", token=TOK["reader"])
check("proof of a missing block: 404", st == 404)
st, h, d = S.jreq("GET", "/v1/artifacts/a1/graph", token=TOK["reader"])
check("graph", st == 200 and len(d["nodes"]) == 4 and d["edges"] == [])
st, h, d = S.jreq("GET", "/v1/artifacts/a1/search?q=hello&k=3&mode=text", token=TOK["reader"])
check("search", st == 200 and d["results"] and d["results"][0]["index"] == 0 and "hello" in d["results"][0]["snippet"],
      repr(d))
st, h, d = S.jreq("GET", "/v1/artifacts/a1/search?k=3", token=TOK["reader"])
check("search without q: 400", st == 400)
st, h, d = S.jreq("GET", "/v1/artifacts/a1/search?q=x&mode=psychic", token=TOK["reader"])
check("search bad mode: 400", st == 400)
# the CLI agrees with the server about the file
r = maif("verify", os.path.join(D, "a1.maif"))
check("maif verify of the served artifact", r.returncode == 0, r.stdout + r.stderr)
r = maif("ls", "--json", os.path.join(D, "a1.maif"))
check("maif ls sees the 4 blocks", r.returncode == 0 and len(json.loads(r.stdout)) == 4)

# ---- scope, artifact list, policy
st, h, d = S.jreq("POST", "/v1/artifacts/a1/blocks?commit=1", {"type": "text", "text": "x"}, token=TOK["reader"])
check("append with a read token: 403", st == 403)
st, h, d = S.jreq("GET", "/v1/artifacts/pol", token=TOK["writer"])
check("artifact outside the token's list: 403", st == 403)
st, h, d = S.jreq("GET", "/v1/artifacts/pol/blocks/1", token=TOK["k1"])
check("policy: the subject the policy names reads public text", st == 200, "%d" % st)
st, h, d = S.jreq("GET", "/v1/artifacts/pol/blocks/1", token=TOK["k2"])
check("policy: a subject without a role: 403", st == 403 and "policy" in d["error"]["message"])
st, h, d = S.jreq("GET", "/v1/artifacts/pol/blocks/1", token=TOK["nosub"])
check("policy: a token without a subject: 403", st == 403)
st, h, d = S.jreq("POST", "/v1/artifacts/pol/blocks?commit=1",
                  {"type": "text", "text": "secret stuff", "meta": {"level": "confidential"}}, token=TOK["k1"])
check("policy: an unencrypted confidential write: 403", st == 403, "%d %r" % (st, d))
st, h, d = S.jreq("GET", "/v1/artifacts/pol", token=TOK["k1"])
check("info shows the policy level", st == 200 and d["policy_level"] == "public", repr(d))

# ---- rate limit: burst 2, 0.5/s
sts = [S.req("GET", "/v1/artifacts", token=TOK["slow"])[0] for _ in range(4)]
st, h, d = S.jreq("GET", "/v1/artifacts", token=TOK["slow"])
check("rate limit: 429 with Retry-After", sts[:2] == [200, 200] and 429 in sts and st == 429
      and int(h.get("retry-after", "0")) >= 1 and d["error"]["code"] == "rate_limited", repr(sts))

# ---- limits
st, h, d = S.jreq("POST", "/v1/artifacts/a1/blocks?commit=1", os.urandom(200000), token=A,
                  headers={"Content-Type": "application/octet-stream"})
check("413 from Content-Length", st == 413 and d["error"]["code"] == "too_large")
big = b"x" * 150000
resp = raw(S, b"POST /v1/artifacts/a1/blocks?commit=1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + A.encode() +
           b"\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n" +
           b"".join(b"%x\r\n%s\r\n" % (len(big[i:i + 10000]), big[i:i + 10000]) for i in range(0, len(big), 10000)) +
           b"0\r\n\r\n")
check("413 from a chunked body counted as it streams", status_of(resp) == 413, resp[:100])
st, h, d = S.jreq("POST", "/v1/artifacts/a1/blocks?commit=1", b"{not json", token=A,
                  headers={"Content-Type": "application/json"})
check("invalid JSON: 400", st == 400 and d["error"]["code"] == "bad_request")
st, h, d = S.jreq("POST", "/v1/artifacts/a1/blocks?commit=1", {"type": "text", "text": "x", "bogus": 1}, token=A)
check("a block the library refuses: 422", st == 422 and d["error"]["code"] == "unprocessable", "%d %r" % (st, d))
st, h, d = S.jreq("POST", "/v1/artifacts/a1/blocks?commit=1", {"type": "POLY", "text": "{}"}, token=A)
check("a control block through the API: 422", st == 422, "%d %r" % (st, d))
st, h, d = S.jreq("POST", "/v1/artifacts/a1/blocks?commit=1", b"{}", token=A,
                  headers={"Content-Type": "application/octet-stream", "X-Maif-Type": "KEYW"})
check("a binary control block: 422", st == 422, "%d %r" % (st, d))
st, h, d = S.jreq("POST", "/v1/artifacts/a1/blocks?commit=1", {"type": "text", "file": "/etc/passwd"}, token=A)
check("a JSON block naming a server file: 400", st == 400)
st, h, d = S.jreq("POST", "/v1/artifacts", b"name=x", token=A, headers={"Content-Type": "text/plain"})
check("wrong content type: 415", st == 415 and d["error"]["code"] == "unsupported_media_type")
st, h, d = S.jreq("POST", "/v1/artifacts/a1/blocks", b"\xff\xfe", token=A,
                  headers={"Content-Type": "text/plain", "X-Maif-Type": "text"})
st2, h2, d2 = S.jreq("POST", "/v1/artifacts/a1/commit", token=A)
check("binary text that is not UTF-8: refused at commit", st == 201 and st2 == 422, "%d %d %r" % (st, st2, d2))
st, h, d = S.jreq("POST", "/v1/artifacts/a1/blocks?commit=1", b"abc", token=A,
                  headers={"Content-Type": "application/octet-stream", "X-Maif-Meta": "[1]"})
check("X-Maif-Meta not an object: 400", st == 400)
st, h, d = S.jreq("POST", "/v1/artifacts/a1/blocks?commit=1", b"abc", token=A,
                  headers={"Content-Type": "application/octet-stream", "X-Maif-Type": "nonsense"})
check("bad X-Maif-Type: 400", st == 400)

# ---- hostile requests: each a clean 4xx, the server still up
for path, want in [("/v1/artifacts/..%2Fetc/blocks", 400), ("/v1/artifacts/a%2F1", 400),
                   ("/v1/artifacts/a%001", 400), ("/v1/artifacts/a1.maif", 400), ("/v1/artifacts/.hidden", 400),
                   ("/v1/artifacts/%zz", 400), ("/v1/nope", 404), ("/etc/passwd", 404), ("/v1/artifacts/nope", 404),
                   ("/v1/artifacts/a1/blocks/99", 404), ("/v1/artifacts/a1/blocks/-1", 400),
                   ("/v1/artifacts/a1/blocks/99999999999999999999", 400), ("/v1/artifacts/a1/blocks?offset=-5", 400),
                   ("/v1/artifacts/a1/blocks?limit=100000", 400), ("/v1/artifacts/a1/blocks?offset=1e3", 400),
                   ("/v1/artifacts/a1/blocks?offset=99999999999999999999999", 400),
                   ("/v1/artifacts/a1/blocks?offset=1000000000", 200), ("/v1/artifacts/a1/whatever", 404)]:
    st, h, d = S.jreq("GET", path, token=A)
    check("GET %s: %d" % (path, want), st == want and (want == 200 or d["error"]["status"] == want), "%d %r" % (st, d))
st, h, d = S.jreq("DELETE", "/v1/artifacts/a1", token=A)
check("DELETE: 405 with Allow", st == 405 and "GET" in h.get("allow", ""))
st, h, d = S.jreq("PUT", "/v1/artifacts/a1/commit", token=A)
check("PUT commit: 405", st == 405 and h.get("allow") == "POST")
resp = raw(S, b"GET / FOO\r\n\r\n")
check("malformed request line: 400", status_of(resp) == 400, resp[:80])
resp = raw(S, b"GARBAGE\r\n\r\n")  # no method/target split at all: libmicrohttpd closes without a reply
check("a request line of one word: 4xx or closed", resp == b"" or 400 <= status_of(resp) < 500, resp[:80])
resp = raw(S, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200000 + b"\r\n\r\n")
check("huge header: 431", status_of(resp) == 431, resp[:80])
resp = raw(S, b"GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header Line\r\n\r\n")
check("a header line without a colon: 4xx", 400 <= status_of(resp) < 500, resp[:80])
resp = raw(S, b"GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n")
check("HTTP/9.9: 505 or 4xx", status_of(resp) in (400, 505), resp[:80])
st, h, d = S.jreq("GET", "/healthz")
check("still serving after the hostile requests", st == 200)

# slowloris: a body a byte a second is cut off after --timeout (3 s) while others are served
t0 = time.time()
res = {}


def slow():
    res["resp"] = raw(S, None, read_timeout=20, delay=1.0, chunks=[
        b"POST /v1/artifacts/a1/blocks?commit=1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + A.encode() +
        b"\r\nContent-Type: application/octet-stream\r\nContent-Length: 100\r\n\r\n"] + [b"z"] * 12)


def slow_headers():
    res["hdr"] = raw(S, None, read_timeout=20, delay=1.0,
                     chunks=[b"GET /healthz HTTP/1.1\r\n"] + [b"X-A: b\r\n"] * 12)


th = [threading.Thread(target=slow), threading.Thread(target=slow_headers)]
for t in th:
    t.start()
time.sleep(1.5)
st, h, d = S.jreq("GET", "/healthz")
check("others are served during a slow body", st == 200)
for t in th:
    t.join()
check("the slow body is cut off (closed, no 201)", b"201" not in res.get("resp", b"") and time.time() - t0 < 15,
      repr(res.get("resp", b"")[:80]))
check("slow headers are cut off", res.get("hdr", b"") == b"" or status_of(res["hdr"]) >= 400, repr(res.get("hdr")))

# ---- connection limit: --max-connections 16 -> the 17th gets 503 (or is closed)
import socket  # noqa: E402
held = []
for i in range(16):
    s = socket.create_connection((S.host, S.port))
    held.append(s)
time.sleep(0.3)
st, h, d = S.jreq("GET", "/v1/artifacts", token=A)
check("over --max-connections: 503", st == 503 and d["error"]["code"] == "unavailable", "%d" % st)
for s in held:
    s.close()
time.sleep(0.5)
st, h, d = S.jreq("GET", "/v1/artifacts", token=A)
check("under the limit again: 200", st == 200)

# ---- concurrent one-shot appends: every acknowledged index holds its id
acks = []
lock = threading.Lock()


def appender(n):
    c = S.conn()
    for i in range(n):
        st, h, d = S.jreq("POST", "/v1/artifacts/a1/blocks?commit=1", {"type": "text", "text": "c %d" % i}, token=A,
                          conn=c)
        if st == 201:
            with lock:
                acks.append((d["index"], d["id"]))
    c.close()


ts = [threading.Thread(target=appender, args=(25,)) for _ in range(8)]
for t in ts:
    t.start()
for t in ts:
    t.join()
check("200 concurrent appends acknowledged", len(acks) == 200, str(len(acks)))
check("distinct indices", len({i for i, _ in acks}) == len(acks))
r = maif("ls", "--json", os.path.join(D, "a1.maif"))
ids = {b["index"]: b["id"] for b in json.loads(r.stdout)} if r.returncode == 0 else {}
check("each acknowledged index holds the acknowledged id", all(ids.get(i) == x for i, x in acks))

# ---- metrics and logs
st, h, body = S.req("GET", "/metrics")
text = body.decode()
check("metrics: content type 0.0.4", st == 200 and "version=0.0.4" in h.get("content-type", ""))
for name in ["maif_http_requests_total", "maif_http_request_duration_seconds", "maif_http_in_flight",
             "maif_appends_total", "maif_append_bytes_total", "maif_commits_total", "maif_access_denials_total",
             "maif_rate_limited_total", "maif_cache_hits_total", "maif_cache_misses_total",
             "maif_artifact_evictions_total", "maif_writer_releases_total", "maif_open_artifacts"]:
    check("metrics has %s" % name, name in text)
m = re.search(r"^maif_appends_total(?:\{[^}]*\})? (\d+)", text, re.M)
check("appends counted", m is not None and int(m.group(1)) >= 200)
m = re.search(r"^maif_access_denials_total(?:\{[^}]*\})? (\d+)", text, re.M)
check("denials counted", m is not None and int(m.group(1)) >= 5)
if shutil.which("promtool"):
    p = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
    check("promtool check metrics", p.returncode == 0, p.stdout + p.stderr)
else:
    check("promtool is installed (scripts/install-deps.sh)", False)
logs = S.log_lines()
reqs = [x for x in logs if "status" in x]
check("one JSON log line per request", len(reqs) >= 250, str(len(reqs)))
check("log lines carry trace ids and routes", all(re.match(r"^[0-9a-f]{32}$", x.get("trace_id", "")) and "route" in x
                                                  for x in reqs))
check("a 403 is logged with its token", any(x["status"] == 403 and x.get("token") == "k2" for x in reqs))
check("a 401 is logged", any(x["status"] == 401 for x in reqs))
check("hostile traversal is logged as 400", any(x["status"] == 400 and "%2F" in x.get("path", "") for x in reqs))
check("no raw path becomes a metric label", "..%2F" not in text and "/v1/artifacts/a1" not in text)
check("malformed HTTP leaves a log line", any(x.get("level") in ("warn", "error") and "status" not in x for x in logs))

# ---- shutdown
rc = S.stop()
check("SIGTERM: exit 0", rc == 0, "%d %s" % (rc, S.stderr_text()[-500:]))
check("no sanitizer report", "Sanitizer" not in S.stderr_text() and "runtime error" not in S.stderr_text(),
      S.stderr_text()[-2000:])
r = maif("verify", os.path.join(D, "a1.maif"))
check("the artifact verifies after shutdown", r.returncode == 0, r.stdout)

# ---- spans reach an OTLP/HTTP receiver (a local one, written here)
import http.server  # noqa: E402
got = []


class Recv(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        got.append((self.path, self.rfile.read(n)))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *a):
        pass


rs = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recv)
threading.Thread(target=rs.serve_forever, daemon=True).start()
S2 = Server(W, ["--dir", D, "--no-auth", "--otlp-endpoint", "http://127.0.0.1:%d/v1/traces" % rs.server_port],
            log="otlp.log")
tid = "4bf92f3577b34da6a3ce929d0e0e4736"
st, h, d = S2.jreq("GET", "/v1/artifacts/a1", headers={"traceparent": "00-%s-00f067aa0ba902b7-01" % tid})
check("a request with a traceparent", st == 200)
rc = S2.stop()
rs.shutdown()
check("the OTLP server: exit 0", rc == 0, "%d %s" % (rc, S2.stderr_text()[-1500:]))
check("spans were exported to /v1/traces", any(p == "/v1/traces" for p, _ in got), repr(got)[:200])
check("the request's span carries the caller's trace id", any(tid.encode() in b for _, b in got))

# ---- docs/openapi.yaml says what docs/API.md says
try:
    import yaml
    spec = yaml.safe_load(open(os.path.join(ROOT, "docs/openapi.yaml")))
    check("openapi 3.0", str(spec.get("openapi", "")).startswith("3.0"))
    api = open(os.path.join(ROOT, "docs/API.md")).read()
    routes = set()
    for m in re.finditer(r"^\| (GET|POST) \| `([^`]+)` \|", api, re.M):
        path = m.group(2).split("?")[0].split("[")[0]
        routes.add((m.group(1).lower(), path))
    ops = set()
    for path, item in spec["paths"].items():
        for meth in item:
            if meth in ("get", "post", "put", "delete", "patch"):
                ops.add((meth, path))
    check("API.md has routes", len(routes) >= 15, str(routes))
    check("every API.md route is in openapi.yaml", routes <= ops, str(routes - ops))
    check("every openapi.yaml route is in API.md", ops <= routes, str(ops - routes))
except ImportError:
    check("python3-yaml is installed", False)
finish()
