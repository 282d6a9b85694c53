"""serve_lib.py — what the `maif serve` tests share: starting the real
server (port 0, the URL read from its first stdout line), HTTP requests
with the standard library only, and the pass/fail tally that ends in the
line "N passed, M failed" the test runner reads."""
import hashlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse

BIN = os.environ.get("MAIF_BIN", "build/asan/maif")
passed = 0
failed = 0


def check(desc, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL: %s %s" % (desc, detail), flush=True)


def finish():
    print("%d passed, %d failed" % (passed, failed), flush=True)
    sys.exit(1 if failed else 0)


def sha256_hex(s):
    return hashlib.sha256(s.encode()).hexdigest()


def maif(*args, env=None, inp=None):
    return subprocess.run([BIN] + list(args), capture_output=True, text=True, env=env, input=inp)


class Server:
    """The real server on 127.0.0.1:0 (or https), with its log in a file."""

    def __init__(self, work, args, log="serve.log", tls=False):
        self.work = work
        self.log = os.path.join(work, log)
        self.out = open(os.path.join(work, "serve.out"), "w+")
        self.err = open(os.path.join(work, "serve.err"), "w")
        cmd = [BIN, "serve", "--listen", "127.0.0.1:0", "--log", self.log] + list(args)
        self.p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.err, text=True)
        line = self.p.stdout.readline()
        if not line.startswith("listening on "):
            raise RuntimeError("server did not start: %r (stderr: %s)" % (line, open(self.err.name).read()[-2000:]))
        self.url = line.split()[-1]
        u = urllib.parse.urlparse(self.url)
        self.host, self.port = u.hostname, u.port
        self.tls = u.scheme == "https"

    def conn(self, timeout=60):
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def req(self, method, path, body=None, headers=None, token=None, conn=None, timeout=60):
        """(status, headers dict lower-cased, body bytes)."""
        h = dict(headers or {})
        if token:
            h["Authorization"] = "Bearer " + token
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        c = conn or self.conn(timeout)
        try:
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            data = r.read()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, data
        finally:
            if conn is None:
                c.close()

    def jreq(self, method, path, body=None, headers=None, token=None, conn=None):
        st, h, data = self.req(method, path, body, headers, token, conn)
        try:
            doc = json.loads(data) if data else None
        except ValueError:
            doc = None
        return st, h, doc

    def log_lines(self):
        out = []
        try:
            for line in open(self.log):
                try:
                    out.append(json.loads(line))
                except ValueError:
                    out.append({"unparsed": line})
        except OSError:
            pass
        return out

    def stop(self, sig=signal.SIGTERM, timeout=60):
        if self.p.poll() is None:
            self.p.send_signal(sig)
        try:
            rc = self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            rc = self.p.wait()
        self.out.close()
        self.err.close()
        return rc

    def stderr_text(self):
        return open(self.err.name).read()


def raw(server, data, read_timeout=10, chunks=None, delay=0.0):
    """Sends bytes on a plain socket, returns what came back before close."""
    s = socket.create_connection((server.host, server.port), timeout=read_timeout)
    try:
        try:
            if chunks is None:
                s.sendall(data)
            else:
                for c in chunks:
                    s.sendall(c)
                    time.sleep(delay)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server closed first: read what it said
        out = b""
        while True:
            try:
                b = s.recv(65536)
            except (socket.timeout, ConnectionResetError):
                break
            if not b:
                break
            out += b
        return out
    finally:
        s.close()


def status_of(resp):
    try:
        return int(resp.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return 0
