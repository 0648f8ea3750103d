#!/usr/bin/env python3
"""How long does driftd's event loop stall, and what does it cost in memory,
under the loads of SPEC's hostile environment: pages of many columns, a
backlog of many files, a big checkpoint, and clients that do not read.

Each scenario starts a real daemon on 127.0.0.1, sets up the load, and
measures from a separate client what a liveness probe sees: the time
`GET /-/healthy` takes, sampled every 10 ms while the load lasts.  It runs
every binary given with --driftd (the first is the baseline) in the same
invocation, so that ratios mean something on a noisy shared machine.

    bench/stall.py --driftd _build/default/src/driftd [--driftd OLD] \
        [--scenario pages|backlog|checkpoint|clients]...

Prints a Markdown table per scenario to stdout.
"""

import argparse
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def simd_level():
    try:
        flags = open("/proc/cpuinfo").read()
    except OSError:
        return "unknown"
    for name in ("avx512f", "avx2", "sse4_2"):
        if re.search(r"\b%s\b" % name, flags):
            return name
    return "baseline"


class Daemon:
    def __init__(self, binary, conf_text, workdir):
        self.dir = workdir
        self.conf = os.path.join(workdir, "driftd.conf")
        with open(self.conf, "w") as f:
            f.write(conf_text)
        self.err = open(os.path.join(workdir, "stderr.log"), "wb")
        self.proc = subprocess.Popen([binary, "-c", self.conf, "--listen",
                                      "127.0.0.1:0"], stdin=subprocess.DEVNULL,
                                     stderr=self.err)
        self.port = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            m = re.search(rb"listening on \S+ \(port (\d+)\)",
                          open(self.err.name, "rb").read())
            if m:
                self.port = int(m.group(1))
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.01)
        raise RuntimeError("driftd did not start:\n" +
                           open(self.err.name).read())

    def get(self, path, timeout=60):
        t0 = time.monotonic()
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}",
                                    timeout=timeout) as r:
            body = r.read()
        return time.monotonic() - t0, body

    def sample(self, name, **labels):
        _, body = self.get("/metrics")
        for line in body.decode().splitlines():
            if not line.startswith(name):
                continue
            m = re.match(r"(\w+)(\{(.*)\})? (\S+)$", line)
            if not m or m.group(1) != name:
                continue
            got = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
            if all(got.get(k) == v for k, v in labels.items()):
                return float(m.group(4))
        return None

    def wait(self, cond, timeout=300):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if cond():
                return
            time.sleep(0.05)
        raise RuntimeError("timed out")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.err.close()


class Prober:
    """GET /-/healthy every 10 ms on a fresh connection; keeps the times."""

    def __init__(self, port):
        self.port = port
        self.times = []
        self.stop_flag = False
        self.t = threading.Thread(target=self.run, daemon=True)

    def run(self):
        while not self.stop_flag:
            t0 = time.monotonic()
            try:
                s = socket.create_connection(("127.0.0.1", self.port),
                                             timeout=30)
                s.sendall(b"GET /-/healthy HTTP/1.1\r\nHost: x\r\n"
                          b"Connection: close\r\n\r\n")
                while s.recv(4096):
                    pass
                s.close()
            except OSError:
                pass
            self.times.append(time.monotonic() - t0)
            time.sleep(0.01)

    def __enter__(self):
        self.t.start()
        return self

    def __exit__(self, *exc):
        self.stop_flag = True
        self.t.join()


def ms(x):
    return f"{x * 1000:.1f}"


# ------------------------------------------------------------- scenarios

def conf_base(extra=""):
    return ("[global]\n" + extra +
            "[model]\nname = m\nconfidence =\n")


def scenario_pages(binary, work):
    """/status and / at 1k and 10k discovered columns; /-/healthy while four
    clients fetch / in a loop."""
    rows = []
    for ncols in (256, 1000, 10000):
        d_dir = tempfile.mkdtemp(dir=work)
        log = os.path.join(d_dir, "app.log")
        with open(log, "w") as f:
            for i in range(60):
                feats = {f"f{k}": (i * 7 + k) % 13 for k in range(ncols)}
                f.write(json.dumps({"prediction": "a", "features": feats}) + "\n")
        conf = (conf_base() + f"[input]\npath = {log}\nstart_at = beginning\n"
                "max_line_bytes = 4194304\n"
                f"[features]\ndiscover = features\nmax_features = {ncols}\n"
                "[reference]\ncapture = 20\n"
                "[window]\nmin_samples = 10\nevaluate_every = 1s\n")
        d = Daemon(binary, conf, d_dir)
        try:
            d.wait(lambda: (d.sample("prediction_window_samples", model="m",
                                     column="features.f0") or 0) >= 40)
            status = [d.get("/status")[0] for _ in range(10)]
            page = [d.get("/")[0] for _ in range(10)]
            stop = threading.Event()

            def hammer():
                while not stop.is_set():
                    try:
                        d.get("/")
                    except OSError:
                        pass
            clients = [threading.Thread(target=hammer, daemon=True)
                       for _ in range(4)]
            with Prober(d.port) as p:
                for c in clients:
                    c.start()
                time.sleep(5)
                stop.set()
                for c in clients:
                    c.join()
            rows.append((f"{ncols} columns", ms(statistics.median(status)),
                         ms(statistics.median(page)), ms(max(p.times))))
        finally:
            d.stop()
    return ("| columns | /status median ms | / median ms | longest /-/healthy "
            "with 4 clients on / (ms) |\n|---|---:|---:|---:|\n" +
            "".join(f"| {a} | {b} | {c} | {e} |\n" for a, b, c, e in rows))


def scenario_backlog(binary, work):
    """2000 files of 300 lines appear at once under a glob."""
    d_dir = tempfile.mkdtemp(dir=work)
    logs = os.path.join(d_dir, "logs")
    os.makedirs(logs)
    conf = (conf_base() + f"[input]\npath = {logs}/*.log\n"
            "[features]\nfeatures.x = numeric\n"
            "[window]\nevaluate_every = 1s\n")
    d = Daemon(binary, conf, d_dir)
    try:
        tmp = os.path.join(d_dir, "stage")
        os.makedirs(tmp)
        for i in range(2000):
            # Distinct files (identical ones would be taken for copies).
            with open(os.path.join(tmp, f"{i}.log"), "w") as f:
                f.write("".join(json.dumps({
                    "id": f"{i}-{k}", "prediction": "a",
                    "features": {"x": 1.5}}) + "\n" for k in range(300)))
        with Prober(d.port) as p:
            for i in range(2000):
                os.rename(os.path.join(tmp, f"{i}.log"),
                          os.path.join(logs, f"{i}.log"))
            d.wait(lambda: d.sample("prediction_records_total", model="m")
                   == 600000, timeout=600)
        return ("| files | records | longest /-/healthy (ms) | median (ms) |\n"
                "|---:|---:|---:|---:|\n"
                f"| 2000 | 600000 | {ms(max(p.times))} | "
                f"{ms(statistics.median(p.times))} |\n")
    finally:
        d.stop()


def scenario_checkpoint(binary, work):
    """A window of 5M records of 4 numeric columns checkpointed every 2 s."""
    d_dir = tempfile.mkdtemp(dir=work)
    log = os.path.join(d_dir, "app.log")
    state = os.path.join(d_dir, "state")
    n = 5_000_000
    with open(log, "w") as f:
        line = json.dumps({"prediction": "a", "features": {
            "a": 1.25, "b": 2.5, "c": 3.75, "d": 5.0}}) + "\n"
        chunk = line * 100000
        for _ in range(n // 100000):
            f.write(chunk)
    conf = (conf_base(f"state_dir = {state}\ncheckpoint_interval = 2s\n") +
            f"[input]\npath = {log}\nstart_at = beginning\n"
            "[features]\nfeatures.a = numeric\nfeatures.b = numeric\n"
            "features.c = numeric\nfeatures.d = numeric\n"
            f"[window]\nsize = {n}\nevaluate_every = 1h\n")
    d = Daemon(binary, conf, d_dir)
    try:
        d.wait(lambda: d.sample("prediction_records_total", model="m") == n,
               timeout=600)
        # The first checkpoint of the full window maps its memory; the
        # next ones reuse it.
        c0 = d.sample("driftd_checkpoints_total")
        with Prober(d.port) as first:
            d.wait(lambda: d.sample("driftd_checkpoints_total") >= c0 + 1,
                   timeout=120)
        with Prober(d.port) as p:
            d.wait(lambda: d.sample("driftd_checkpoints_total") >= c0 + 4,
                   timeout=120)
        size = os.path.getsize(os.path.join(state, "driftd.state"))
        return ("| window records | checkpoint MB | longest /-/healthy, "
                "first full checkpoint (ms) | longest, next 3 (ms) "
                "| median (ms) |\n|---:|---:|---:|---:|---:|\n"
                f"| {n} | {size / 1e6:.0f} | {ms(max(first.times))} | "
                f"{ms(max(p.times))} | {ms(statistics.median(p.times))} |\n")
    finally:
        d.stop()


def scenario_clients(binary, work):
    """300 clients ask for /metrics (about 2 MB of series) and never read."""
    d_dir = tempfile.mkdtemp(dir=work)
    log = os.path.join(d_dir, "app.log")
    with open(log, "w") as f:
        for i in range(40):
            f.write(json.dumps({"prediction": f"c{i % 50}", "features": {
                f"f{k}": k * 0.5 for k in range(2000)}}) + "\n")
    conf = (conf_base() + f"[input]\npath = {log}\nstart_at = beginning\n"
            "[features]\ndiscover = features\nmax_features = 2000\n"
            "[window]\nmin_samples = 10\nevaluate_every = 1s\n")
    d = Daemon(binary, conf, d_dir)
    socks = []
    try:
        d.wait(lambda: (d.sample("prediction_window_samples", model="m",
                                 column="features.f0") or 0) >= 40)
        size = len(d.get("/metrics")[1])
        rss0 = d.sample("process_resident_memory_bytes")
        peak = rss0
        with Prober(d.port) as p:
            for i in range(300):
                s = socket.create_connection(("127.0.0.1", d.port))
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n" * 4)
                socks.append(s)
            for _ in range(20):
                time.sleep(0.25)
                peak = max(peak, d.sample("process_resident_memory_bytes"))
        for s in socks:
            s.close()
        socks = []
        time.sleep(2)
        after = d.sample("process_resident_memory_bytes")
        return ("| exposition KB | clients | RSS before MB | peak MB | "
                "after they left MB | longest /-/healthy (ms) |\n"
                "|---:|---:|---:|---:|---:|---:|\n"
                f"| {size / 1024:.0f} | 300 | {rss0 / 2**20:.0f} | "
                f"{peak / 2**20:.0f} | {after / 2**20:.0f} | "
                f"{ms(max(p.times))} |\n")
    finally:
        for s in socks:
            s.close()
        d.stop()


SCENARIOS = {"pages": scenario_pages, "backlog": scenario_backlog,
             "checkpoint": scenario_checkpoint, "clients": scenario_clients}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--driftd", action="append", required=True)
    ap.add_argument("--scenario", action="append", choices=sorted(SCENARIOS))
    a = ap.parse_args()
    names = a.scenario or list(SCENARIOS)
    print(f"CPU: {cpu_name()} ({simd_level()}), {os.cpu_count()} cores; "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n")
    work = tempfile.mkdtemp(prefix="driftd-stall-")
    try:
        for name in names:
            for binary in a.driftd:
                print(f"### {name}: {binary}\n")
                print(SCENARIOS[name](binary, work))
                sys.stdout.flush()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
