#!/usr/bin/env bash
# test_serve_tls.sh — `maif serve` over TLS: a CA, a server certificate and
# a client certificate made here with the openssl CLI; curl checks TLS 1.3,
# that TLS 1.1 and below are refused (TLS 1.2 minimum), and mTLS with
# --client-ca: no client certificate 401, one from another CA 403, the
# right one 200. Prints "N passed, M failed".
HARNESS_NAME=serve-tls
source "$(dirname "$0")/harness.bash"

if ! command -v openssl >/dev/null || ! command -v curl >/dev/null; then
  fail "openssl and curl are needed (scripts/install-deps.sh)"
  harness_finish
  exit $?
fi
mkdir d
q() { openssl "$@" >/dev/null 2>&1; }
# two CAs (the second issues the "wrong" client certificate)
for ca in ca ca2; do
  q req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout $ca.key -out $ca.pem -days 2 -subj "/CN=test $ca"
done
cat > ext.cnf <<'X'
[srv]
subjectAltName=IP:127.0.0.1,DNS:localhost
extendedKeyUsage=serverAuth
[cli]
extendedKeyUsage=clientAuth
X
q req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout srv.key -out srv.csr -subj "/CN=127.0.0.1"
q x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem -days 2 -extfile ext.cnf -extensions srv
for c in cli:ca bad:ca2; do
  n=${c%%:*}; i=${c##*:}
  q req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout $n.key -out $n.csr -subj "/CN=client $n"
  q x509 -req -in $n.csr -CA $i.pem -CAkey $i.key -CAcreateserial -out $n.pem -days 2 -extfile ext.cnf -extensions cli
done
ok "test certificates made" test -s srv.pem -a -s cli.pem -a -s bad.pem

start() { # start ARGS...: the server, URL in $U
  "$MAIF_BIN" serve --dir d --listen 127.0.0.1:0 --no-auth --log serve.log "$@" >serve.out 2>serve.err &
  SP=$!
  for _ in $(seq 100); do grep -q '^listening on' serve.out 2>/dev/null && break; sleep 0.1; done
  U=$(sed -n 's/^listening on //p' serve.out)
}
stop() { kill -TERM "$SP" 2>/dev/null; wait "$SP"; src=$?; }

start --tls-cert srv.pem --tls-key srv.key
ok "https URL printed" test "${U#https://}" != "$U"
c=$(curl -s -o body --cacert ca.pem --tlsv1.3 -w '%{http_code}' "$U/healthz")
ok "TLS 1.3: 200" test "$c" = 200
v=$(curl -s -o /dev/null --cacert ca.pem -w '%{ssl_verify_result}' "$U/healthz")
ok "the certificate verifies against the CA" test "$v" = 0
c=$(curl -s -o /dev/null --cacert ca.pem --tlsv1.2 --tls-max 1.2 -w '%{http_code}' "$U/healthz")
ok "TLS 1.2: 200" test "$c" = 200
curl -s -o /dev/null --cacert ca.pem --tlsv1 --tls-max 1.1 "$U/healthz"; r=$?
ok "TLS 1.1 and below: refused (curl exit $r)" test "$r" -ne 0
curl -s -o /dev/null "$U/healthz"; r=$?
ok "an unknown CA is refused by the client" test "$r" -ne 0
c=$(curl -s -o /dev/null -w '%{http_code}' "${U/https/http}/healthz")
ok "plain HTTP to the TLS port gets no 200" test "$c" != 200
c=$(curl -s -o /dev/null --cacert ca.pem -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
  -d '{"name":"t"}' "$U/v1/artifacts")
ok "create over TLS: 201" test "$c" = 201
stop
ok "shutdown over TLS: exit 0" test "$src" = 0

start --tls-cert srv.pem --tls-key srv.key --client-ca ca.pem
c=$(curl -s -o body --cacert ca.pem -w '%{http_code}' "$U/v1/artifacts")
ok "mTLS without a client certificate: 401 ($c)" test "$c" = 401
c=$(curl -s -o body --cacert ca.pem --cert bad.pem --key bad.key -w '%{http_code}' "$U/v1/artifacts")
ok "mTLS with a certificate of another CA: 403 or refused ($c)" test "$c" = 403 -o "$c" = 000
c=$(curl -s -o body --cacert ca.pem --cert cli.pem --key cli.key -w '%{http_code}' "$U/v1/artifacts")
ok "mTLS with the client certificate: 200 ($c)" test "$c" = 200
ok "the list came back" grep -q '"artifacts"' body
c=$(curl -s -o /dev/null --cacert ca.pem -w '%{http_code}' "$U/healthz")
ok "mTLS: /healthz stays open for probes" test "$c" = 200
stop
ok "mTLS server: exit 0" test "$src" = 0
ok "no sanitizer report" sh -c '! grep -qE "Sanitizer|runtime error" serve.err'

"$MAIF_BIN" serve --dir d --no-auth --tls-cert srv.pem --tls-key nonexistent.key >/dev/null 2>err; r=$?
ok "a missing key file: exit 2" test "$r" = 2
"$MAIF_BIN" serve --dir d --no-auth --client-ca ca.pem >/dev/null 2>err; r=$?
ok "--client-ca without TLS: exit 2" test "$r" = 2
harness_finish
