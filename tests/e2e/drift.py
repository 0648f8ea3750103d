"""Drift in the running daemon: evaluations on a timer, drift flipping on
and off with events counted, captured references that survive restarts,
discovered columns, age-bounded windows, and reference errors."""

import json
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402


def conf(log, extra="", state="", model_extra="", features="features.x = numeric\n"):
    return (f"[global]\nstate_dir = {state}\ncheckpoint_interval = 200ms\n"
            f"[input]\npath = {log}\nstart_at = beginning\npoll_interval = 100ms\n"
            f"[model]\nname = m\nconfidence =\n{model_extra}"
            f"[features]\n{features}"
            f"[window]\nsize = 200\nmin_samples = 50\nevaluate_every = 200ms\n"
            f"{extra}")


def write(path, xs, cls="a", extra=None):
    with open(path, "a") as f:
        for x in xs:
            rec = {"prediction": cls, "features": {"x": x}}
            if extra:
                rec.update(extra(x))
            f.write(json.dumps(rec) + "\n")


def normal(n, mu, seed):
    r = random.Random(seed)
    return [r.gauss(mu, 1) for _ in range(n)]


def write_ref(path, xs):
    with open(path, "w") as f:
        f.write("x,prediction\n")
        for i, x in enumerate(xs):
            f.write(f"{x!r},{'a' if i % 2 else 'b'}\n")


def detected(d, col="features.x"):
    return d.sample("prediction_drift_detected", model="m", column=col)


def test_drift_flips_on_and_off():
    with h.Daemon() as d:
        log, ref = os.path.join(d.dir, "p.log"), os.path.join(d.dir, "ref.csv")
        write_ref(ref, normal(500, 0, 1))
        open(log, "w").close()
        d.write_config(conf(log, f"[reference]\nfile = {ref}\n"))
        d.start()
        h.check_eq(d.request("/-/ready")[0], 200, "ready")
        write(log, normal(30, 0, 2))
        d.wait_sample("prediction_window_samples", 30, model="m",
                      column="features.x")
        # Below min_samples nothing is tested: the series are absent.
        h.check(detected(d) is None, "detected before min_samples")
        # Seeds chosen so that the same distribution gives p > 0.3.
        write(log, normal(200, 0, 4))
        h.wait_for(lambda: detected(d) == 0, what="no drift")
        write(log, normal(200, 1.5, 5))
        h.wait_for(lambda: detected(d) == 1, what="drift")
        h.check_eq(d.sample("prediction_drift_events_total", model="m",
                            column="features.x"), 1.0, "one event")
        write(log, normal(200, 0, 6))
        h.wait_for(lambda: detected(d) == 0, what="drift gone")
        write(log, normal(200, 2, 7))
        h.wait_for(lambda: detected(d) == 1, what="drift again")
        h.check_eq(d.sample("prediction_drift_events_total", model="m",
                            column="features.x"), 2.0, "two events")
        s = h.parse_metrics(d.metrics())
        h.check(h.sample(s, "driftd_evaluation_duration_seconds_count") >= 3,
                "evaluations counted")
        h.check(h.sample(s, "prediction_reference_info", model="m", source=ref,
                         sha256=__import__("hashlib").sha256(
                             open(ref, "rb").read()).hexdigest()) == 1.0,
                "reference_info with the file's sha256")
        h.promtool_check(d.metrics())
        d.stop()


def test_capture_survives_restart():
    with h.Daemon() as d:
        log, state = os.path.join(d.dir, "p.log"), os.path.join(d.dir, "st")
        open(log, "w").close()
        d.write_config(conf(log, "[reference]\ncapture = 100\n", state=state))
        d.start()
        h.check_eq(d.request("/-/ready")[0], 200, "ready while capturing")
        write(log, normal(100, 0, 7))
        d.wait_log("reference captured")
        # Captured records do not enter the window.
        d.wait_sample("prediction_window_samples", 0, model="m",
                      column="features.x")
        write(log, normal(100, 3, 8))
        h.wait_for(lambda: detected(d) == 1, what="drift against capture")
        s = h.parse_metrics(d.metrics())
        info = [k for k in s if k[0] == "prediction_reference_info"]
        h.check_eq(len(info), 1, "one reference_info")
        d.stop()
        h.check(os.path.exists(os.path.join(state, "reference.capture")),
                "capture saved")
        d.start()
        d.wait_log("captured earlier")
        s2 = h.parse_metrics(d.metrics())
        h.check_eq([k for k in s2 if k[0] == "prediction_reference_info"],
                   info, "same reference after restart")
        d.stop()


def test_restored_window_takes_only_finite_values():
    """A checkpoint that holds a non-finite window value (written by hand:
    a log never yields one) restores it as missing, and the tests stay
    finite."""
    import struct
    import zlib
    marker = 1234.5678
    with h.Daemon() as d:
        log, ref = os.path.join(d.dir, "p.log"), os.path.join(d.dir, "ref.csv")
        state = os.path.join(d.dir, "st")
        write_ref(ref, normal(500, 0, 1))
        write(log, normal(57, 0, 2) + [marker] * 3)
        d.write_config(conf(log, f"[reference]\nfile = {ref}\n", state=state))
        d.start()
        d.wait_sample("prediction_window_samples", 60, model="m",
                      column="features.x")
        d.stop()
        packed = struct.pack("<d", marker)
        found = 0
        for name in os.listdir(state):
            path = os.path.join(state, name)
            data = open(path, "rb").read()
            if packed not in data:
                continue
            found += data.count(packed)
            data = data[:-4].replace(packed, struct.pack("<d", float("inf")))
            data += struct.pack("<I", zlib.crc32(data) & 0xffffffff)
            with open(path, "wb") as f:
                f.write(data)
        h.check_eq(found, 3, "window values found in the checkpoint")
        d.start()
        d.wait_sample("prediction_window_samples", 57, model="m",
                      column="features.x")
        h.wait_for(lambda: detected(d) is not None, what="an evaluation")
        for test in ("ks", "psi"):
            v = d.sample("prediction_drift_score", model="m",
                         column="features.x", test=test)
            h.check(v is not None and v == v and abs(v) != float("inf"),
                    f"{test} score finite: {v}")
        d.stop()


def test_discovered_columns():
    with h.Daemon() as d:
        log = os.path.join(d.dir, "p.log")
        with open(log, "w") as f:
            for i in range(60):
                f.write(json.dumps({"prediction": "a", "features": {
                    "x": i, "age": 30 + i % 7, "city": "c%d" % (i % 3),
                    "nested": {"no": 1}, "flag": i % 2 == 0}}) + "\n")
        d.write_config(conf(log, features="discover = features\n"
                            "max_features = 4\nfeatures.x = numeric\n"))
        d.start()
        for col in ("features.age", "features.city", "features.flag"):
            d.wait_sample("prediction_window_samples", 60, model="m", column=col)
        s = h.parse_metrics(d.metrics())
        h.check(h.sample(s, "prediction_window_samples", model="m",
                         column="features.nested") is None,
                "objects are not columns")
        cols = {dict(k[1])["column"] for k in s
                if k[0] == "prediction_window_samples"}
        h.check_eq(sorted(c for c in cols if c.startswith("features.")),
                   ["features.age", "features.city", "features.flag",
                    "features.x"], "at most max_features feature columns")
        d.stop()


def test_discovery_past_max_features_is_logged_once():
    with h.Daemon() as d:
        log = os.path.join(d.dir, "p.log")
        with open(log, "w") as f:
            for i in range(20):
                f.write(json.dumps({"prediction": "a", "features": {
                    "a": i, "b": i, "c": i, "d": i}}) + "\n")
        d.write_config(conf(log, features="discover = features\n"
                            "max_features = 2\n"))
        d.start()
        d.wait_sample("prediction_records_total", 20, model="m")
        d.wait_log("max_features")
        h.check_eq(d.stderr().count("max_features (2) reached"), 1,
                   "warnings about max_features")
        d.stop()


def test_window_bounded_by_event_age():
    with h.Daemon() as d:
        log = os.path.join(d.dir, "p.log")
        # Event times as a live log has them: within a day of now.
        t0 = int(time.time()) - 3600
        write(log, range(100), extra=lambda x: {"ts": t0 + x})
        d.write_config(conf(log, model_extra="timestamp = ts\n").replace(
            "evaluate_every = 200ms\n", "evaluate_every = 200ms\nduration = 30s\n"))
        d.start()
        # Events 0..99 s: those older than 99 - 30 are gone.
        d.wait_sample("prediction_window_samples", 31, model="m",
                      column="features.x")
        d.stop()


def test_missing_reference_file_stops_startup():
    with h.Daemon() as d:
        log = os.path.join(d.dir, "p.log")
        d.write_config(conf(log, "[reference]\nfile = /nonexistent/ref.csv\n"))
        d.start(wait=False)
        d.proc.wait(timeout=10)
        # A configuration error: status 2, which the systemd unit does
        # not restart on, and --check-config finds it beforehand.
        err = d.stop(expect=2)
        h.check("/nonexistent/ref.csv" in err, err)
        r = h.run([h.DRIFTD, "--check-config", "-c", d.conf_path])
        h.check_eq(r.returncode, 2, "--check-config status")
        h.check(b"/nonexistent/ref.csv" in r.stderr, r.stderr)


def test_reload_keeps_serving_and_bad_reference_keeps_old():
    with h.Daemon() as d:
        log, ref = os.path.join(d.dir, "p.log"), os.path.join(d.dir, "ref.csv")
        write_ref(ref, normal(300, 0, 9))
        write(log, normal(200, 2, 10))
        d.write_config(conf(log, f"[reference]\nfile = {ref}\n"))
        d.start()
        h.wait_for(lambda: detected(d) == 1, what="drift")
        d.write_config(conf(log, "[reference]\nfile = /nonexistent.csv\n"))
        d.send_signal(__import__("signal").SIGHUP)
        d.wait_log("previous configuration stays in force")
        h.check_eq(d.sample("driftd_config_last_reload_successful"), 0.0,
                   "reload failed")
        h.check_eq(detected(d), 1.0, "old pipeline still evaluated")
        d.stop()



def test_reload_keeps_counters_and_drift_figures():
    """SIGHUP with the same model: counters go on, the drift figures stay
    in place (no gap, no new drift event), and series the new
    configuration has no use for (a removed feature) go."""
    with h.Daemon() as d:
        log, ref = os.path.join(d.dir, "p.log"), os.path.join(d.dir, "ref.csv")
        with open(ref, "w") as f:
            f.write("x,y,prediction\n")
            for i, x in enumerate(normal(300, 0, 9)):
                f.write(f"{x!r},{x!r},{'a' if i % 2 else 'b'}\n")
        with open(log, "w") as f:
            for x in normal(200, 2, 10):
                f.write(json.dumps({"prediction": "a",
                                    "features": {"x": x, "y": x}}) + "\n")
        two = "features.x = numeric\nfeatures.y = numeric\n"
        d.write_config(conf(log, f"[reference]\nfile = {ref}\n",
                            features=two))
        d.start()
        h.wait_for(lambda: detected(d) == 1 and detected(d, "features.y") == 1,
                   what="drift")
        before = h.parse_metrics(d.metrics())
        events = h.sample(before, "prediction_drift_events_total", model="m",
                          column="features.x")
        h.check_eq(events, 1, "drift events before the reload")
        # The same configuration but for feature y, and evaluations rare
        # enough to scrape before the first one after the reload.
        d.write_config(conf(log, f"[reference]\nfile = {ref}\n",
                            features="features.x = numeric\n")
                       .replace("evaluate_every = 200ms",
                                "evaluate_every = 2s"))
        d.send_signal(__import__("signal").SIGHUP)
        d.wait_log("configuration reloaded")
        after = h.parse_metrics(d.metrics())
        for name, labels in (
                ("prediction_records_total", {"model": "m"}),
                ("prediction_class_total", {"model": "m", "class": "a"}),
                ("prediction_drift_detected", {"model": "m",
                                               "column": "features.x"}),
                ("prediction_drift_events_total", {"model": "m",
                                                   "column": "features.x"})):
            h.check_eq(h.sample(after, name, **labels),
                       h.sample(before, name, **labels), name)
        # The first evaluation after the reload: x still drifts (no new
        # event), y's series are gone.
        h.wait_for(lambda: d.sample("prediction_drift_detected", model="m",
                                    column="features.y") is None,
                   what="the removed feature's series to go", timeout=15)
        h.check_eq(detected(d), 1.0, "x still drifting")
        h.check_eq(d.sample("prediction_drift_events_total", model="m",
                            column="features.x"), 1.0, "drift events")
        h.check_eq(d.sample("prediction_records_total", model="m"), 200.0,
                   "records")
        d.stop()


def test_reload_with_new_buckets_applies_them():
    with h.Daemon() as d:
        log = os.path.join(d.dir, "p.log")
        with open(log, "a") as f:
            f.write(json.dumps({"prediction": "a", "lat": 0.5,
                                "features": {"x": 1}}) + "\n")
        d.write_config(conf(log, model_extra="latency = lat\n"))
        d.start()
        d.wait_sample("prediction_records_total", 1, model="m")
        h.check('le="0.00075"' not in d.metrics(), "default buckets")
        d.write_config(conf(log, model_extra="latency = lat\n"
                            "latency_buckets = 0.00025,0.00075\n"))
        d.send_signal(__import__("signal").SIGHUP)
        d.wait_log("configuration reloaded")
        text = d.metrics()
        h.check('prediction_latency_seconds_bucket{model="m",le="0.00075"}'
                in text, text)
        d.stop()

def test_reload_to_another_model_and_reference_leaves_nothing_stale():
    """A reload that renames the model and swaps a captured reference for
    a file: every series of the old model, the old reference's info and
    the capture gauge go at once; the log counters go on."""
    with h.Daemon() as d:
        log, ref = os.path.join(d.dir, "p.log"), os.path.join(d.dir, "ref.csv")
        state = os.path.join(d.dir, "state")
        write_ref(ref, normal(300, 0, 9))
        write(log, normal(200, 0, 10))
        d.write_config(conf(log, "[reference]\ncapture = 100\n", state=state))
        d.start()
        h.wait_for(lambda: detected(d) is not None, what="an evaluation")
        h.check_eq(d.sample("driftd_reference_capture_saved"), 1.0, "saved")
        lines = d.sample("driftd_log_lines_total", input=log)
        d.write_config(conf(log, f"[reference]\nfile = {ref}\n", state=state)
                       .replace("name = m\n", "name = m2\n"))
        d.send_signal(__import__("signal").SIGHUP)
        d.wait_log("configuration reloaded")
        text = d.metrics()
        h.check('model="m"' not in text, text)
        h.check("driftd_reference_capture_saved" not in text, text)
        h.check('source="capture"' not in text, text)
        s = h.parse_metrics(text)
        h.check_eq(h.sample(s, "prediction_reference_info", model="m2",
                            source=ref, sha256=__import__("hashlib").sha256(
                                open(ref, "rb").read()).hexdigest()), 1.0,
                   "the new reference in force")
        h.check_eq(h.sample(s, "driftd_log_lines_total", input=log), lines,
                   "log counters go on")
        h.wait_for(lambda: d.sample("prediction_drift_detected", model="m2",
                                    column="features.x") is not None,
                   what="the renamed model evaluated")
        d.stop()


def test_reload_to_no_input_drops_the_inputs_series():
    """A reload that removes every [input] path: the log series of the
    input no longer followed go, lag included."""
    with h.Daemon() as d:
        log = os.path.join(d.dir, "p.log")
        write(log, normal(10, 0, 1))
        d.write_config(conf(log))
        d.start()
        d.wait_sample("driftd_log_lines_total", 10, input=log)
        d.write_config(conf(log).replace(f"path = {log}\n", ""))
        d.send_signal(__import__("signal").SIGHUP)
        d.wait_log("configuration reloaded")
        text = d.metrics()
        h.check("driftd_log_" not in text, text)
        h.check_eq(d.sample("prediction_records_total", model="m"), 10.0,
                   "records go on")
        d.stop()


h.main(globals())
