#!/usr/bin/python3
"""deploy_check.py — the checks of tests/cli/test_deploy.sh on deploy/.

  deploy_check.py static ROOT HELPFILE RELEASE_BIN
      Parses deploy/Dockerfile and every deploy/k8s/*.yaml and checks that
      they agree with each other and with `maif serve` (the flags its
      --help lists, in HELPFILE), and that every library `ldd RELEASE_BIN`
      lists comes from a Debian package the Dockerfile's runtime stage
      installs, or one those pull in, or the base image's.
      Prints one line per check, "ok: ..." or "FAIL: ...".

  deploy_check.py args ROOT TMPDIR
      Prints the Deployment's container command line, one argument per
      line, with its $(VARS) expanded from the ConfigMap, every mount path
      moved under TMPDIR (mountPath /a/b -> TMPDIR/mnt/a/b) and --listen
      moved to 127.0.0.1:0, so that the test can start the real server
      with exactly the manifest's flags.

  deploy_check.py files ROOT
      Prints "MOUNTPATH SECRETKEY" for every file of a Secret volume the
      Deployment mounts (what the test must provide under TMPDIR).

  deploy_check.py healthcheck ROOT
      Prints the Dockerfile's HEALTHCHECK command (shell form).
"""
import glob
import json
import os
import re
import shlex
import subprocess
import sys

import yaml

results = []


def check(desc, cond, detail=""):
    results.append(bool(cond))
    if cond:
        print("ok: " + desc)
    else:
        print("FAIL: " + desc + (" (" + detail + ")" if detail else ""))
    return bool(cond)


# ---------------------------------------------------------------- manifests

def load_manifests(root):
    docs = []
    for path in sorted(glob.glob(os.path.join(root, "deploy", "k8s", "*.yaml"))):
        with open(path) as f:
            for d in yaml.safe_load_all(f):
                if d is not None:
                    docs.append((os.path.basename(path), d))
    return docs


def by_kind(docs, kind):
    return [d for _, d in docs if d.get("kind") == kind]


def the_container(dep):
    cs = dep["spec"]["template"]["spec"]["containers"]
    return [c for c in cs if c.get("name") == "maif"][0] if len(cs) > 1 else cs[0]


def env_values(container, configmaps):
    """name -> value of every env var (ConfigMap references resolved; None
    when a reference does not resolve)."""
    out = {}
    for e in container.get("env", []):
        if "value" in e:
            out[e["name"]] = str(e["value"])
            continue
        ref = (e.get("valueFrom") or {}).get("configMapKeyRef")
        if ref:
            cm = configmaps.get(ref.get("name"))
            out[e["name"]] = None if cm is None else (cm.get("data") or {}).get(ref.get("key"))
        else:
            out[e["name"]] = None
    for ef in container.get("envFrom", []):
        ref = ef.get("configMapRef")
        if ref and ref.get("name") in configmaps:
            for k, v in (configmaps[ref["name"]].get("data") or {}).items():
                out.setdefault(k, str(v))
    return out


def expand(arg, env):
    """Kubernetes' $(VAR) expansion ($$ escapes); unknown names stay as they are."""
    def rep(m):
        if m.group(0) == "$$":
            return "$"
        v = env.get(m.group(1))
        return m.group(0) if v is None else v
    return re.sub(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)", rep, arg)


def command_line(container, env):
    cmd = list(container.get("command") or []) + list(container.get("args") or [])
    return [expand(str(a), env) for a in cmd]


# ---------------------------------------------------------------- flags

def known_flags(helptext):
    """flag -> takes a value, from `maif serve --help` (or the usage block of
    docs/API.md): "--name VALUE" or "--name=VALUE" takes one, "--name" alone not."""
    flags = {}
    for m in re.finditer(r"--([a-z][a-z0-9-]*)([ =]+([A-Z][A-Z0-9_:|.-]*))?", helptext):
        name = "--" + m.group(1)
        takes = bool(m.group(3)) and not m.group(3).startswith("|")
        flags[name] = flags.get(name, False) or takes
    return flags


def parse_flags(argv, flags):
    """argv after "serve": list of (flag, value or None); unknown flags are
    returned with value "<unknown>"."""
    out, i = [], 0
    while i < len(argv):
        a = argv[i]
        if a.startswith("--") and "=" in a:
            name, val = a.split("=", 1)
            out.append((name, val if name in flags else "<unknown>"))
            i += 1
        elif a.startswith("--"):
            if a not in flags:
                out.append((a, "<unknown>"))
                i += 1
            elif flags[a]:
                out.append((a, argv[i + 1] if i + 1 < len(argv) else None))
                i += 2
            else:
                out.append((a, None))
                i += 1
        else:
            out.append((None, a))  # a stray positional argument
            i += 1
    return out


def serve_argv(cmdline):
    """The arguments after the `serve` subcommand, or None."""
    if "serve" not in cmdline:
        return None
    return cmdline[cmdline.index("serve") + 1:]


def listen_port(pairs):
    for f, v in pairs:
        if f == "--listen" and v and ":" in v:
            try:
                return int(v.rsplit(":", 1)[1])
            except ValueError:
                return None
    return None


def flag(pairs, name):
    for f, v in pairs:
        if f == name:
            return v
    return None


# ---------------------------------------------------------------- Dockerfile

def parse_dockerfile(path):
    """Stages: list of {"from": image, "as": name, "instr": [(KEYWORD, text)]}."""
    with open(path) as f:
        raw = f.read()
    lines, cur = [], ""
    for line in raw.split("\n"):
        s = line.strip()
        if not cur and (not s or s.startswith("#")):
            continue
        if cur and s.startswith("#"):
            continue  # a comment inside a continued instruction
        if s.endswith("\\"):
            cur += s[:-1] + " "
            continue
        cur += s
        lines.append(cur)
        cur = ""
    stages = []
    for l in lines:
        kw, _, rest = l.partition(" ")
        kw = kw.upper()
        rest = rest.strip()
        if kw == "FROM":
            parts = rest.split()
            stages.append({"from": parts[0], "as": parts[2] if len(parts) > 2 and parts[1].upper() == "AS" else None,
                           "instr": []})
        elif stages:
            stages[-1]["instr"].append((kw, rest))
    return stages


def exec_form(text):
    try:
        v = json.loads(text)
        return v if isinstance(v, list) and all(isinstance(x, str) for x in v) else None
    except ValueError:
        return None


def apt_packages(stage):
    pkgs = []
    for kw, text in stage["instr"]:
        if kw != "RUN":
            continue
        for cmd in re.split(r"&&|;|\|\|", text):
            words = cmd.split()
            if "apt-get" in words and "install" in words:
                pkgs += [w for w in words[words.index("install") + 1:] if not w.startswith("-")]
    return pkgs


# ---------------------------------------------------------------- packages

_DB = None


def dpkg_db():
    """Package -> (installed, depends, essential, priority) of every package
    dpkg knows here, in one dpkg-query run."""
    global _DB
    if _DB is None:
        r = subprocess.run(["dpkg-query", "-W", "-f=${Package}\t${Status}\t${Depends}, ${Pre-Depends}\t"
                            "${Essential}\t${Priority}\n"], capture_output=True, text=True)
        _DB = {}
        for line in r.stdout.splitlines():
            f = line.split("\t")
            if len(f) == 5:
                _DB[f[0]] = ("install ok installed" in f[1], f[2], f[3] == "yes", f[4])
    return _DB


def installed(pkg):
    return dpkg_db().get(pkg, (False,))[0]


def dep_closure(roots):
    """The packages roots pull in through Depends and Pre-Depends, as apt
    would on a machine of the same release (the first alternative that is
    installed here)."""
    db = dpkg_db()
    seen, todo = set(), list(roots)
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        for group in (db.get(p, (False, ""))[1] or "").split(","):
            for alt in group.strip().split("|") if group.strip() else []:
                name = re.sub(r"\(.*?\)|\[.*?\]", "", alt).strip().split(":")[0]
                if name and installed(name):
                    todo.append(name)
                    break
    return seen


def base_image_packages():
    """What debian:12-slim holds: the Essential and Priority required packages."""
    return {p for p, (inst, _, ess, prio) in dpkg_db().items() if inst and (ess or prio == "required")}


def owners(paths):
    """path -> the package owning it, for every path (None when no package
    does). Each path is tried as given, resolved, and with and without the
    /usr prefix (Debian 12 has merged /usr; dpkg knows one of the names).
    One dpkg -S run for all of them."""
    cands = {}
    for path in paths:
        cs = [path, os.path.realpath(path)]
        for c in list(cs):
            if c.startswith("/usr/lib/"):
                cs.append(c[4:])
            elif c.startswith("/lib/") or c.startswith("/lib64/"):
                cs.append("/usr" + c)
        cands[path] = cs
    allc = sorted({c for cs in cands.values() for c in cs})
    r = subprocess.run(["dpkg", "-S"] + allc, capture_output=True, text=True)
    found = {}
    for line in r.stdout.splitlines():
        if ": " not in line:
            continue
        pkgs, p = line.split(": ", 1)
        if p.strip() in allc:
            found.setdefault(p.strip(), pkgs.split(",")[0].strip().split(":")[0])
    out = {}
    for path, cs in cands.items():
        out[path] = next((found[c] for c in cs if c in found), None)
    return out


def ldd_libs(binary):
    r = subprocess.run(["ldd", binary], capture_output=True, text=True)
    libs = []
    for line in r.stdout.splitlines():
        line = line.strip()
        m = re.match(r"(\S+) => (\S+)", line)
        if m:
            libs.append((m.group(1), m.group(2)))
        elif line.startswith("/"):
            libs.append((os.path.basename(line.split()[0]), line.split()[0]))
    return r.returncode, libs


# ---------------------------------------------------------------- static checks

def static(root, helpfile, release_bin):
    with open(helpfile) as f:
        flags = known_flags(f.read())
    check("the flag list has --dir, --listen, --tokens, --tls-cert", all(
        x in flags for x in ("--dir", "--listen", "--tokens", "--tls-cert")), ", ".join(sorted(flags)))

    docs = load_manifests(root)
    kinds = sorted({d.get("kind") for _, d in docs})
    for k in ("Deployment", "Service", "PersistentVolumeClaim", "ConfigMap", "Secret", "ServiceMonitor"):
        check("deploy/k8s has a " + k, k in kinds, "kinds: " + ", ".join(map(str, kinds)))
    for fname, d in docs:
        check(fname + ": " + str(d.get("kind")) + " has apiVersion, kind and metadata.name",
              d.get("apiVersion") and d.get("kind") and (d.get("metadata") or {}).get("name"))
    sm = by_kind(docs, "ServiceMonitor")
    check("the ServiceMonitor is monitoring.coreos.com/v1",
          sm and all(x["apiVersion"] == "monitoring.coreos.com/v1" for x in sm))

    configmaps = {d["metadata"]["name"]: d for d in by_kind(docs, "ConfigMap")}
    secrets = {d["metadata"]["name"]: d for d in by_kind(docs, "Secret")}
    pvcs = {d["metadata"]["name"]: d for d in by_kind(docs, "PersistentVolumeClaim")}
    deps = by_kind(docs, "Deployment")
    if not check("exactly one Deployment", len(deps) == 1):
        return
    dep = deps[0]
    pod = dep["spec"]["template"]["spec"]
    c = the_container(dep)
    tlabels = dep["spec"]["template"]["metadata"].get("labels") or {}
    check("the Deployment's selector matches its pod labels",
          all(tlabels.get(k) == v for k, v in dep["spec"]["selector"]["matchLabels"].items()))

    # secrets: every value is a placeholder, clearly marked
    for name, s in secrets.items():
        vals = dict(s.get("stringData") or {})
        check("Secret " + name + " holds placeholders only, marked PLACEHOLDER",
              vals and not s.get("data") and all("PLACEHOLDER" in str(v) for v in vals.values()))

    # command line
    env = env_values(c, configmaps)
    for k, v in env.items():
        check("env " + k + " resolves (ConfigMap and key exist)", v is not None)
    cmdline = command_line(c, env)
    check("every $(VAR) in the args expands", not any(re.search(r"\$\([A-Za-z_]", a) for a in cmdline),
          " ".join(cmdline))
    check("the container runs maif serve", cmdline and cmdline[0].endswith("maif") and "serve" in cmdline,
          " ".join(cmdline))
    argv = serve_argv(cmdline) or []
    pairs = parse_flags(argv, flags)
    unknown = [f or v for f, v in pairs if f is None or v == "<unknown>"]
    check("every argument of the container is a flag `maif serve` lists", not unknown, "unknown: " + " ".join(unknown))
    missing_val = [f for f, v in pairs if f and flags.get(f) and v is None]
    check("every flag that takes a value has one", not missing_val, " ".join(missing_val))
    cm_used = {m for a in (c.get("args") or []) for m in re.findall(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", str(a))}
    cm_keys = {k for cm in configmaps.values() for k in (cm.get("data") or {})}
    check("every ConfigMap key is used in the args", cm_keys <= cm_used, "unused: " + " ".join(sorted(cm_keys - cm_used)))

    port = listen_port(pairs)
    check("--listen has a port and listens on all addresses", port and (flag(pairs, "--listen") or "").startswith(
        "0.0.0.0:"), str(flag(pairs, "--listen")))
    tls = flag(pairs, "--tls-cert") is not None
    check("--tls-cert and --tls-key come together", tls == (flag(pairs, "--tls-key") is not None))
    ports = c.get("ports") or []
    named = {p.get("name"): p.get("containerPort") for p in ports}
    check("the container port is the --listen port", [p.get("containerPort") for p in ports] == [port],
          "ports %s, listen %s" % ([p.get("containerPort") for p in ports], port))

    def resolve(p):
        return named.get(p) if isinstance(p, str) else p

    scheme = "HTTPS" if tls else "HTTP"
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz"), ("startupProbe", "/healthz")):
        pr = c.get(probe)
        if probe == "startupProbe" and pr is None:
            continue
        g = (pr or {}).get("httpGet") or {}
        check(probe + " is GET " + path, g.get("path") == path, str(g))
        check(probe + "'s port is the --listen port", resolve(g.get("port")) == port, str(g.get("port")))
        check(probe + "'s scheme is " + scheme + " (as --tls-cert says)", (g.get("scheme") or "HTTP") == scheme)

    # Service and ServiceMonitor
    svcs = by_kind(docs, "Service")
    check("one Service", len(svcs) == 1)
    svc = svcs[0]
    check("the Service selects the pods", svc["spec"].get("selector") and all(
        tlabels.get(k) == v for k, v in svc["spec"]["selector"].items()))
    sports = svc["spec"].get("ports") or []
    for sp in sports:
        check("Service port %s: targetPort is the container port" % sp.get("name"),
              resolve(sp.get("targetPort", sp.get("port"))) == port, str(sp.get("targetPort")))
    snames = {sp.get("name") for sp in sports}
    slabels = svc["metadata"].get("labels") or {}
    for m in sm:
        check("the ServiceMonitor selects the Service", all(
            slabels.get(k) == v for k, v in m["spec"]["selector"].get("matchLabels", {}).items()))
        for ep in m["spec"].get("endpoints") or []:
            check("ServiceMonitor endpoint port '%s' is a named port of the Service" % ep.get("port"),
                  ep.get("port") in snames, "service ports: %s" % sorted(map(str, snames)))
            tp = [sp.get("targetPort") for sp in sports if sp.get("name") == ep.get("port")]
            check("... whose targetPort is the --listen port", tp and resolve(tp[0]) == port)
            check("ServiceMonitor scrapes /metrics", ep.get("path") == "/metrics")
            check("ServiceMonitor scheme is " + scheme.lower(), (ep.get("scheme") or "http") == scheme.lower())
            ca = (((ep.get("tlsConfig") or {}).get("ca") or {}).get("secret") or {})
            if ca:
                sec = secrets.get(ca.get("name")) or {}
                check("the ServiceMonitor's CA is a key of a Secret",
                      ca.get("key") in (sec.get("stringData") or {}) or ca.get("key") in (sec.get("data") or {}))

    # volumes and files
    vols = {v["name"]: v for v in pod.get("volumes") or []}
    mounts = c.get("volumeMounts") or []
    for mnt in mounts:
        check("volumeMount %s has a volume" % mnt["name"], mnt["name"] in vols)
    for name, v in vols.items():
        check("volume %s is mounted" % name, any(m["name"] == name for m in mounts))
        if "persistentVolumeClaim" in v:
            check("volume %s's claim is the PVC in deploy/k8s" % name, v["persistentVolumeClaim"]["claimName"] in pvcs)
        if "secret" in v:
            check("volume %s's Secret is in deploy/k8s" % name, v["secret"]["secretName"] in secrets)
        if "configMap" in v:
            check("volume %s's ConfigMap is in deploy/k8s" % name, v["configMap"]["name"] in configmaps)

    def mount_of(path):
        best = None
        for mnt in mounts:
            mp = mnt["mountPath"].rstrip("/")
            if path == mp or path.startswith(mp + "/"):
                if best is None or len(mp) > len(best["mountPath"].rstrip("/")):
                    best = mnt
        return best

    for fl in ("--tokens", "--tls-cert", "--tls-key", "--key", "--client-ca"):
        p = flag(pairs, fl)
        if p is None:
            continue
        mnt = mount_of(p)
        if not check("%s %s is inside a mounted path" % (fl, p), mnt is not None):
            continue
        v = vols.get(mnt["name"], {})
        if "secret" in v:
            rel = os.path.relpath(p, mnt["mountPath"])
            sec = secrets.get(v["secret"]["secretName"]) or {}
            keys = set((sec.get("stringData") or {})) | set((sec.get("data") or {}))
            check("%s %s is key %s of Secret %s" % (fl, p, rel, v["secret"]["secretName"]), rel in keys,
                  "keys: " + " ".join(sorted(keys)))
    d = flag(pairs, "--dir")
    dm = mount_of(d) if d else None
    check("--dir %s is the mount of the PVC" % d, dm and dm["mountPath"].rstrip("/") == d.rstrip("/") and
          "persistentVolumeClaim" in vols.get(dm["name"], {}) and not dm.get("readOnly"))
    home = env.get("MAIF_HOME")
    if home:
        hm = mount_of(home)
        check("MAIF_HOME %s is on a writable mount" % home, hm is not None and not hm.get("readOnly"))
        check("MAIF_HOME is not listed as an artifact (no .maif suffix)", not home.rstrip("/").endswith(".maif"))

    # security, resources, shutdown, replicas
    psc, csc = pod.get("securityContext") or {}, c.get("securityContext") or {}
    check("runAsNonRoot", psc.get("runAsNonRoot") is True or csc.get("runAsNonRoot") is True)
    check("readOnlyRootFilesystem", csc.get("readOnlyRootFilesystem") is True)
    check("no privilege escalation, all capabilities dropped", csc.get("allowPrivilegeEscalation") is False and
          "ALL" in ((csc.get("capabilities") or {}).get("drop") or []))
    res = c.get("resources") or {}
    check("cpu and memory requests and limits", all(
        k in (res.get(w) or {}) for w in ("requests", "limits") for k in ("cpu", "memory")))
    grace = pod.get("terminationGracePeriodSeconds")
    pre = (((c.get("lifecycle") or {}).get("preStop") or {}).get("exec") or {}).get("command") or []
    pre_s = int(pre[-1]) if pre and pre[0].endswith("sleep") and pre[-1].isdigit() else 0
    # the server waits SHUTDOWN_WAIT_S for requests in flight after SIGTERM
    wait_s = None
    try:
        with open(os.path.join(root, "server", "serve.c")) as f:
            m = re.search(r"#define\s+SHUTDOWN_WAIT_S\s+(\d+)", f.read())
            wait_s = int(m.group(1)) if m else None
    except OSError:
        pass
    check("server/serve.c says how long the shutdown waits (SHUTDOWN_WAIT_S)", wait_s is not None)
    check("terminationGracePeriodSeconds covers preStop + the server's drain + 5 s", isinstance(grace, int) and
          wait_s is not None and grace >= pre_s + wait_s + 5,
          "grace %s, preStop %s s, drain %s s" % (grace, pre_s, wait_s))
    pvc = list(pvcs.values())[0] if pvcs else {}
    if "ReadWriteOnce" in (pvc.get("spec") or {}).get("accessModes", []):
        check("a ReadWriteOnce volume: one replica, Recreate", dep["spec"].get("replicas", 1) == 1 and
              (dep["spec"].get("strategy") or {}).get("type") == "Recreate")

    # Dockerfile
    stages = parse_dockerfile(os.path.join(root, "deploy", "Dockerfile"))
    check("the Dockerfile has a build stage and a runtime stage", len(stages) >= 2)
    check("both on Debian 12", stages and all(re.match(r"debian:(12|bookworm)", s["from"]) for s in stages),
          " ".join(s["from"] for s in stages))
    build, rt = stages[0], stages[-1]
    brun = " ".join(t for k, t in build["instr"] if k == "RUN")
    check("the build stage runs install-deps.sh, make all, make install",
          "install-deps.sh" in brun and re.search(r"make\b.*\ball\b", brun) and "make install" in brun)
    check("the runtime stage copies the make install output from the build stage", any(
        k == "COPY" and "--from=" + str(build["as"]) in t for k, t in rt["instr"]))
    rinstr = {}
    for k, t in rt["instr"]:
        rinstr.setdefault(k, []).append(t)
    user = (rinstr.get("USER") or [""])[-1].split(":")[0]
    check("the runtime user is not root", user and user not in ("0", "root"), user)
    uid = psc.get("runAsUser", csc.get("runAsUser"))
    check("the Deployment's runAsUser is the image's USER", str(uid) == user, "%s vs %s" % (uid, user))
    expose = [int(p.split("/")[0]) for t in rinstr.get("EXPOSE", []) for p in t.split()]
    check("EXPOSE is the --listen port of the Deployment", expose == [port], "%s vs %s" % (expose, port))
    ep = exec_form((rinstr.get("ENTRYPOINT") or [""])[-1]) or []
    cmd = exec_form((rinstr.get("CMD") or ["[]"])[-1]) or []
    dargv = serve_argv(ep + cmd)
    check("the ENTRYPOINT runs maif serve (exec form)", ep and ep[0].endswith("maif") and dargv is not None)
    dpairs = parse_flags(dargv or [], flags)
    unknown = [f or v for f, v in dpairs if f is None or v == "<unknown>"]
    check("every ENTRYPOINT flag is one `maif serve` lists", not unknown, " ".join(unknown))
    check("ENTRYPOINT --listen port is EXPOSE's", listen_port(dpairs) in expose)
    volumes = [v for t in rinstr.get("VOLUME", []) for v in (exec_form(t) or t.split())]
    check("ENTRYPOINT --dir is the VOLUME", flag(dpairs, "--dir") in volumes, str(volumes))
    hc = (rinstr.get("HEALTHCHECK") or [""])[-1]
    urls = re.findall(r"https?://[^\s\"']+", hc)
    check("HEALTHCHECK asks /healthz", urls and all(u.split("/", 3)[-1] == "healthz" for u in urls), hc)
    check("HEALTHCHECK's port is EXPOSE's", urls and all(
        int(re.match(r"https?://[^/:]+:(\d+)", u).group(1)) in expose for u in urls))
    hctool = re.search(r"CMD\s+(\S+)", hc)
    rpk = apt_packages(rt)
    check("the HEALTHCHECK's tool is installed in the runtime stage", hctool and (
        hctool.group(1) in rpk or hctool.group(1).startswith("/usr/local/bin/maif")), hc)

    # the runtime libraries
    rc, libs = ldd_libs(release_bin)
    check("ldd %s" % release_bin, rc == 0 and libs)
    closure = dep_closure(rpk)
    base = base_image_packages()
    own = owners([p for _, p in libs if p != "not"])
    for soname, path in libs:
        if path == "not":
            check("%s is found" % soname, False, "ldd: not found")
            continue
        if os.path.realpath(path).startswith(os.path.realpath(os.path.dirname(release_bin)) + "/"):
            check("%s comes from make install" % soname, soname.startswith("libmaif.so"), path)
            continue
        pkg = own.get(path)
        where = "installed" if pkg in rpk else "pulled in" if pkg in closure else "base image" if pkg in base else None
        check("%s (%s) is provided by the runtime image%s" % (soname, pkg, ": " + where if where else ""),
              pkg is not None and where is not None, path)
    not_installed = [p for p in rpk if not installed(p)]
    check("every runtime package exists in Debian 12 (installed here)", not not_installed, " ".join(not_installed))


# ---------------------------------------------------------------- for the live run

def deployment_container(root):
    docs = load_manifests(root)
    dep = by_kind(docs, "Deployment")[0]
    configmaps = {d["metadata"]["name"]: d for d in by_kind(docs, "ConfigMap")}
    c = the_container(dep)
    return docs, dep, c, env_values(c, configmaps)


def args(root, tmp):
    _, _, c, env = deployment_container(root)
    mounts = sorted((m["mountPath"].rstrip("/") for m in c.get("volumeMounts") or []), key=len, reverse=True)

    def move(a):
        for mp in mounts:
            if a == mp or a.startswith(mp + "/"):
                return tmp + "/mnt" + a
        return a
    cmdline = command_line(c, env)
    out = []
    for i, a in enumerate(cmdline):
        if i > 0 and cmdline[i - 1] == "--listen":
            a = "127.0.0.1:0"
        out.append(move(a))
    print("\n".join(out[1:]))  # without the image's binary path: the test runs its own
    for k, v in env.items():
        if k == "MAIF_HOME":
            print("#MAIF_HOME=" + move(v))


def files(root):
    docs, dep, c, _ = deployment_container(root)
    secrets = {d["metadata"]["name"]: d for d in by_kind(docs, "Secret")}
    vols = {v["name"]: v for v in dep["spec"]["template"]["spec"].get("volumes") or []}
    for m in c.get("volumeMounts") or []:
        v = vols.get(m["name"], {})
        if "secret" in v:
            for k in (secrets.get(v["secret"]["secretName"]) or {}).get("stringData") or {}:
                print(m["mountPath"].rstrip("/") + " " + k)


def healthcheck(root):
    stages = parse_dockerfile(os.path.join(root, "deploy", "Dockerfile"))
    for k, t in stages[-1]["instr"]:
        if k == "HEALTHCHECK":
            m = re.search(r"\bCMD\s+(.*)$", t)
            print(m.group(1) if m else "")


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, root = sys.argv[1], sys.argv[2]
    if cmd == "static" and len(sys.argv) == 5:
        static(root, sys.argv[3], sys.argv[4])
        return 0 if all(results) else 1
    if cmd == "args" and len(sys.argv) == 4:
        args(root, sys.argv[3])
        return 0
    if cmd == "files":
        files(root)
        return 0
    if cmd == "healthcheck":
        healthcheck(root)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
