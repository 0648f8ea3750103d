"""No input crashes driftd, and nothing stalls its loop: hostile log lines,
hostile timestamps, odd paths, and what a hostile or unlucky environment
does to the daemon's descriptors and disk."""

import json
import os
import resource
import shutil
import socket
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

MODEL = "m"


def once(conf_text, lines, tmpdir, extra_args=()):
    conf = os.path.join(tmpdir, "once.conf")
    log = os.path.join(tmpdir, "once.log")
    with open(conf, "w") as f:
        f.write(conf_text)
    with open(log, "w") as f:
        f.write("".join(lines))
    p = subprocess.run([h.DRIFTD, "--once", "-c", conf, *extra_args, log],
                       capture_output=True, timeout=60)
    h.sanitizer_clean(p.stderr.decode("utf-8", "replace"))
    return p


def test_discovered_key_longer_than_a_label_is_counted_not_fatal():
    """A feature key of 5000 bytes made --once exit 139, and the daemon
    crash at the same offset after every restart."""
    with h.Daemon() as d:
        key = "k" * 5000
        lines = [json.dumps({"features": {key: 1, "ok": 2},
                             "prediction": "a"}) + "\n",
                 json.dumps({"features": {key + "x": "v", "ok": 3},
                             "prediction": "a"}) + "\n"]
        conf = (f"[model]\nname = {MODEL}\nconfidence =\n"
                f"[features]\ndiscover = features\n"
                f"[window]\nmin_samples = 1\n")
        p = once(conf, lines, d.dir)
        h.check_eq(p.returncode, 0, p.stderr)
        m = h.parse_metrics(p.stdout.decode())
        h.check_eq(h.sample(m, "prediction_discover_skipped_total",
                            model=MODEL, reason="name_too_long"), 2,
                   "skipped")
        h.check_eq(h.sample(m, "prediction_window_samples", model=MODEL,
                            column="features.ok"), 2, "the rest is used")
        # The daemon too, with the line in its log.
        log = os.path.join(d.dir, "app.log")
        with open(log, "w") as f:
            f.write("".join(lines))
        d.write_config(conf + f"[input]\npath = {log}\nstart_at = beginning\n"
                       f"[global]\nstate_dir = {d.dir}/state\n")
        d.start()
        d.wait_sample("prediction_records_total", 2, model=MODEL)
        d.stop()


def event_time_conf(log, state=""):
    return (f"[global]\nstate_dir = {state}\n"
            f"[input]\npath = {log}\nstart_at = beginning\n"
            f"poll_interval = 50ms\n"
            f"[model]\nname = {MODEL}\nconfidence =\ntimestamp = ts\n"
            f"[features]\nfeatures.x = numeric\n"
            f"[window]\nsize = 1000\nduration = 30s\nmin_samples = 1\n"
            f"evaluate_every = 100ms\n")


def rec(ts, x):
    return json.dumps({"ts": ts, "prediction": "a",
                       "features": {"x": x}}) + "\n"


def test_implausible_event_times_are_bad_values():
    """One record with ts 1e300 (or a millisecond epoch) emptied every
    window, and afterwards duration expired nothing."""
    with h.Daemon() as d:
        log = os.path.join(d.dir, "app.log")
        t0 = int(time.time()) - 3600
        with open(log, "w") as f:
            for i in range(40):
                f.write(rec(t0 + i, i))
            f.write(rec(1e300, 1))
            f.write(rec((t0 + 40) * 1000, 2))    # milliseconds
            f.write(rec(-5e9, 3))                # before 1812
            for i in range(40, 60):
                f.write(rec(t0 + i, i))
        d.write_config(event_time_conf(log))
        d.start()
        d.wait_sample("prediction_records_total", 63, model=MODEL)
        d.wait_sample("prediction_feature_missing_total", 3, model=MODEL,
                      feature="timestamp")
        # Those three count as the newest so far; the window is the last
        # 30 s of event time: 29 ... 59, and the three.
        h.wait_for(lambda: d.sample("prediction_window_samples", model=MODEL,
                                    column="features.x") == 34,
                   what="the window of the last 30 s")
        d.stop()


def test_out_of_order_records_expire_by_event_time():
    with h.Daemon() as d:
        log = os.path.join(d.dir, "app.log")
        state = os.path.join(d.dir, "state")
        t0 = int(time.time()) - 3600
        with open(log, "w") as f:
            for i in range(100):
                f.write(rec(t0 + i, float(i)))
            f.write(rec(t0 + 10, 1000.0))        # late, and too old
            f.write(rec(t0 + 80, 80.5))          # late, still in the window
        d.write_config(event_time_conf(log, state))
        d.start()
        d.wait_sample("prediction_records_total", 102, model=MODEL)
        want = [float(i) for i in range(69, 100)] + [80.5]
        h.wait_for(lambda: d.sample("prediction_window_samples", model=MODEL,
                                    column="features.x") == len(want),
                   what="the window of the last 30 s")
        h.check_eq(d.sample("prediction_window_mean", model=MODEL,
                            column="features.x"), sum(want) / len(want),
                   "mean")
        # The same after a restart from the checkpoint.
        d.stop()
        d.start()
        h.wait_for(lambda: d.sample("prediction_window_samples", model=MODEL,
                                    column="features.x") == len(want),
                   what="the restored window")
        h.check_eq(d.sample("prediction_window_mean", model=MODEL,
                            column="features.x"), sum(want) / len(want),
                   "mean after a restart")
        d.stop()


def simple_conf(path, extra_input="", extra=""):
    return (f"[input]\npath = {path}\nstart_at = beginning\n"
            f"poll_interval = 100ms\n{extra_input}"
            f"[model]\nname = {MODEL}\nconfidence =\n"
            f"[features]\nfeatures.x = numeric\n{extra}")


def test_stat_poll_only_as_a_fallback():
    """With file events working, an idle log is not stat()ed every
    poll_interval."""
    if shutil.which("strace") is None:
        raise h.Skip("strace is not installed")
    with h.Daemon() as d:
        log = os.path.join(d.dir, "app.log")
        with open(log, "w") as f:
            f.write(rec(0, 1.0))
        d.write_config(simple_conf(log))
        d.start()
        d.wait_sample("prediction_records_total", 1, model=MODEL)
        p = subprocess.Popen(["strace", "-f", "-c", "-e",
                              "trace=stat,newfstatat,statx,lstat",
                              "-p", str(d.proc.pid)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(2)        # the span measured, not a wait for a state
        p.send_signal(signal.SIGINT)
        out = p.communicate(timeout=10)[1].decode()
        if "Operation not permitted" in out:
            raise h.Skip("ptrace is not permitted here")
        calls = sum(int(line.split()[3]) for line in out.splitlines()
                    if line.strip().endswith(("stat", "newfstatat", "statx"))
                    and len(line.split()) >= 5 and line.split()[3].isdigit())
        # At poll_interval = 100ms: about 20 in 2 s.
        h.check(calls < 5, f"{calls} stat calls in 2 s:\n{out}")
        d.stop()


def test_window_figures_from_the_first_value():
    """SPEC: window samples, mean and stddev are reported from the first
    value, not from the first evaluation (evaluate_every away)."""
    with h.Daemon() as d:
        log = os.path.join(d.dir, "app.log")
        open(log, "w").close()
        d.write_config(simple_conf(log, extra="[window]\nevaluate_every = 1h\n"))
        d.start()
        with open(log, "a") as f:
            f.write(rec(0, 1.0) + rec(0, 3.0))
        d.wait_sample("prediction_window_samples", 2, model=MODEL,
                      column="features.x")
        h.check_eq(d.sample("prediction_window_mean", model=MODEL,
                            column="features.x"), 2.0, "mean")
        d.stop()


def test_once_reports_read_errors_of_glob_matches():
    with h.Daemon() as d:
        conf = os.path.join(d.dir, "c.conf")
        with open(conf, "w") as f:
            f.write(simple_conf("/dev/null"))
        p = subprocess.run([h.DRIFTD, "--once", "-c", conf,
                            "/proc/self/me[m]"], capture_output=True,
                           timeout=30)
        h.check_eq(p.returncode, 1, p.stderr)
        h.check(b"/proc/self/mem" in p.stderr, p.stderr)


def test_paths_that_cannot_be_read_are_said_so():
    """A directory or FIFO at the path, or a path that cannot be reached
    (EACCES), is a warning naming the reason, not "does not exist yet"."""
    def nobody():
        os.setgid(65534)
        os.setuid(65534)
    with h.Daemon(preexec_fn=nobody if os.getuid() == 0 else None) as d:
        os.chmod(d.dir, 0o755)
        locked = os.path.join(d.dir, "locked")
        os.makedirs(locked)
        os.chmod(locked, 0o700 if os.getuid() == 0 else 0o000)
        a_dir = os.path.join(d.dir, "adir")
        os.makedirs(a_dir)
        fifo = os.path.join(d.dir, "fifo")
        os.mkfifo(fifo)
        d.write_config(simple_conf(os.path.join(locked, "app.log"),
                                   extra_input=f"path = {a_dir}\n"
                                   f"path = {fifo}\n"))
        os.chmod(d.conf_path, 0o644)
        d.start()
        d.wait_log("cannot reach it: Permission denied")
        d.wait_log("adir: not a regular file \\(a directory\\)")
        d.wait_log("fifo: not a regular file \\(a FIFO\\)")
        h.check("locked/app.log: does not exist yet" not in d.stderr(),
                d.stderr())
        d.stop()


def test_responses_waiting_for_slow_clients_are_bounded():
    """240 clients ask for /status (about 600 KB each, built per request)
    and never read: what waits for them stays within the documented
    64 MiB, counted whether a response is being written or waits for its
    turn, and the daemon keeps answering."""
    with h.Daemon() as d:
        log = os.path.join(d.dir, "app.log")
        with open(log, "w") as f:
            for i in range(20):
                f.write(json.dumps({"prediction": "a", "features": {
                    f"feature_with_a_long_name_{k}": k + i
                    for k in range(3000)}}) + "\n")
        d.write_config(simple_conf(log, extra_input="max_line_bytes = 4194304\n")
                       .replace("features.x = numeric\n",
                                "discover = features\nmax_features = 3000\n")
                       + "[window]\nmin_samples = 5\nevaluate_every = 100ms\n")
        d.start()
        h.wait_for(lambda: len(d.request("/status")[2]) > 500000,
                   timeout=30, what="a large /status")
        before = d.sample("process_resident_memory_bytes")
        socks = []
        try:
            for _ in range(240):
                s = socket.create_connection(("127.0.0.1", d.port))
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                s.sendall(b"GET /status HTTP/1.1\r\nHost: x\r\n\r\n")
                socks.append(s)
            peak = before
            for _ in range(10):
                st, _, _ = d.request("/-/healthy")
                h.check_eq(st, 200, "/-/healthy")
                peak = max(peak, d.sample("process_resident_memory_bytes"))
            h.check(peak < before + 100 * 2**20,
                    f"RSS went from {before / 2**20:.0f} to "
                    f"{peak / 2**20:.0f} MiB")
        finally:
            for s in socks:
                s.close()
        d.stop()


def test_files_left_unopened_at_the_descriptor_limit_are_shown():
    def limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
    with h.Daemon(preexec_fn=limit) as d:
        pattern = os.path.join(d.dir, "f*.log")
        for i in range(100):
            with open(os.path.join(d.dir, f"f{i:03}.log"), "w") as f:
                f.write(rec(0, float(i)))
        d.write_config(simple_conf(pattern))
        d.start()
        d.wait_sample("prediction_records_total", 32, model=MODEL)
        d.wait_sample("driftd_log_files_unopened", 68, input=pattern)
        d.stop()


h.main(globals())
