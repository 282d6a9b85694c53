#!/usr/bin/env bash
# test_deploy.sh — deploy/Dockerfile and deploy/k8s/*.yaml agree with each
# other and with `maif serve`. Run from the repository root:
#   MAIF_BIN=build/asan/maif bash tests/cli/test_deploy.sh
#
# 1. Static (tests/cli/deploy_check.py static): every manifest parses
#    (PyYAML); probe ports = container port = --listen port = Service
#    targetPort = the ServiceMonitor's port; every volumeMount has a volume;
#    --tokens, --tls-cert, --tls-key, --key are files of mounted Secrets;
#    every flag in the container args and the Dockerfile's ENTRYPOINT is one
#    `maif serve --help` lists; EXPOSE and HEALTHCHECK use that port; every
#    library `ldd build/release/maif` lists comes from a package the
#    runtime stage installs (or pulls in, or the base image has).
#    Every object also validates against the Kubernetes OpenAPI schemas
#    (kubernetes-models from npm) and the ServiceMonitor against the
#    prometheus-operator CRD schema (@kubernetes-models/prometheus-operator).
# 2. The checkers catch mistakes: copies of deploy/ with one defect each
#    fail the matching check.
# 3. Live: the real server started with the Deployment's exact command line
#    (ConfigMap values expanded, mounts moved under a temporary directory,
#    --listen on 127.0.0.1:0, a self-signed certificate, a token): the probe
#    paths answer over HTTPS as the probes ask, the Docker HEALTHCHECK
#    command succeeds, a token works, SIGTERM exits 0; the placeholder
#    Secrets make it refuse to start (exit 2), not run half-configured.
# Docker itself is not run (no container engine on the build machine).
HARNESS_NAME=deploy
. "$(dirname "$0")/harness.bash"

CHECK="$PY $ROOT/tests/cli/deploy_check.py"
REL=${MAIF_RELEASE_DIR:-build/release}
case "$REL" in /*) ;; *) REL="$ROOT/$REL" ;; esac

if ! "$PY" -c 'import yaml' 2>/dev/null; then
  echo "FAIL: PyYAML is needed (python3-yaml, scripts/install-deps.sh)"
  harness_finish
  exit 1
fi

# The flags `maif serve` takes, from the server itself.
m serve --help
expect "maif serve --help" 0
cp "$OUT" help.txt
ok "serve --help lists --dir and --listen" grep -q -- '--listen' help.txt

# ---- 1. static agreement
# run_static ROOTDIR LOG: the checker's lines into LOG, its exit code in $rc
run_static() { $CHECK static "$1" help.txt "$REL/maif" >"$2" 2>&1; rc=$?; }
run_static "$ROOT" static.log
while IFS= read -r line; do
  case "$line" in
    ok:*) pass ;;
    FAIL:*) failed=$((failed + 1)); echo "$line" ;;
    *) failed=$((failed + 1)); echo "FAIL: deploy_check.py: $line" ;;
  esac
done < static.log
ok "the static checker ran its checks" [ "$(grep -c '^ok:' static.log)" -ge 60 ]

# ---- 1b. the schemas: every object validated against the Kubernetes
# OpenAPI schemas of kubernetes-models and the prometheus-operator CRDs of
# @kubernetes-models/prometheus-operator (npm, pinned by
# tests/deploy/package-lock.json; `npm ci` into tests/deploy/node_modules).
DEPLOY_JS="$ROOT/tests/deploy"
schema_ok=0
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  fail "node and npm are needed for the schema check"
elif [ ! -d "$DEPLOY_JS/node_modules/kubernetes-models" ] ||
     [ "$DEPLOY_JS/package-lock.json" -nt "$DEPLOY_JS/node_modules/.package-lock.json" ]; then
  if (cd "$DEPLOY_JS" && npm ci --no-audit --no-fund --loglevel=error >/dev/null 2>"$DEPLOY_JS/.npm-ci.log"); then
    rm -f "$DEPLOY_JS/.npm-ci.log"; schema_ok=1
  else
    fail "npm ci in tests/deploy (is the npm registry reachable?): $(tail -n 2 "$DEPLOY_JS/.npm-ci.log")"
  fi
else
  schema_ok=1
fi
# schema_check ROOTDIR LOG: validate.mjs over ROOTDIR/deploy/k8s, exit code in $rc
schema_check() {
  "$PY" -c 'import glob, json, os, sys, yaml
out = []
for p in sorted(glob.glob(os.path.join(sys.argv[1], "deploy", "k8s", "*.yaml"))):
    for d in yaml.safe_load_all(open(p)):
        if d is not None:
            out.append({"file": os.path.basename(p), "object": d})
json.dump(out, sys.stdout)' "$1" > objects.json &&
  node "$DEPLOY_JS/validate.mjs" "$PWD/objects.json" >"$2" 2>&1
  rc=$?
}
if [ "$schema_ok" = 1 ]; then
  schema_check "$ROOT" schema.log
  while IFS= read -r line; do
    case "$line" in ok:*) pass ;; *) failed=$((failed + 1)); echo "FAIL: schema: ${line#FAIL: }" ;; esac
  done < schema.log
  ok "seven objects validated against their schemas" [ "$(grep -c '^ok:' schema.log)" = 7 ]
  rm -rf smut && mkdir -p smut && cp -r "$ROOT/deploy" smut/deploy
  sed -i 's/^  replicas: 1$/  replicas: one/' smut/deploy/k8s/deployment.yaml
  sed -i 's/interval: 30s/interval: thirty/' smut/deploy/k8s/servicemonitor.yaml
  schema_check smut smut.log
  ok "the schema check refuses replicas: one" grep -q '^FAIL: deployment.yaml .*replicas must be integer' smut.log
  ok "... and a ServiceMonitor interval that is no duration" grep -q '^FAIL: servicemonitor.yaml .*interval must match' smut.log
fi

# ---- 2. each defect is caught by the check that names it
# mutant DESC FILE SED PATTERN: a copy of deploy/ with FILE edited by SED
# must fail with a FAIL line matching PATTERN.
mutant() {
  local desc=$1 file=$2 expr=$3 pat=$4
  rm -rf mut && mkdir -p mut/server && cp -r "$ROOT/deploy" mut/deploy && cp "$ROOT/server/serve.c" mut/server/
  sed -i -e "$expr" "mut/deploy/$file"
  if cmp -s "$ROOT/deploy/$file" "mut/deploy/$file"; then fail "$desc (the edit changed nothing)"; return; fi
  run_static mut mut.log
  if [ "$rc" != 0 ] && grep -qE "^FAIL: .*($pat)" mut.log; then pass; else fail "$desc: no FAIL matching '$pat'"; fi
}
mutant "container port differs from --listen" k8s/deployment.yaml 's/containerPort: 8420/containerPort: 8421/' \
  "container port is the --listen port"
mutant "readiness probe on the wrong path" k8s/deployment.yaml 's|path: /readyz|path: /ready|' "readinessProbe is GET /readyz"
mutant "an unknown flag in the args" k8s/deployment.yaml 's/- --max-body$/- --max-bodies/' "flag .maif serve. lists"
mutant "a mount without a volume" k8s/deployment.yaml 's/^            - name: auth$/            - name: auth-missing/' \
  "has a volume|is mounted"
mutant "--tokens outside every mount" k8s/deployment.yaml 's|/etc/maif/auth/tokens.json|/etc/tokens.json|' \
  "inside a mounted path"
mutant "Service targetPort elsewhere" k8s/service.yaml 's/targetPort: https/targetPort: 9000/' "targetPort is the container port"
mutant "ServiceMonitor on an unknown port name" k8s/servicemonitor.yaml 's/- port: https/- port: metrics/' \
  "named port of the Service"
mutant "a ConfigMap key nobody expands" k8s/configmap.yaml 's/MAIF_RATE: /MAIF_RATES: /' "resolves|expands"
mutant "a real-looking secret value" k8s/secret.yaml 's/PLACEHOLDER-REPLACE-WITH-PEM-CERTIFICATE/abc/' "placeholders only"
mutant "EXPOSE elsewhere" Dockerfile 's/^EXPOSE 8420/EXPOSE 8080/' "EXPOSE is the --listen port"
mutant "HEALTHCHECK on another path" Dockerfile 's|8420/healthz|8420/health|g' "HEALTHCHECK asks /healthz"
mutant "a runtime library left out" Dockerfile 's/ libicu72 / /' "libicuuc.so.72 .* is provided"
mutant "running as root" Dockerfile 's/^USER 10001:10001/USER root/' "not root"

# ---- 3. live: the Deployment's command line against the real server
mkdir -p mnt/data mnt/tmp mnt/etc/maif/tls mnt/etc/maif/auth
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=maif \
  -addext "subjectAltName=DNS:maif,IP:127.0.0.1" -keyout mnt/etc/maif/tls/tls.key \
  -out mnt/etc/maif/tls/tls.crt >/dev/null 2>&1
ok "a self-signed certificate" [ -s mnt/etc/maif/tls/tls.crt ]
cp mnt/etc/maif/tls/tls.crt mnt/etc/maif/tls/ca.crt
TOKEN=deploy-test-token-0123456789
"$PY" -c 'import hashlib, json, sys
print(json.dumps({"tokens": [{"name": "ops", "sha256": hashlib.sha256(sys.argv[1].encode()).hexdigest(),
                              "scopes": ["read", "write", "admin"], "artifacts": ["*"]}]}))' "$TOKEN" \
  >mnt/etc/maif/auth/tokens.json
m keygen mnt/etc/maif/auth/server.key; expect "keygen the server key" 0
# the files the manifests name are the ones provided here
while read -r dir key; do
  ok "the test provides $dir/$key" [ -s "mnt$dir/$key" ]
done < <($CHECK files "$ROOT")

mapfile -t ARGS < <($CHECK args "$ROOT" "$T" | grep -v '^#')
HOMEDIR=$($CHECK args "$ROOT" "$T" | sed -n 's/^#MAIF_HOME=//p')
ok "the command line is maif serve ..." [ "${ARGS[0]:-}" = serve ]
SERVER_PID=""
stop_server() { [ -n "$SERVER_PID" ] && kill -9 "$SERVER_PID" 2>/dev/null; SERVER_PID=""; }
trap 'stop_server; rm -rf "$T"' EXIT
MAIF_HOME=$HOMEDIR "$MAIF_BIN" "${ARGS[@]}" --ready-file ready >server.out 2>server.err &
SERVER_PID=$!
for _ in $(seq 300); do [ -e ready ] && break; kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
ok "the server started with the Deployment's flags" [ -e ready ]
[ -e ready ] || sed 's/^/  server: /' server.err | head -5
PORT=$(sed -n '1s|^listening on https://127\.0\.0\.1:\([0-9]*\).*|\1|p' server.out)
ok "it printed an https:// address" [ -n "$PORT" ]
PORT=${PORT:-1}
URL=https://127.0.0.1:$PORT
C="curl -sS --max-time 10 --cacert mnt/etc/maif/tls/ca.crt"
# the probes exactly as the manifest has them (path, scheme)
for path in /healthz /readyz; do
  code=$($C -o body -w '%{http_code}' "$URL$path")
  ok "probe GET $path over HTTPS: 200 (got $code)" [ "$code" = 200 ]
done
code=$($C -o body -w '%{http_code}' "$URL/metrics")
ok "the ServiceMonitor's /metrics: 200 (got $code)" [ "$code" = 200 ]
ok "/metrics is the Prometheus text format" grep -q '^# TYPE maif_' body
code=$(curl -sS --max-time 10 -o body -w '%{http_code}' "http://127.0.0.1:$PORT/healthz" 2>/dev/null)
ok "plain HTTP is not served on the TLS port (got $code)" [ "$code" != 200 ]
code=$($C -o body -w '%{http_code}' "$URL/v1/artifacts")
ok "no token: 401 (got $code)" [ "$code" = 401 ]
code=$($C -o body -w '%{http_code}' -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  -d '{"name":"probe"}' "$URL/v1/artifacts")
ok "the tokens file from the Secret: create an artifact 201 (got $code)" [ "$code" = 201 ]
code=$($C -o body -w '%{http_code}' -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  -d '{"type":"text","text":"deployed"}' "$URL/v1/artifacts/probe/blocks?commit=1")
ok "a durable append: 201 (got $code)" [ "$code" = 201 ]
ok "the artifact is on the data volume" [ -s mnt/data/probe.maif ]
# the Docker HEALTHCHECK command, on this port: it falls back to HTTPS
HC=$($CHECK healthcheck "$ROOT" | sed "s/127\.0\.0\.1:8420/127.0.0.1:$PORT/g")
ok "the Dockerfile's HEALTHCHECK command succeeds against the TLS server" sh -c "{ $HC; } >/dev/null 2>&1"
kill -TERM "$SERVER_PID"
st=""
for _ in $(seq 300); do kill -0 "$SERVER_PID" 2>/dev/null || { wait "$SERVER_PID"; st=$?; break; }; sleep 0.1; done
ok "SIGTERM: the server exits 0 (got '${st:-still running}')" [ "$st" = 0 ]
[ "$st" = 0 ] || sed 's/^/  server: /' server.err | tail -5
stop_server
m verify mnt/data/probe.maif; expect "the artifact verifies after shutdown" 0

# the placeholder Secrets as they are in secret.yaml: refused, exit 2
mkdir -p ph && "$PY" -c '
import sys, yaml
for d in yaml.safe_load_all(open(sys.argv[1])):
    for k, v in (d.get("stringData") or {}).items():
        open(sys.argv[2] + "/" + k, "w").write(v)' "$ROOT/deploy/k8s/secret.yaml" ph
for f in tls.crt tls.key tokens.json server.key; do cp mnt/etc/maif/*/"$f" "ph.$f.real" 2>/dev/null; done
for f in tls/tls.crt tls/tls.key auth/tokens.json auth/server.key; do
  cp "ph/$(basename "$f")" "mnt/etc/maif/$f"
  MAIF_HOME=$HOMEDIR timeout 30 "$MAIF_BIN" "${ARGS[@]}" >"$OUT" 2>"$ERR"
  rc=$?
  expect_err "placeholder $(basename "$f") from secret.yaml: refused" 2 "."
  cp "ph.$(basename "$f").real" "mnt/etc/maif/$f"
done

harness_finish
