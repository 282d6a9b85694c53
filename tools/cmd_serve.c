/*
 * cmd_serve.c — `maif serve`: the HTTP server lives in server/ (a layer
 * beside the CLI, on libmicrohttpd); this entry registers it in the
 * command table and carries its help. The contract is docs/API.md.
 */
#include <string.h>

#include "cli.h"

static int run(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--")) break;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) return cli_help(&cli_cmd_serve);
    }
    return maif_serve_main(argc, argv);
}

const cli_command cli_cmd_serve = {
    "serve", run, "serve a directory of artifacts over HTTP(S) (docs/API.md)",
    "usage: maif serve --dir DIR [--listen ADDR:PORT] [--tokens FILE | --no-auth]\n"
    "                  [--key KEYFILE] [--tls-cert PEM --tls-key PEM [--client-ca PEM]]\n"
    "                  [--max-body BYTES] [--max-connections N] [--threads N]\n"
    "                  [--rate PER_SECOND] [--burst N] [--timeout SECONDS] [--log FILE|-]\n"
    "                  [--otlp-endpoint URL] [--ready-file FILE] [--writer-idle MS]\n"
    "                  [--max-open N]\n"
    "\n"
    "Serves the artifacts DIR/NAME.maif over HTTP/1.1: list, create, append\n"
    "(JSON or streamed binary; ?commit=1 appends share group commits), commit,\n"
    "read blocks, search, verify, history, audit, proofs, graph; /healthz,\n"
    "/readyz, /metrics (Prometheus) and the web viewer at /ui/. The routes,\n"
    "bodies, status codes and the tokens file are in docs/API.md.\n"
    "\n"
    "--dir DIR              the artifacts (required)\n"
    "--listen ADDR:PORT     default 127.0.0.1:8420; port 0 picks a free port. The\n"
    "                       first line of stdout is \"listening on URL\"\n"
    "--tokens FILE          bearer tokens (SHA-256 hashes, scopes, artifacts, expiry,\n"
    "                       rate) as JSON: docs/API.md\n"
    "--no-auth              no authentication; refused unless ADDR is loopback\n"
    "--key KEYFILE          signs the commits the server makes (default: the\n"
    "                       default key, $MAIF_HOME/default.key)\n"
    "--tls-cert PEM, --tls-key PEM\n"
    "                       serve HTTPS (TLS 1.2 minimum, 1.3 preferred)\n"
    "--client-ca PEM        require a client certificate issued by this CA (mTLS)\n"
    "                       on /v1 routes: none 401, untrusted 403\n"
    "--max-body BYTES       larger request bodies get 413 (default 64 MiB)\n"
    "--max-connections N    more concurrent connections get 503 (default 1024)\n"
    "--threads N            request threads (default 2 x CPUs)\n"
    "--rate R, --burst B    each token's bucket unless it sets its own\n"
    "                       (default 10000/s, 20000); empty: 429 + Retry-After\n"
    "--timeout SECONDS      idle connections, and requests whose headers or body\n"
    "                       take longer, are closed (default 30)\n"
    "--log FILE|-           JSON log, one line per request (default: stderr)\n"
    "--otlp-endpoint URL    export spans as OTLP/HTTP JSON (http://host:port/v1/traces)\n"
    "--ready-file FILE      written (the URL, one line) once requests are accepted\n"
    "--writer-idle MS       an artifact's writer unused this long (its queue drained)\n"
    "                       is closed, releasing the file's lock so other writers\n"
    "                       (maif add) can append; the next write reopens it\n"
    "                       (default 1000; 0: keep writers open until shutdown)\n"
    "--max-open N           artifacts kept open (default 256); over it the least\n"
    "                       recently used idle ones are closed (none with a writer\n"
    "                       or pending blocks)\n"
    "\n"
    "SIGTERM or SIGINT: stop accepting, finish requests and commits in flight,\n"
    "close every writer, exit 0. An append acknowledged with ?commit=1 is durable.\n"
    "\n"
    "exit codes: 0 clean shutdown; 1 runtime failure (cannot listen); 2 bad\n"
    "arguments or configuration (one line on stderr).\n",
};
