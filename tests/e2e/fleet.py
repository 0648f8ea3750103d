"""Fleet drift: three daemons share one reference and each sees a third of
a stream that drifts; a real Prometheus scrapes them with
examples/prometheus/driftd-fleet-rules.yml, and the fleet's PSI and JS per
column are what NumPy and SciPy compute on the three windows pooled.  The
fleet alert fires when, and only when, the pooled PSI reaches 0.2; a
fourth daemon with another reference fires the mismatch alert.  And the
number of bin series is what the man page says."""

import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

import numpy as np  # noqa: E402
from scipy.spatial.distance import jensenshannon  # noqa: E402

RULES = os.path.join(h.SRCDIR, "examples", "prometheus",
                     "driftd-fleet-rules.yml")
PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
BINS = 10


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def query(port, q):
    url = (f"http://127.0.0.1:{port}/api/v1/query?" +
           urllib.parse.urlencode({"query": q}))
    with urllib.request.urlopen(url, timeout=10) as r:
        data = json.load(r)
    h.check_eq(data["status"], "success", f"query {q}")
    return data["data"]["result"]


def by_column(port, q):
    try:
        return {r["metric"].get("column"): float(r["value"][1])
                for r in query(port, q)}
    except OSError:
        return {}


def psi(w, r):
    w = np.where(w == 0, 1e-4, w)
    r = np.where(r == 0, 1e-4, r)
    return float(np.sum((w - r) * np.log(w / r)))


def oracle(ref_x, ref_c, win_x, win_c):
    """PSI and JS of the pooled windows, as SPEC section 3 defines them."""
    edges = np.unique(np.quantile(ref_x, np.arange(1, BINS) / BINS))
    r = np.bincount(np.searchsorted(edges, ref_x, side="right"),
                    minlength=len(edges) + 1) / len(ref_x)
    w = np.bincount(np.searchsorted(edges, win_x, side="right"),
                    minlength=len(edges) + 1) / len(win_x)
    out = {"features.x": (psi(w, r), float(jensenshannon(w, r)))}
    cats = sorted(set(ref_c) | set(win_c))
    r = np.array([ref_c.count(c) for c in cats]) / len(ref_c)
    w = np.array([win_c.count(c) for c in cats]) / len(win_c)
    out["features.country"] = (psi(w, r), float(jensenshannon(w, r)))
    return out


def conf(log, ref, export="yes"):
    return (f"[input]\npath = {log}\nstart_at = beginning\n"
            f"poll_interval = 100ms\n"
            f"[model]\nname = m\nconfidence =\n"
            f"[features]\nfeatures.x = numeric\n"
            f"features.country = categorical\n"
            f"[reference]\nfile = {ref}\n"
            f"[window]\nsize = 5000\nmin_samples = 50\n"
            f"evaluate_every = 200ms\n"
            f"[drift]\nexport_bins = {export}\ndecide_numeric = psi\n"
            f"decide_categorical = psi\n")


def records(n, shift, seed):
    r = random.Random(seed)
    out = []
    for _ in range(n):
        out.append((r.gauss(shift, 1),
                    r.choices(["DE", "FR", "IT", "PL"],
                              [5, 3, 2, 0.02 * shift])[0]))
    return out


def feed(logs, recs, start):
    for k, (x, c) in enumerate(recs):
        with open(logs[(start + k) % 3], "a") as f:
            f.write(json.dumps({"prediction": "a",
                                "features": {"x": x, "country": c}}) + "\n")


def test_fleet_psi_and_js_pool_the_replicas():
    h.check(os.path.exists(PROMETHEUS), "prometheus not installed "
            "(tools/install-deps --test)")
    tmp = tempfile.mkdtemp(prefix="driftd-fleet-")
    daemons = []
    prom = None
    try:
        rnd = random.Random(1)
        ref = os.path.join(tmp, "ref.csv")
        ref_x = [rnd.gauss(0, 1) for _ in range(2000)]
        ref_c = rnd.choices(["DE", "FR", "IT"], [5, 3, 2], k=2000)
        with open(ref, "w") as f:
            f.write("x,country\n" + "".join(f"{x!r},{c}\n"
                                            for x, c in zip(ref_x, ref_c)))
        other = os.path.join(tmp, "other.csv")
        with open(other, "w") as f:
            f.write("x,country\n" + "".join(f"{x + 1!r},{c}\n"
                                            for x, c in zip(ref_x, ref_c)))
        logs = []
        for i in range(4):
            os.makedirs(os.path.join(tmp, f"d{i}"))
            d = h.Daemon(tmpdir=os.path.join(tmp, f"d{i}"))
            log = os.path.join(d.dir, "p.log")
            open(log, "w").close()
            # The fourth replica loads another reference and exports no
            # bins: it only trips the mismatch alert.
            d.write_config(conf(log, ref) if i < 3 else
                           conf(log, other, export="no"))
            d.start()
            daemons.append(d)
            logs.append(log)
        port = free_port()
        rules = os.path.join(tmp, "fleet-rules.yml")
        with open(RULES) as f:
            # The shipped rules, without their `for`, so that the test
            # need not wait minutes for an alert.
            text = re.sub(r"\bfor: \d+m\b", "for: 0s", f.read())
        with open(rules, "w") as f:
            f.write(text)
        pconf = os.path.join(tmp, "prometheus.yml")
        targets = ", ".join(f"'127.0.0.1:{d.port}'" for d in daemons)
        with open(pconf, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n"
                    "  evaluation_interval: 1s\n"
                    f"rule_files:\n  - {rules}\n"
                    "scrape_configs:\n  - job_name: driftd\n"
                    f"    static_configs:\n      - targets: [{targets}]\n")
        perr = open(os.path.join(tmp, "prometheus.log"), "w")
        prom = subprocess.Popen(
            [PROMETHEUS, f"--config.file={pconf}",
             f"--storage.tsdb.path={os.path.join(tmp, 'tsdb')}",
             f"--web.listen-address=127.0.0.1:{port}"],
            stdout=perr, stderr=perr)

        pooled_x, pooled_c = [], []
        stages = [("normal", records(1500, 0.0, 2)),
                  ("drifted", records(1500, 1.2, 3))]
        for name, recs in stages:
            feed(logs[:3], recs, 0)
            pooled_x += [x for x, _ in recs]
            pooled_c += [c for _, c in recs]
            n = len(pooled_x)
            want = oracle(np.array(ref_x), ref_c, np.array(pooled_x),
                          pooled_c)

            def settled():
                # Every replica has evaluated its whole share, and the
                # rules have seen the scrapes that show it.
                got = by_column(port, "sum by (column) "
                                "(prediction_window_bin_samples)")
                psi_ = by_column(port, "model_column:prediction_fleet_psi:"
                                 "pooled")
                return (got.get("features.x") == n and
                        got.get("features.country") == n and
                        len(psi_) == 2 and
                        abs(psi_["features.x"] - want["features.x"][0]) <=
                        1e-9 * max(1, want["features.x"][0]) and psi_)
            h.wait_for(settled, timeout=60, interval=0.5,
                       what=f"the fleet figures of the {name} stream")
            psi_ = by_column(port, "model_column:prediction_fleet_psi:pooled")
            js = by_column(port, "model_column:prediction_fleet_js:pooled")
            for col, (p, j) in want.items():
                h.check(abs(psi_[col] - p) <= 1e-9 * max(1, p),
                        f"{name} {col}: fleet PSI {psi_[col]!r}, oracle {p!r}")
                h.check(abs(js[col] - j) <= 1e-9 * max(1, j),
                        f"{name} {col}: fleet JS {js[col]!r}, oracle {j!r}")

            def firing():
                return {r["metric"]["column"] for r in query(
                    port, 'ALERTS{alertname="DriftdFleetDrift",'
                    'alertstate="firing"}')}
            expect = {c for c, (p, _) in want.items() if p >= 0.2}
            h.wait_for(lambda: firing() == expect, timeout=20, interval=0.5,
                       what=f"{name}: DriftdFleetDrift on {sorted(expect)}")
            # How the replicas judged their own thirds.
            mine = {c: sum(d.sample("prediction_drift_detected", model="m",
                                    column=c) == 1 for d in daemons[:3])
                    for c in want}
            own = {c: [d.sample("prediction_drift_score", model="m",
                                column=c, test="psi") for d in daemons[:3]]
                   for c in want}
            print(f"# {name}: fleet PSI "
                  + ", ".join(f"{c} {want[c][0]:.4f}" for c in sorted(want))
                  + "; each replica's PSI "
                  + ", ".join(f"{c} " + "/".join(f"{v:.4f}" for v in own[c])
                              for c in sorted(own))
                  + "; replicas flagging drift: "
                  + ", ".join(f"{c} {mine[c]}/3" for c in sorted(mine))
                  + f"; fleet alert on {sorted(expect)}")
            if name == "normal":
                h.check_eq(expect, set(), "the normal stream: no fleet drift")
            else:
                h.check("features.x" in expect, "the drifted stream drifts")
        h.wait_for(lambda: [r["metric"]["model"] for r in query(
            port, 'ALERTS{alertname="DriftdFleetReferenceMismatch",'
            'alertstate="firing"}')] == ["m"], timeout=20, interval=0.5,
            what="the reference mismatch alert")
        for d in daemons:
            d.stop()
    finally:
        if prom is not None:
            prom.terminate()
            prom.wait(timeout=30)
        for d in daemons:
            d.close()
        shutil.rmtree(tmp, ignore_errors=True)


def test_bin_series_count_is_three_per_bin_and_column():
    """50 numeric columns of 10 bins: exactly 1500 bin series; none
    without export_bins."""
    tmp = tempfile.mkdtemp(prefix="driftd-fleet-")
    try:
        rnd = random.Random(4)
        ref = os.path.join(tmp, "ref.csv")
        with open(ref, "w") as f:
            f.write(",".join(f"f{i}" for i in range(50)) + "\n")
            for _ in range(500):
                f.write(",".join(repr(rnd.random()) for _ in range(50)) + "\n")
        log = os.path.join(tmp, "p.log")
        with open(log, "w") as f:
            for _ in range(100):
                f.write(json.dumps({"features": {f"f{i}": rnd.random()
                                                 for i in range(50)}}) + "\n")
        feats = "".join(f"features.f{i} = numeric\n" for i in range(50))
        for export, want in (("yes", 1500), ("no", 0)):
            cfg = os.path.join(tmp, "d.conf")
            with open(cfg, "w") as f:
                f.write("[model]\nname = m\nclass =\nconfidence =\n"
                        f"[features]\n{feats}[reference]\nfile = {ref}\n"
                        f"[window]\nmin_samples = 10\n"
                        f"[drift]\nexport_bins = {export}\n")
            p = subprocess.run([h.DRIFTD, "--once", "-c", cfg, log],
                               capture_output=True, timeout=60)
            h.sanitizer_clean(p.stderr.decode("utf-8", "replace"))
            h.check_eq(p.returncode, 0, p.stderr)
            m = h.parse_metrics(p.stdout.decode())
            series = [k for k in m if k[0] in (
                "prediction_window_bin_samples",
                "prediction_reference_bin_ratio",
                "prediction_bin_observations_total")]
            h.check_eq(len(series), want, f"bin series with export_bins = "
                       f"{export}")
            if export == "yes":
                total = sum(v for k, v in m.items()
                            if k[0] == "prediction_bin_observations_total")
                h.check_eq(total, 5000.0, "every value observed once")
                ratio = sum(v for k, v in m.items()
                            if k[0] == "prediction_reference_bin_ratio")
                h.check(abs(ratio - 50) < 1e-9, f"reference ratios {ratio}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


h.main(globals())
