#!/usr/bin/env bash
# test_obs.sh — the observability of `maif serve` through the obs_demo helper
# (server/obs_*.c without the server): `promtool check metrics` on the
# rendered metrics; OTLP/HTTP JSON spans received by a collector written here
# (python3 http.server): their shape, the continuation of a given
# traceparent, the sampled flag; a refused, a silent and a failing collector
# neither block nor crash and every span is counted as exported or dropped;
# the JSON log lines agree with the traces; the Grafana dashboard
# (deploy/grafana/maif-dashboard.json) queries only metrics obs emits, in
# PromQL that promtool parses.
HARNESS_NAME=obs
source "$(dirname "$0")/harness.bash"

DEMO="$(dirname "$MAIF_BIN")/tests/obs_demo"
DASH="$ROOT/deploy/grafana/maif-dashboard.json"
if [ ! -x "$DEMO" ]; then
  echo "skipped: $DEMO not built"
  harness_finish
  exit $?
fi

pids=""
trap 'for p in $pids; do kill "$p" 2>/dev/null; done; rm -rf "$T"' EXIT

TRACE=4bf92f3577b34da6a3ce929d0e0e4736
PARENT=00f067aa0ba902b7

# collector MODE NAME: starts a collector (ok: 200, fail: 500, hole: accepts
# connections and never reads) writing each request it gets to NAME.jsonl;
# its port in $port.
collector() {
  local mode=$1 name=$2
  rm -f "$name.port" "$name.jsonl"
  "$PY" - "$mode" "$name" >"$name.log" 2>&1 <<'EOF' &
import http.server, json, socket, sys, time
mode, name = sys.argv[1], sys.argv[2]
if mode == "hole":
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(64)
    open(name + ".port", "w").write(str(s.getsockname()[1]))
    while True:
        time.sleep(60)
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with open(name + ".jsonl", "a") as f:
            f.write(json.dumps({"path": self.path, "ct": self.headers.get("Content-Type"),
                                "body": body.decode("utf-8")}) + "\n")
        code = 200 if mode == "ok" else 500
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(b"{}")
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
open(name + ".port", "w").write(str(s.server_address[1]))
s.serve_forever()
EOF
  pids="$pids $!"
  for _ in $(seq 100); do [ -s "$name.port" ] && break; sleep 0.1; done
  port=$(cat "$name.port" 2>/dev/null)
}

# demo ARGS...: runs obs_demo (bounded: a hang fails), metrics to $OUT.
demo() {
  timeout 120 "$DEMO" "$@" >"$OUT" 2>"$ERR"
  rc=$?
}
# metric NAME: the value of an unlabelled sample in $OUT.
metric() { sed -n "s/^$1 //p" "$OUT"; }

# ---- metrics: promtool
demo -n 200
expect "obs_demo runs" 0
ok "promtool check metrics" promtool check metrics <"$OUT"
cp "$OUT" metrics.txt
ok "request counter by route, method, code" grep -qx 'maif_http_requests_total{route="append",method="POST",code="201"} 29' metrics.txt
ok "histogram +Inf bucket" grep -qx 'maif_http_request_duration_seconds_bucket{route="append",le="+Inf"} 29' metrics.txt
ok "appends counted" grep -qx 'maif_appends_total 29' metrics.txt
ok "in flight back to 0" grep -qx 'maif_http_in_flight 0' metrics.txt

# ---- OTLP: spans from a given traceparent
collector ok c1
ok "collector started" test -n "$port"
demo --otlp "http://127.0.0.1:$port/v1/traces" --traceparent "00-$TRACE-$PARENT-01" \
  --log log1.jsonl --tp-out tp1.txt -n 40
expect "obs_demo with an exporter" 0
ok "promtool with an exporter" promtool check metrics <"$OUT"
ok "40 spans exported" [ "$(metric maif_otlp_spans_exported_total)" = 40 ]
ok "none dropped" [ "$(metric maif_otlp_spans_dropped_total)" = 0 ]
ok "the response traceparents continue the trace" \
  "$PY" -c '
import re, sys
lines = open("tp1.txt").read().split()
ok = len(lines) == 40 and all(re.fullmatch("00-'$TRACE'-[0-9a-f]{16}-01", l) for l in lines)
spans = {l[36:52] for l in lines}
sys.exit(0 if ok and len(spans) == 40 and "'$PARENT'" not in spans else 1)'
cat >check_spans.py <<'EOF'
import json, re, sys, time
got, tpfile, trace, parent, n = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
reqs = [json.loads(l) for l in open(got)]
assert reqs, "no request"
spans = []
for r in reqs:
    assert r["path"] == "/v1/traces", r["path"]
    assert r["ct"] == "application/json", r["ct"]
    d = json.loads(r["body"])
    assert list(d) == ["resourceSpans"]
    rs = d["resourceSpans"]
    assert len(rs) == 1
    attrs = {a["key"]: a["value"] for a in rs[0]["resource"]["attributes"]}
    assert attrs["service.name"] == {"stringValue": "maif-demo"}, attrs
    ss = rs[0]["scopeSpans"]
    assert len(ss) == 1 and ss[0]["scope"]["name"]
    spans += ss[0]["spans"]
assert len(spans) == n, (len(spans), n)
tps = open(tpfile).read().split()
assert {s["spanId"] for s in spans} == {t[36:52] for t in tps}
now = time.time_ns()
routes = {"append", "block", "search", "healthz", "commit", "verify", "list"}
for s in spans:
    assert re.fullmatch("[0-9a-f]{32}", s["traceId"]) and s["traceId"] != "0" * 32
    assert re.fullmatch("[0-9a-f]{16}", s["spanId"]) and s["spanId"] != "0" * 16
    if trace != "-":
        assert s["traceId"] == trace and s["parentSpanId"] == parent, s
    else:
        assert "parentSpanId" not in s or s["parentSpanId"] == ""
    assert s["name"] in routes and s["kind"] == 2
    st, en = s["startTimeUnixNano"], s["endTimeUnixNano"]
    assert isinstance(st, str) and isinstance(en, str) and st.isdigit() and en.isdigit()
    assert int(en) >= int(st)
    # the monotonic start times became wall-clock ones (within a day of now)
    assert abs(int(st) - now) < 86400 * 10**9, (st, now)
    a = {x["key"]: x["value"] for x in s["attributes"]}
    assert set(a) == {"http.request.method", "http.route", "http.response.status_code", "url.path"}, a
    assert a["http.route"] == {"stringValue": s["name"]}
    assert a["http.request.method"]["stringValue"] in ("GET", "POST")
    assert a["url.path"]["stringValue"].startswith("/v1/artifacts/demo")
    code = int(a["http.response.status_code"]["intValue"])
    assert (s.get("status", {}).get("code") == 2) == (code >= 500), s
if trace == "-":
    assert len({s["traceId"] for s in spans}) == n  # each request a trace of its own
EOF
ok "OTLP JSON shape, trace continuation" "$PY" check_spans.py c1.jsonl tp1.txt "$TRACE" "$PARENT" 40
# the log: one JSON line per request (and the two messages), ids as in the spans
ok "log lines agree with the traces" "$PY" -c '
import json, sys
L = [json.loads(l) for l in open("log1.jsonl")]
req = [l for l in L if "route" in l]
msg = [l for l in L if "msg" in l]
tps = open("tp1.txt").read().split()
ok = len(L) == 42 and len(req) == 40 and len(msg) == 2
ok = ok and all(l["trace_id"] == "'$TRACE'" for l in req)
ok = ok and [l["span_id"] for l in req] == [t[36:52] for t in tps]
ok = ok and all((l["level"] == "error") == (l["status"] >= 500) for l in req)
ok = ok and all(("error" in l) == (l["status"] >= 400) for l in req)
sys.exit(0 if ok else 1)'

# ---- OTLP: new traces, and batches
collector ok c2
demo --otlp "http://127.0.0.1:$port" --tp-out tp2.txt -n 1500
expect "obs_demo, 1500 requests" 0
ok "1500 spans exported" [ "$(metric maif_otlp_spans_exported_total)" = 1500 ]
ok "new traces: no parent, one trace per request" "$PY" check_spans.py c2.jsonl tp2.txt - - 1500
ok "in batches of at most 512" "$PY" -c '
import json, sys
n = [len(json.loads(json.loads(l)["body"])["resourceSpans"][0]["scopeSpans"][0]["spans"]) for l in open("c2.jsonl")]
sys.exit(0 if len(n) >= 3 and max(n) <= 512 and sum(n) == 1500 else 1)'

# ---- not sampled: no span leaves
before=$(wc -l <c1.jsonl)
demo --otlp "http://127.0.0.1:$port" --traceparent "00-$TRACE-$PARENT-00" --tp-out tp3.txt -n 20
expect "obs_demo, not sampled" 0
ok "not sampled: nothing exported" [ "$(metric maif_otlp_spans_exported_total)" = 0 ]
ok "not sampled: the collector got nothing" [ "$(wc -l <c1.jsonl)" = "$before" ]
ok "not sampled: the flag is answered" [ "$(grep -c -- '-00$' tp3.txt)" = 20 ]

# ---- collectors that fail: never a hang, never a crash, every span counted
free_port=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
demo --otlp "http://127.0.0.1:$free_port/v1/traces" --log log4.jsonl -n 100
expect "refused collector" 0
ok "refused: all 100 dropped" [ "$(metric maif_otlp_spans_dropped_total)" = 100 ]
ok "refused: a failure counted" [ "$(metric maif_otlp_export_failures_total)" -ge 1 ]
ok "refused: logging unaffected" [ "$(grep -c '"route"' log4.jsonl)" = 100 ]
ok "promtool after failures" promtool check metrics <"$OUT"

collector hole c3
demo --otlp "http://127.0.0.1:$port/v1/traces" -n 100
expect "silent collector" 0
ok "silent: all 100 dropped" [ "$(metric maif_otlp_spans_dropped_total)" = 100 ]
ok "silent: nothing exported" [ "$(metric maif_otlp_spans_exported_total)" = 0 ]

collector fail c4
demo --otlp "http://127.0.0.1:$port/v1/traces" -n 100
expect "collector answering 500" 0
ok "500: all dropped" [ "$(metric maif_otlp_spans_dropped_total)" = 100 ]
ok "500: the collector was asked" [ -s c4.jsonl ]

demo --otlp "https://127.0.0.1:4318/v1/traces" -n 1
ok "https endpoint refused (exit 2)" [ "$rc" = 2 ]
ok "https endpoint: the reason" err_has 'https is not supported'
demo --otlp "http://bad host/" -n 1
ok "bad endpoint refused (exit 2)" [ "$rc" = 2 ]

# ---- end to end: the real `maif serve`
if "$MAIF_BIN" serve --help >/dev/null 2>&1; then
  m keygen server.key; expect "keygen" 0
  mkdir -p arts
  collector ok c5
  "$MAIF_BIN" serve --dir arts --listen 127.0.0.1:0 --no-auth --key server.key --ready-file ready \
    --log serve.jsonl --otlp-endpoint "http://127.0.0.1:$port/v1/traces" >serve.out 2>serve.err &
  spid=$!
  pids="$pids $spid"
  for _ in $(seq 300); do [ -s ready ] && break; sleep 0.1; done
  U=$(head -n1 ready 2>/dev/null)
  ok "serve: ready" [ -n "$U" ]
  # traceparent round trip: same trace, the server's own span, sampled
  curl -s -D h1.txt -o /dev/null -H "traceparent: 00-$TRACE-$PARENT-01" "$U/healthz"
  tp1=$(tr -d '\r' <h1.txt | sed -n 's/^traceparent: //Ip')
  ok "serve: traceparent continued ($tp1)" "$PY" -c '
import re, sys
t = sys.argv[1]
sys.exit(0 if re.fullmatch("00-'$TRACE'-[0-9a-f]{16}-01", t) and t[36:52] not in ("'$PARENT'", "0" * 16) else 1)' "$tp1"
  # an invalid one (uppercase) starts a new trace
  curl -s -D h2.txt -o /dev/null -H "traceparent: 00-${TRACE^^}-$PARENT-01" "$U/healthz"
  tp2=$(tr -d '\r' <h2.txt | sed -n 's/^traceparent: //Ip')
  ok "serve: invalid traceparent, a new trace" "$PY" -c '
import re, sys
t = sys.argv[1]
sys.exit(0 if re.fullmatch("00-[0-9a-f]{32}-[0-9a-f]{16}-01", t) and "'$TRACE'" not in t else 1)' "$tp2"
  curl -s -o /dev/null -w '%{http_code}\n' -H 'Content-Type: application/json' -d '{"name":"obs"}' \
    "$U/v1/artifacts" >code.txt
  ok "serve: create (201)" [ "$(head -n1 code.txt)" = 201 ]
  for i in 1 2 3; do
    curl -s -o /dev/null -w '%{http_code}\n' -H 'Content-Type: application/json' \
      -d "{\"type\":\"text\",\"text\":\"obs $i\"}" "$U/v1/artifacts/obs/blocks?commit=1" >>code.txt
  done
  ok "serve: 3 appends (201)" [ "$(grep -c '^201$' code.txt)" = 4 ]
  curl -s -o err404.json "$U/v1/artifacts/nope/verify"
  # a hostile raw path (quote, invalid UTF-8, backslash, a control
  # character): a 400, and still valid JSON in the log and the span
  "$PY" -c '
import socket, sys
h, p = sys.argv[1].rsplit("/", 1)[-1].rsplit(":", 1)
s = socket.create_connection((h, int(p)), timeout=30)
s.sendall(b"GET /v1/artifacts/x\"y\xff\\z\x01/verify HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
while s.recv(4096):
    pass' "$U"
  curl -s "$U/metrics" >serve_metrics.txt
  ok "serve: promtool check metrics on /metrics" promtool check metrics <serve_metrics.txt
  ok "serve: appends counted" grep -qx 'maif_appends_total 3' serve_metrics.txt
  ok "serve: commits counted" "$PY" -c '
import sys
v = [l.split()[1] for l in open("serve_metrics.txt") if l.startswith("maif_commits_total ")]
sys.exit(0 if v and int(v[0]) >= 1 else 1)'
  ok "serve: requests by route and code" grep -qx 'maif_http_requests_total{route="append",method="POST",code="201"} 3' serve_metrics.txt
  ok "serve: healthz counted" grep -qx 'maif_http_requests_total{route="healthz",method="GET",code="200"} 2' serve_metrics.txt
  ok "serve: 404 counted" grep -qx 'maif_http_requests_total{route="verify",method="GET",code="404"} 1' serve_metrics.txt
  cp serve_metrics.txt metrics.txt # the dashboard check below reads the real server's metrics
  kill -TERM "$spid"
  for _ in $(seq 300); do kill -0 "$spid" 2>/dev/null || break; sleep 0.1; done
  wait "$spid"
  ok "serve: clean exit on SIGTERM" [ $? = 0 ]
  ok "serve: log lines, spans and answers agree" "$PY" - "$TRACE" "$PARENT" "$tp1" <<'EOF2'
import json, sys
trace, parent, tp1 = sys.argv[1:4]
L = [json.loads(l) for l in open("serve.jsonl")]
req = [l for l in L if "route" in l]
assert len(req) == 9, len(req)  # 2 healthz, create, 3 appends, 404, 400, metrics
h = [l for l in req if l["route"] == "healthz"]
assert h[0]["trace_id"] == trace and h[0]["span_id"] == tp1[36:52], h[0]
assert h[1]["trace_id"] != trace
e = json.load(open("err404.json"))
miss = [l for l in req if l["status"] == 404]
assert len(miss) == 1 and miss[0]["trace_id"] == e["trace_id"] and miss[0]["error"], miss
assert miss[0]["artifact"] == "nope" and miss[0]["route"] == "verify"
spans = []
for l in open("c5.jsonl"):
    d = json.loads(json.loads(l)["body"])
    spans += d["resourceSpans"][0]["scopeSpans"][0]["spans"]
by_id = {s["spanId"]: s for s in spans}
assert len(spans) == len(req), (len(spans), len(req))  # every request is a span
for l in req:
    s = by_id[l["span_id"]]
    assert s["traceId"] == l["trace_id"] and s["name"] == l["route"] and s["kind"] == 2
    a = {x["key"]: x["value"] for x in s["attributes"]}
    assert int(a["http.response.status_code"]["intValue"]) == l["status"]
    assert a["url.path"]["stringValue"] == l["path"]
s = by_id[tp1[36:52]]
assert s["parentSpanId"] == parent
bad = [l for l in req if l["status"] == 400]
assert len(bad) == 1 and bad[0]["path"] == '/v1/artifacts/x"y\ufffd\\z\x01/verify', bad
a = {x["key"]: x["value"] for x in by_id[bad[0]["span_id"]]["attributes"]}
assert a["url.path"]["stringValue"] == bad[0]["path"]
EOF2
else
  echo "skipped: end-to-end checks (this build has no maif serve)"
fi

# ---- the Grafana dashboard
ok "dashboard is JSON with a Prometheus data source variable" "$PY" -c '
import json, sys
d = json.load(open(sys.argv[1]))
v = {x["name"]: x for x in d["templating"]["list"]}
ds = v["datasource"]
ok = d["schemaVersion"] >= 38 and ds["type"] == "datasource" and ds["query"] == "prometheus"
ps = [p for p in d["panels"] if p["type"] != "row"]
ok = ok and all(p["datasource"]["uid"] == "${datasource}" for p in ps)
ok = ok and all(t["datasource"]["uid"] == "${datasource}" for p in ps for t in p["targets"])
ids = [p["id"] for p in d["panels"]]
ok = ok and len(ids) == len(set(ids))
titles = " ".join(p["title"].lower() for p in ps)
for w in ["request rate", "p50", "p99", "appends/s", "commit", "bytes/s", "denials", "rate limited", "verify", "cache hit", "in flight"]:
    ok = ok and w in titles
sys.exit(0 if ok else 1)' "$DASH"
# every metric the dashboard queries is one obs renders (metrics.txt), and
# every query is PromQL promtool parses (as recording rules)
"$PY" - "$DASH" metrics.txt >dash.out 2>&1 <<'EOF'
import json, re, sys
d = json.load(open(sys.argv[1]))
emitted = set()
for l in open(sys.argv[2]):
    if not l.startswith("#") and l.strip():
        emitted.add(re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", l).group(0))
exprs = [t["expr"] for p in d["panels"] for t in p.get("targets", [])]
exprs += [v["query"]["query"] if isinstance(v["query"], dict) else v["query"]
          for v in d["templating"]["list"] if v["type"] == "query"]
used = set()
for e in exprs:
    e = re.sub(r'"[^"]*"', '""', e)  # label values are not metric names
    used |= set(re.findall(r"\bmaif_[a-z0-9_]+", e))
missing = used - emitted
print("used", len(used), "missing", sorted(missing))
with open("dash_rules.yml", "w") as f:
    f.write("groups:\n- name: dashboard\n  rules:\n")
    for i, e in enumerate(exprs):
        if e.startswith("label_values("):
            m = re.match(r"label_values\((.*), *[a-z_]+\)$", e)
            e = m.group(1)
        for var, val in (("$__rate_interval", "5m"), ("$__range", "1h"), ("$__interval", "1m"), ("$job", ".*"), ("$instance", ".*")):
            e = e.replace(var, val)
        f.write("  - record: dashboard:expr%d\n    expr: %s\n" % (i, json.dumps(e)))
sys.exit(1 if missing or len(used) < 12 else 0)
EOF
dash_rc=$?
ok "dashboard metrics are all emitted ($(head -c 200 dash.out))" [ "$dash_rc" = 0 ]
ok "dashboard PromQL parses (promtool check rules)" eval "promtool check rules dash_rules.yml >/dev/null 2>&1"

harness_finish
