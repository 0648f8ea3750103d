"""A real Prometheus server (Debian's prometheus, loopback only, temporary
storage, 1 s scrape interval) scrapes driftd: the target is up, the scrape
had no error (Prometheus asks for OpenMetrics first), and the drift series
arrive with the values driftd serves."""

import json
import os
import shutil
import socket
import subprocess
import sys
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def query(port, q):
    url = (f"http://127.0.0.1:{port}/api/v1/query?" +
           urllib.parse.urlencode({"query": q}))
    with urllib.request.urlopen(url, timeout=5) as r:
        data = json.load(r)
    h.check_eq(data["status"], "success", f"query {q}")
    return data["data"]["result"]


def value(port, q):
    try:
        res = query(port, q)
    except OSError:
        return None
    return float(res[0]["value"][1]) if res else None


def test_prometheus_scrapes_driftd():
    h.check(os.path.exists(PROMETHEUS), "prometheus not installed "
            "(tools/install-deps --test)")
    with h.Daemon() as d:
        log, ref = os.path.join(d.dir, "p.log"), os.path.join(d.dir, "ref.csv")
        with open(ref, "w") as f:
            f.write("x\n" + "".join(f"{i % 50}\n" for i in range(500)))
        with open(log, "w") as f:
            for i in range(400):
                f.write(json.dumps({"prediction": "a", "confidence": 0.9,
                                    "features": {"x": 40 + i % 50}}) + "\n")
        d.write_config(
            f"[input]\npath = {log}\nstart_at = beginning\n"
            f"[model]\nname = m\n[features]\nfeatures.x = numeric\n"
            f"[reference]\nfile = {ref}\n"
            f"[window]\nsize = 400\nmin_samples = 100\nevaluate_every = 200ms\n")
        d.start()
        h.wait_for(lambda: d.sample("prediction_drift_detected", model="m",
                                    column="features.x") == 1, what="drift")
        pport = free_port()
        conf = os.path.join(d.dir, "prometheus.yml")
        with open(conf, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                    "scrape_configs:\n  - job_name: driftd\n"
                    f"    static_configs:\n      - targets: ['127.0.0.1:{d.port}']\n")
        perr = open(os.path.join(d.dir, "prometheus.log"), "w")
        prom = subprocess.Popen(
            [PROMETHEUS, f"--config.file={conf}",
             f"--storage.tsdb.path={os.path.join(d.dir, 'tsdb')}",
             f"--web.listen-address=127.0.0.1:{pport}"],
            stdout=perr, stderr=perr)
        try:
            h.wait_for(lambda: value(pport, 'up{job="driftd"}') == 1,
                       timeout=60, what="Prometheus to scrape driftd",
                       interval=0.25)
            with urllib.request.urlopen(
                    f"http://127.0.0.1:{pport}/api/v1/targets", timeout=5) as r:
                targets = json.load(r)["data"]["activeTargets"]
            h.check_eq(len(targets), 1, "one target")
            h.check_eq(targets[0]["health"], "up", "target health")
            h.check_eq(targets[0]["lastError"], "", "scrape error")
            h.wait_for(lambda: value(
                pport, 'prediction_drift_detected{job="driftd",column="features.x"}')
                == 1, timeout=30, what="the drift series", interval=0.25)
            want = d.sample("prediction_drift_score", model="m",
                            column="features.x", test="ks")
            got = value(pport, 'prediction_drift_score{column="features.x",test="ks"}')
            h.check_eq(got, want, "ks score in Prometheus")
            h.check_eq(value(pport, 'prediction_records_total{model="m"}'), 400.0,
                       "records")
            h.check_eq(value(pport, "prediction_dataset_drift_detected"), 1.0,
                       "dataset drift")
            # A histogram arrives whole: +Inf equals the count.
            h.check_eq(value(pport, 'prediction_confidence_bucket{le="+Inf"}'),
                       value(pport, "prediction_confidence_count"), "+Inf")
        finally:
            prom.terminate()
            try:
                prom.wait(timeout=20)
            except subprocess.TimeoutExpired:
                prom.kill()
                prom.wait()
            perr.close()
        d.stop()


h.main(globals())
