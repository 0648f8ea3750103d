"""The Kubernetes example (examples/kubernetes): the manifests agree with
each other and with driftd, and the sidecar image's Dockerfile builds what
they expect.

Neither kubectl nor docker runs here, so the manifests are checked at the
level of their schema and of what must match across them (kinds and API
versions, the shared log volume, the configuration's listen port against
the container port, probes, annotations, Service and ServiceMonitor
selectors), the ConfigMap's driftd.conf goes through driftd --check-config,
and the Dockerfile is read for its stages, user, port, entry point and the
Debian packages that must hold the libraries driftd links.
"""

import glob
import json
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

try:
    import yaml
except ImportError:             # Debian: python3-yaml
    yaml = None

SRC = h.SRCDIR
K8S = os.path.join(SRC, "examples", "kubernetes")
DOCKERFILE = os.path.join(K8S, "Dockerfile")


def need_yaml():
    h.check(yaml is not None,
            "PyYAML not found; install Debian's python3-yaml")


def read(path):
    with open(path) as f:
        return f.read()


# ---------------------------------------------------------------- Kubernetes

API_VERSIONS = {"ConfigMap": "v1", "Service": "v1", "Deployment": "apps/v1",
                "ServiceMonitor": "monitoring.coreos.com/v1"}
DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")


def manifests():
    need_yaml()
    docs = {}
    files = sorted(glob.glob(os.path.join(K8S, "*.yaml")) +
                   glob.glob(os.path.join(K8S, "*.yml")))
    h.check(files, f"no manifests in {K8S}")
    for path in files:
        with open(path) as f:
            for doc in yaml.safe_load_all(f):
                if doc is None:
                    continue
                where = os.path.basename(path)
                kind = doc.get("kind")
                h.check(kind in API_VERSIONS, f"{where}: kind {kind!r}")
                h.check_eq(doc.get("apiVersion"), API_VERSIONS[kind],
                           f"{where}: apiVersion of {kind}")
                name = doc.get("metadata", {}).get("name", "")
                h.check(DNS_LABEL.fullmatch(name) and len(name) <= 63,
                        f"{where}: name {name!r}")
                h.check(kind not in docs, f"{where}: a second {kind}")
                docs[kind] = doc
    h.check_eq(sorted(docs), sorted(API_VERSIONS), "kinds")
    return docs


def strings_only(obj, where):
    """Labels, annotations, env values and ConfigMap data must be strings:
    YAML's bare true or 9847 is rejected by the API server."""
    for k, v in (obj or {}).items():
        h.check(isinstance(v, str), f"{where}[{k!r}] = {v!r} is not a string")


def pod_parts(docs):
    dep = docs["Deployment"]
    spec = dep["spec"]["template"]["spec"]
    containers = {c["name"]: c for c in spec["containers"]}
    driftd = [c for c in containers.values() if "driftd" in c["image"]]
    h.check_eq(len(driftd), 1, "one driftd container")
    others = [c for c in containers.values() if c is not driftd[0]]
    h.check_eq(len(others), 1, "one model container")
    return dep, spec, driftd[0], others[0]


def driftd_conf(docs):
    cm = docs["ConfigMap"]
    strings_only(cm.get("data"), "ConfigMap data")
    text = cm["data"]["driftd.conf"]
    conf, section = {}, None
    for line in text.splitlines():
        line = line.split(";")[0].strip()
        m = re.fullmatch(r"\[(.+)\]", line)
        if m:
            section = m.group(1)
        elif "=" in line:
            k, _, v = line.partition("=")
            conf[(section, k.strip())] = v.strip()
    return text, conf


def listen_port(conf):
    listen = conf[("global", "listen")]
    m = re.fullmatch(r":(\d+)", listen)
    h.check(m is not None, f"listen = {listen}: in a container driftd must "
            "listen on all interfaces (:PORT)")
    return int(m.group(1))


def container_port(container, port):
    """A probe's or Service's port (a name or a number) as a number."""
    if isinstance(port, int):
        return port
    for p in container.get("ports", []):
        if p.get("name") == port:
            return p["containerPort"]
    raise h.TestFailure(f"container {container['name']} has no port {port!r}")


def mount_of(container, volume):
    ms = [m for m in container.get("volumeMounts", []) if m["name"] == volume]
    return ms[0] if ms else None


def under(path, directory):
    return os.path.commonpath([path, directory]) == directory


def test_configmap_config_passes_check_config():
    text, conf = driftd_conf(manifests())
    with tempfile.TemporaryDirectory(prefix="driftd-ops-") as tmp:
        # --check-config loads the reference: stand in for the
        # iris-model-reference ConfigMap with a training sample named as
        # its README says (a header row naming the features).
        ref = os.path.join(tmp, "reference.csv")
        with open(ref, "w") as f:
            f.write("sepal length (cm),sepal width (cm),petal length (cm),"
                    "petal width (cm),prediction\n")
            for i in range(30):
                f.write(f"{5 + i % 3},{3 + i % 2},{1 + i % 5},{i % 3 / 2},"
                        f"{('setosa', 'versicolor', 'virginica')[i % 3]}\n")
        h.check_eq(conf[("reference", "file")], "/etc/driftd/reference.csv",
                   "the reference's path in the pod")
        text = text.replace("file = /etc/driftd/reference.csv",
                            f"file = {ref}")
        path = os.path.join(tmp, "driftd.conf")
        with open(path, "w") as f:
            f.write(text)
        p = h.run([h.DRIFTD, "--check-config", "-c", path])
    h.check_eq(p.returncode, 0, f"driftd --check-config: "
               f"{p.stderr.decode()}")
    h.check(re.search(r"^listen = :9847$", p.stdout.decode(), re.M),
            "resolved listen is :9847")
    listen_port(conf)


def test_sidecar_shares_the_log_and_serves_probes():
    docs = manifests()
    text, conf = driftd_conf(docs)
    dep, spec, driftd, model = pod_parts(docs)
    volumes = {v["name"]: v for v in spec["volumes"]}
    for c in (driftd, model):
        for m in c.get("volumeMounts", []):
            h.check(m["name"] in volumes,
                    f"{c['name']} mounts undeclared volume {m['name']}")

    # The log: written by the model, read by driftd, on one emptyDir.
    log = conf[("input", "path")]
    shared = [n for n, v in volumes.items() if "emptyDir" in v and
              mount_of(driftd, n) and mount_of(model, n)]
    h.check_eq(len(shared), 1, "one emptyDir mounted by both containers")
    dm, mm = mount_of(driftd, shared[0]), mount_of(model, shared[0])
    h.check(under(log, dm["mountPath"]),
            f"driftd reads {log} outside its mount {dm['mountPath']}")
    h.check(under(log, mm["mountPath"]),
            f"the model's mount {mm['mountPath']} does not hold {log}")
    h.check(dm.get("readOnly") is True, "driftd mounts the log read-only")
    h.check(not mm.get("readOnly"), "the model can write its log")
    h.check(log in [e.get("value") for e in model.get("env", [])] +
            model.get("args", []), f"the model is not told to log to {log}")

    # The configuration and the reference come from the ConfigMaps.
    conf_dir = "/etc/driftd"
    cm = [n for n in volumes if (mount_of(driftd, n) or {}).get(
        "mountPath") == conf_dir]
    h.check_eq(len(cm), 1, f"a volume at {conf_dir}")
    vol = volumes[cm[0]]
    sources = [s["configMap"] for s in vol.get("projected", {}).get(
        "sources", []) if "configMap" in s] or [vol.get("configMap")]
    files = {}
    for s in sources:
        h.check(s is not None, f"{cm[0]} is not a ConfigMap volume")
        for item in s.get("items", [{"key": "driftd.conf",
                                     "path": "driftd.conf"}]):
            files[item["path"]] = (s["name"], item["key"])
    h.check_eq(files.get("driftd.conf"),
               (docs["ConfigMap"]["metadata"]["name"], "driftd.conf"),
               "driftd.conf comes from the ConfigMap")
    ref = conf.get(("reference", "file"))
    if ref:
        h.check(os.path.dirname(ref) == conf_dir and
                os.path.basename(ref) in files,
                f"reference {ref} is not provided by the config volume")

    # State: a writable volume where state_dir points, on a read-only root.
    state = conf.get(("global", "state_dir"))
    sec = driftd.get("securityContext", {})
    h.check_eq(sec.get("readOnlyRootFilesystem"), True, "read-only root")
    h.check_eq(sec.get("runAsNonRoot"), True, "runAsNonRoot")
    h.check_eq(sec.get("allowPrivilegeEscalation"), False,
               "allowPrivilegeEscalation")
    h.check_eq(sec.get("capabilities", {}).get("drop"), ["ALL"],
               "capabilities dropped")
    if state:
        mounts = [m for m in driftd["volumeMounts"]
                  if m["mountPath"] == state and not m.get("readOnly")]
        h.check_eq(len(mounts), 1, f"a writable volume at {state}")

    # Probes and the port: where the configuration listens.
    port = listen_port(conf)
    h.check_eq(container_port(driftd, "metrics"), port, "metrics port")
    for probe, path in (("livenessProbe", "/-/healthy"),
                        ("readinessProbe", "/-/ready")):
        get = driftd.get(probe, {}).get("httpGet", {})
        h.check_eq(get.get("path"), path, f"{probe} path")
        h.check_eq(container_port(driftd, get.get("port")), port,
                   f"{probe} port")

    # Resources: requests and limits, requests within limits.
    res = driftd.get("resources", {})
    for kind in ("cpu", "memory"):
        req = quantity(res.get("requests", {}).get(kind))
        lim = quantity(res.get("limits", {}).get(kind))
        h.check(0 < req <= lim, f"{kind}: request {req} limit {lim}")

    # Scrape annotations on the pod template.
    tmpl = dep["spec"]["template"]["metadata"]
    ann = tmpl.get("annotations", {})
    strings_only(ann, "pod annotations")
    strings_only(tmpl.get("labels"), "pod labels")
    h.check_eq((ann.get("prometheus.io/scrape"),
                ann.get("prometheus.io/port"),
                ann.get("prometheus.io/path")),
               ("true", str(port), "/metrics"), "prometheus.io annotations")
    sel = dep["spec"]["selector"]["matchLabels"]
    h.check(sel and sel.items() <= tmpl["labels"].items(),
            "the Deployment's selector matches its pods")


def quantity(q):
    """A Kubernetes quantity ("50m", "64Mi", "1") as a float."""
    h.check(q is not None, "quantity missing")
    m = re.fullmatch(r"([0-9.]+)(m|k|M|G|Ki|Mi|Gi)?", str(q))
    h.check(m is not None, f"quantity {q!r}")
    scale = {None: 1, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9,
             "Ki": 2**10, "Mi": 2**20, "Gi": 2**30}[m.group(2)]
    return float(m.group(1)) * scale


def test_service_and_servicemonitor_select_the_sidecar():
    docs = manifests()
    dep, spec, driftd, _ = pod_parts(docs)
    svc, mon = docs["Service"], docs["ServiceMonitor"]
    pod_labels = dep["spec"]["template"]["metadata"]["labels"]
    strings_only(svc["metadata"].get("labels"), "Service labels")
    h.check(svc["spec"]["selector"].items() <= pod_labels.items(),
            "the Service selects the pods")
    ports = {p["name"]: p for p in svc["spec"]["ports"]}
    _, conf = driftd_conf(docs)
    listen = listen_port(conf)
    metrics = [n for n, p in ports.items()
               if container_port(driftd, p.get("targetPort", p["port"]))
               == listen]
    h.check_eq(len(metrics), 1, "one Service port reaching driftd")

    sel = mon["spec"]["selector"]["matchLabels"]
    h.check(sel and sel.items() <= svc["metadata"]["labels"].items(),
            "the ServiceMonitor selects the Service")
    eps = mon["spec"]["endpoints"]
    h.check_eq([e.get("port") for e in eps], metrics,
               "ServiceMonitor endpoint port")
    h.check_eq([e.get("path", "/metrics") for e in eps], ["/metrics"],
               "ServiceMonitor path")
    # The alert rules expect job="driftd".
    job_label = mon["spec"].get("jobLabel")
    job = svc["metadata"]["labels"].get(job_label) if job_label \
        else svc["metadata"]["name"]
    h.check_eq(job, "driftd", "the job label the ServiceMonitor produces")


# ---------------------------------------------------------------- Dockerfile

def dockerfile():
    """[(INSTRUCTION, arguments)] with continuations joined."""
    text = re.sub(r"\\\n", " ", "\n".join(
        line for line in read(DOCKERFILE).splitlines()
        if not line.lstrip().startswith("#")))
    return [(m.group(1).upper(), m.group(2).strip()) for m in
            re.finditer(r"^\s*(\w+)\s+(.*)$", text, re.M)]


def apt_installs(run):
    """The packages an `apt-get install` in a RUN line names."""
    pkgs = []
    for cmd in re.split(r"&&|;", run):
        words = cmd.split()
        if "apt-get" in words and "install" in words:
            pkgs += [w for w in words[words.index("install") + 1:]
                     if not w.startswith("-")]
    return pkgs


def package_exists(pkg):
    p = subprocess.run(["apt-cache", "show", pkg], capture_output=True,
                       timeout=60)
    if p.returncode == 0 and p.stdout.strip():
        return True
    # No package lists (apt-get update never ran): an installed package
    # is known to exist.
    p = subprocess.run(["dpkg-query", "-W", "-f=${Status}", pkg],
                       capture_output=True, timeout=60)
    return p.stdout.decode().endswith("installed")


def needed_packages():
    """The Debian packages holding the libraries driftd links directly
    (sanitizer runtimes aside: the image is not a sanitizer build)."""
    p = subprocess.run(["readelf", "-d", h.DRIFTD], capture_output=True,
                       timeout=60)
    h.check_eq(p.returncode, 0, f"readelf -d: {p.stderr.decode()}")
    sonames = re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]",
                         p.stdout.decode())
    h.check(sonames, "no NEEDED entries")
    pkgs = {}
    for so in sonames:
        if re.match(r"lib(asan|ubsan|lsan|tsan|hwasan)\.so", so):
            continue
        q = subprocess.run(["dpkg", "-S", so], capture_output=True,
                           timeout=60)
        owners = {line.split(":")[0] for line in q.stdout.decode().splitlines()
                  if os.path.basename(line.split(": ", 1)[-1]) == so}
        h.check(owners, f"no Debian package holds {so}")
        pkgs[so] = owners
    return pkgs


def test_dockerfile_builds_a_small_non_root_image():
    docs = manifests()
    _, conf = driftd_conf(docs)
    _, _, driftd, _ = pod_parts(docs)
    ins = dockerfile()
    froms = [a for i, a in ins if i == "FROM"]
    h.check_eq(len(froms), 2, "two stages")
    m = re.fullmatch(r"debian:(12|bookworm)\s+AS\s+(\S+)", froms[0], re.I)
    h.check(m is not None, f"build stage: FROM {froms[0]}")
    build = m.group(2)
    h.check(re.fullmatch(r"debian:(12|bookworm)-slim", froms[1]),
            f"runtime stage: FROM {froms[1]}")
    last = max(i for i, (k, _) in enumerate(ins) if k == "FROM")
    first, final = ins[:last], ins[last:]
    h.check(any(k == "RUN" and "tools/install-deps" in a for k, a in first),
            "the build stage installs tools/install-deps' packages")
    h.check(any(k == "COPY" and f"--from={build}" in a for k, a in final),
            "the binary is copied from the build stage")

    users = [a for k, a in final if k == "USER"]
    h.check(users, "no USER in the final stage")
    user = users[-1].split(":")[0]
    h.check(user not in ("root", "0"), f"USER {users[-1]}")
    h.check(user.isdigit(), f"USER {users[-1]}: numeric, so that Kubernetes "
            "can enforce runAsNonRoot")
    h.check_eq(driftd.get("securityContext", {}).get("runAsUser"),
               int(user), "the Deployment's runAsUser")

    exposed = [a for k, a in final if k == "EXPOSE"]
    h.check_eq(exposed, [str(listen_port(conf))], "EXPOSE")
    entry = [a for k, a in final if k == "ENTRYPOINT"]
    h.check_eq(len(entry), 1, "one ENTRYPOINT")
    argv = json.loads(entry[0])
    h.check(os.path.basename(argv[0]) == "driftd" and
            argv[1:] == ["-c", "/etc/driftd/driftd.conf"],
            f"ENTRYPOINT {argv}")

    runs = [a for k, a in final if k == "RUN"]
    runtime = [p for r in runs for p in apt_installs(r)]
    h.check(runtime, "the runtime stage installs no packages")
    h.check(all("--no-install-recommends" in r for r in runs
                if apt_installs(r)), "--no-install-recommends")
    for pkg in runtime:
        h.check(package_exists(pkg), f"{pkg} is not a Debian package")
    for so, owners in needed_packages().items():
        h.check(owners & (set(runtime) | {"libc6"}),
                f"driftd needs {so} from {sorted(owners)}, which the "
                "runtime stage does not install")

    ignore = read(DOCKERFILE + ".dockerignore").split()
    for pattern in (".git", "_build"):
        h.check(pattern in ignore, f"{pattern} not in Dockerfile.dockerignore")
    readme = read(os.path.join(SRC, "README.md"))
    h.check("docker build -f examples/kubernetes/Dockerfile" in readme,
            "README.md shows how to build the image")


h.main(globals())
