"""What operators install next to driftd: the systemd units, the Prometheus
alert rules and their unit tests, and the Grafana dashboard (kube.py checks
the Kubernetes manifests and the Dockerfile).

None of these is compiled, so a typo in any of them would only show in
production.  Here the units go through systemd-analyze, the rules through
promtool, and the dashboard's queries and the rules are evaluated by a
real Prometheus scraping a real driftd, after a check that they name only
metrics and labels driftd exposes.
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import tempfile
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
import promql  # noqa: E402

try:
    import yaml
except ImportError:             # Debian: python3-yaml
    yaml = None

SRC = h.SRCDIR
EXAMPLES = os.path.join(SRC, "examples")
RULES = os.path.join(EXAMPLES, "prometheus", "driftd-rules.yml")
RULES_TEST = os.path.join(EXAMPLES, "prometheus", "driftd-rules.test.yml")
FLEET_RULES = os.path.join(EXAMPLES, "prometheus", "driftd-fleet-rules.yml")
FLEET_TEST = os.path.join(EXAMPLES, "prometheus",
                          "driftd-fleet-rules.test.yml")
PROM_CONFIG = os.path.join(EXAMPLES, "prometheus", "prometheus.yml")
DASHBOARD = os.path.join(EXAMPLES, "grafana", "driftd-dashboard.json")
UNITS = {"driftd.service": ("driftd", "driftd.conf"),
         "driftd@.service": ("driftd/%i", "%i.conf")}

# The metrics driftd promises (SPEC section 4 and driftd(8)), as the sample
# names PromQL sees: histograms as _bucket, _sum and _count.  Of the
# figures over labels (SPEC section 13), those of a classifier: the
# regression ones (prediction_mae, prediction_rmse, prediction_error_mean)
# need a model without a class, which the fixture is not.
COUNTERS_GAUGES = """
    prediction_records_total prediction_class_total
    prediction_feature_missing_total prediction_window_samples
    prediction_window_mean prediction_window_stddev
    prediction_window_missing_ratio prediction_reference_samples
    prediction_drift_score prediction_drift_pvalue prediction_drift_threshold
    prediction_drift_detected prediction_drift_events_total
    prediction_dataset_drift_detected prediction_drifted_columns
    prediction_drifted_columns_ratio
    prediction_drift_evaluation_timestamp_seconds prediction_reference_info
    prediction_change_statistic prediction_change_events_total
    prediction_change_last_timestamp_seconds
    prediction_labelled_total prediction_label_unmatched_total
    prediction_label_pending prediction_accuracy prediction_class_precision
    prediction_class_recall prediction_class_f1 prediction_calibration_error
    prediction_expected_accuracy
    driftd_build_info driftd_log_lines_total driftd_log_bytes_total
    driftd_log_errors_total driftd_log_rotations_total driftd_log_lag_bytes
    driftd_config_last_reload_successful driftd_checkpoints_total
    driftd_checkpoint_errors_total
    driftd_checkpoint_last_success_timestamp_seconds
    process_cpu_seconds_total process_resident_memory_bytes
    process_virtual_memory_bytes process_open_fds process_max_fds
    process_start_time_seconds
""".split()
HISTOGRAMS = """prediction_confidence prediction_value
    prediction_latency_seconds driftd_evaluation_duration_seconds""".split()
PROMISED = set(COUNTERS_GAUGES) | {h_ + s for h_ in HISTOGRAMS
                                   for s in ("_bucket", "_sum", "_count")}
# Made by Prometheus, not driftd: the up series, and what the fleet rules
# record.
SYNTHETIC = {"up"} | {
    m.group(1) for m in re.finditer(
        r"^\s*- record: (\S+)", open(os.path.join(
            EXAMPLES, "prometheus", "driftd-fleet-rules.yml")).read(), re.M)}
# Labels Prometheus or its service discovery put on every target.
TARGET_LABELS = {"job", "instance", "namespace", "pod", "service",
                 "container", "endpoint", "__name__"}
# What the dashboard must show (the list of panels).
DASHBOARD_NEEDS = {"prediction_drift_score", "prediction_drift_threshold",
                   "prediction_drift_detected",
                   "prediction_dataset_drift_detected",
                   "prediction_drifted_columns_ratio",
                   "prediction_confidence_bucket", "prediction_class_total",
                   "driftd_log_lag_bytes", "driftd_log_errors_total",
                   "prediction_records_total", "prediction_accuracy",
                   "prediction_expected_accuracy", "prediction_class_f1",
                   "prediction_calibration_error",
                   "prediction_labelled_total",
                   "prediction_label_unmatched_total",
                   "prediction_label_pending"}
ALERTS = {"DriftdColumnDrifted", "DriftdDatasetDrift", "DriftdLowConfidence",
          "DriftdChangeDetected", "DriftdAccuracyLow",
          "DriftdCalibrationPoor",
          "DriftdDown", "DriftdLogStalled", "DriftdNoPredictions",
          "DriftdLabelsMissing", "DriftdReloadFailed",
          "DriftdCheckpointFailing"}


def need_yaml():
    h.check(yaml is not None,
            "PyYAML not found; install Debian's python3-yaml")


def need_promtool():
    h.check(h.PROMTOOL, "promtool not found; install Debian's prometheus")


def read(path):
    with open(path) as f:
        return f.read()


# ---------------------------------------------------------------- systemd

def systemd_analyze():
    tool = shutil.which("systemd-analyze")
    if not tool:
        raise h.Skip("systemd-analyze not installed (Debian: systemd; "
                   "tools/install-deps --test installs it)")
    return tool


def built_units(tmp):
    """The units as `make` substitutes them, with @sbindir@ pointing at the
    driftd under test (systemd-analyze checks that ExecStart= exists)."""
    sbindir = os.path.dirname(os.path.abspath(h.DRIFTD))
    paths = {}
    for name in UNITS:
        text = read(os.path.join(SRC, "systemd", name + ".in"))
        text = text.replace("@sbindir@", sbindir).replace("@sysconfdir@",
                                                          "/etc")
        h.check(not re.search(r"@\w+@", text),
                f"{name}.in: unsubstituted @...@ left")
        paths[name] = os.path.join(tmp, name)
        with open(paths[name], "w") as f:
            f.write(text)
    return paths


def man_env(tmp):
    """An environment in which `man driftd(8)` finds this tree's pages, so
    that systemd-analyze verify checks the units' Documentation= too."""
    env = dict(os.environ)
    if not shutil.which("man"):
        return env, ["--man=no"]
    for page, sec in (("driftd.8", "8"), ("driftd.conf.5", "5")):
        d = os.path.join(tmp, "man", "man" + sec)
        os.makedirs(d, exist_ok=True)
        shutil.copy(os.path.join(SRC, "man", page), d)
    env["MANPATH"] = os.path.join(tmp, "man")
    return env, []


def parse_unit(path):
    """{(section, key): [values]}; an empty assignment is kept as ''."""
    out, section = {}, None
    for line in read(path).splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        m = re.fullmatch(r"\[(\w+)\]", line)
        if m:
            section = m.group(1)
            continue
        key, _, value = line.partition("=")
        out.setdefault((section, key.strip()), []).append(value.strip())
    return out


def test_units_pass_systemd_analyze_verify():
    tool = systemd_analyze()
    with tempfile.TemporaryDirectory(prefix="driftd-ops-") as tmp:
        paths = built_units(tmp)
        # An instance of the template, so that %i is expanded too.
        inst = os.path.join(tmp, "driftd@iris.service")
        shutil.copy(paths["driftd@.service"], inst)
        env, extra = man_env(tmp)
        for unit in list(paths.values()) + [inst]:
            p = subprocess.run([tool, "verify"] + extra + [unit], cwd=tmp,
                               env=env, capture_output=True, timeout=60)
            out = (p.stdout + p.stderr).decode()
            h.check(p.returncode == 0 and out.strip() == "",
                    f"systemd-analyze verify {os.path.basename(unit)} "
                    f"({p.returncode}):\n{out}")


def test_units_are_hardened():
    """`systemd-analyze security` rates both units OK (exposure <= 2.0 of
    10); the score is printed as a TAP comment."""
    tool = systemd_analyze()
    with tempfile.TemporaryDirectory(prefix="driftd-ops-") as tmp:
        for name, path in built_units(tmp).items():
            if name == "driftd@.service":
                shutil.copy(path, os.path.join(tmp, "driftd@iris.service"))
                path = os.path.join(tmp, "driftd@iris.service")
            p = subprocess.run([tool, "security", "--offline=yes",
                                "--threshold=20", "--no-pager", path],
                               cwd=tmp, capture_output=True, timeout=60)
            out = (p.stdout + p.stderr).decode()
            m = re.search(r"Overall exposure level for \S+: ([0-9.]+) (\w+)",
                          out)
            h.check(m is not None, f"no exposure level in:\n{out}")
            print(f"# {name}: exposure {m.group(1)} {m.group(2)}")
            h.check(p.returncode == 0,
                    f"{name}: exposure {m.group(1)} is above 2.0:\n{out}")


def test_units_keep_the_contract():
    """The settings driftd and its users rely on, the same hardening in
    both units, and --state-dir pointing at the unit's StateDirectory."""
    with tempfile.TemporaryDirectory(prefix="driftd-ops-") as tmp:
        units = {n: parse_unit(p) for n, p in built_units(tmp).items()}
    for name, (state, conf) in UNITS.items():
        u = units[name]

        def one(key, section="Service"):
            v = u.get((section, key))
            h.check(v is not None and len(v) == 1, f"{name}: {key}= {v}")
            return v[0]
        h.check_eq(one("Type"), "notify", f"{name} Type")
        h.check_eq(one("NotifyAccess"), "main", f"{name} NotifyAccess")
        h.check_eq(one("WatchdogSec"), "30s", f"{name} WatchdogSec")
        h.check(re.fullmatch(r"(/usr)?/bin/kill -HUP \$MAINPID",
                             one("ExecReload")), f"{name} ExecReload")
        h.check_eq(one("Restart"), "on-failure", f"{name} Restart")
        h.check_eq(one("DynamicUser"), "yes", f"{name} DynamicUser")
        h.check_eq(one("StateDirectory"), state, f"{name} StateDirectory")
        start = one("ExecStart").split()
        h.check_eq(os.path.basename(start[0]), "driftd", f"{name} ExecStart")
        h.check_eq(start[start.index("-c") + 1], "/etc/driftd/" + conf,
                   f"{name} configuration file")
        h.check_eq(start[start.index("--state-dir") + 1], "%S/" + state,
                   f"{name} --state-dir")
        for key, want in (("ProtectSystem", "strict"),
                          ("ProtectHome", "read-only"),
                          ("NoNewPrivileges", "yes"), ("PrivateTmp", "yes"),
                          ("PrivateDevices", "yes"),
                          ("ProtectKernelTunables", "yes"),
                          ("ProtectKernelModules", "yes"),
                          ("ProtectKernelLogs", "yes"),
                          ("ProtectControlGroups", "yes"),
                          ("ProtectClock", "yes"), ("ProtectHostname", "yes"),
                          ("RestrictNamespaces", "yes"),
                          ("RestrictRealtime", "yes"),
                          ("RestrictSUIDSGID", "yes"),
                          ("LockPersonality", "yes"),
                          ("MemoryDenyWriteExecute", "yes"),
                          ("SystemCallArchitectures", "native"),
                          ("CapabilityBoundingSet", ""), ("UMask", "0077")):
            h.check_eq(one(key), want, f"{name} {key}")
        h.check_eq(sorted(one("RestrictAddressFamilies").split()),
                   ["AF_INET", "AF_INET6", "AF_UNIX"],
                   f"{name} RestrictAddressFamilies")
        h.check_eq(u.get(("Service", "SystemCallFilter")),
                   ["@system-service", "~@privileged @resources"],
                   f"{name} SystemCallFilter")
        h.check_eq(u.get(("Install", "WantedBy")), ["multi-user.target"],
                   f"{name} WantedBy")
    # Apart from what names the instance, the two units are the same.
    differ = {"Description", "ExecStart", "StateDirectory"}
    a, b = units["driftd.service"], units["driftd@.service"]
    h.check_eq({k: v for k, v in a.items() if k[1] not in differ},
               {k: v for k, v in b.items() if k[1] not in differ},
               "driftd.service and driftd@.service settings")


# ---------------------------------------------------------------- Prometheus

def load_rules():
    need_yaml()
    with open(RULES) as f:
        doc = yaml.safe_load(f)
    return [r for g in doc["groups"] for r in g["rules"]]


def test_rules_pass_promtool_check():
    need_promtool()
    for args in (["check", "rules", RULES], ["check", "config", PROM_CONFIG]):
        p = subprocess.run([h.PROMTOOL] + args, capture_output=True,
                           timeout=60)
        out = (p.stdout + p.stderr).decode()
        h.check(p.returncode == 0, f"promtool {' '.join(args)}:\n{out}")
    h.check("1 rule files found" in out,
            f"prometheus.yml does not load driftd-rules.yml:\n{out}")


def test_rules_unit_tests_pass_and_cover_every_alert():
    need_promtool()
    need_yaml()
    # rule_files are found relative to the test file, from any directory.
    with tempfile.TemporaryDirectory(prefix="driftd-ops-") as tmp:
        p = subprocess.run([h.PROMTOOL, "test", "rules", RULES_TEST],
                           cwd=tmp, capture_output=True, timeout=120)
    out = (p.stdout + p.stderr).decode()
    h.check(p.returncode == 0 and "SUCCESS" in out,
            f"promtool test rules ({p.returncode}):\n{out}")
    names = {r["alert"] for r in load_rules() if "alert" in r}
    h.check_eq(names, ALERTS, "alerts in driftd-rules.yml")
    with open(RULES_TEST) as f:
        tests = yaml.safe_load(f)["tests"]
    fires, quiet = set(), set()
    for t in tests:
        for case in t.get("alert_rule_test", []):
            (fires if case.get("exp_alerts") else quiet).add(case["alertname"])
    h.check_eq(sorted(names - fires), [], "alerts never tested firing")
    h.check_eq(sorted(names - quiet), [], "alerts never tested quiet")


def test_fleet_rules_pass_promtool_and_their_unit_tests():
    """The fleet rules' unit tests: pooled PSI and JS equal SPEC's
    formulas on hand-computed pooled counts, to 1e-9, and both alerts
    fire and stay quiet."""
    need_promtool()
    need_yaml()
    p = subprocess.run([h.PROMTOOL, "check", "rules", FLEET_RULES],
                       capture_output=True, timeout=60)
    h.check(p.returncode == 0, (p.stdout + p.stderr).decode())
    with tempfile.TemporaryDirectory(prefix="driftd-ops-") as tmp:
        p = subprocess.run([h.PROMTOOL, "test", "rules", FLEET_TEST],
                           cwd=tmp, capture_output=True, timeout=120)
    out = (p.stdout + p.stderr).decode()
    h.check(p.returncode == 0 and "SUCCESS" in out,
            f"promtool test rules ({p.returncode}):\n{out}")
    with open(FLEET_RULES) as f:
        rules = [r for g in yaml.safe_load(f)["groups"] for r in g["rules"]]
    with open(FLEET_TEST) as f:
        tests = yaml.safe_load(f)["tests"]
    names = {r["alert"] for r in rules if "alert" in r}
    fires, quiet = set(), set()
    for t in tests:
        for case in t.get("alert_rule_test", []):
            (fires if case.get("exp_alerts") else quiet).add(case["alertname"])
    h.check_eq(sorted(names - fires), [], "fleet alerts never tested firing")
    h.check_eq(sorted(names - quiet), [], "fleet alerts never tested quiet")


def dashboard():
    with open(DASHBOARD) as f:
        return json.load(f)


def panels(dash):
    for p in dash["panels"]:
        yield p
        for q in p.get("panels", []):       # collapsed rows
            yield q


def dashboard_exprs(dash):
    """(panel title, expression) of every query in the dashboard."""
    return [(p.get("title", "?"), t["expr"]) for p in panels(dash)
            for t in p.get("targets", []) if t.get("expr")]


def template_queries(dash):
    out = []
    for v in dash["templating"]["list"]:
        if v.get("type") == "query":
            q = v.get("query")
            out.append((v["name"], q.get("query") if isinstance(q, dict)
                        else q))
    return out


def label_values_query(q):
    """label_values(SELECTOR, LABEL) -> (SELECTOR or None, LABEL)."""
    m = re.fullmatch(r"\s*label_values\((?:(.*),\s*)?(\w+)\)\s*", q)
    h.check(m is not None, f"unsupported variable query {q!r}")
    return m.group(1), m.group(2)


def all_exprs():
    """Every PromQL expression the examples carry, Grafana variables
    replaced, as (where, expression)."""
    out = [(f"rule {r.get('alert') or r.get('record')}", r["expr"])
           for r in load_rules()]
    dash = dashboard()
    out += [(f"panel {t!r}", promql.grafana_to_promql(e))
            for t, e in dashboard_exprs(dash)]
    for name, q in template_queries(dash):
        sel, _ = label_values_query(q)
        if sel:
            out.append((f"variable {name}", promql.grafana_to_promql(sel)))
    return out


def test_dashboard_structure():
    dash = dashboard()
    h.check(dash.get("schemaVersion", 0) >= 36,
            f"schemaVersion {dash.get('schemaVersion')}")
    variables = {v["name"]: v for v in dash["templating"]["list"]}
    ds = [v for v in variables.values() if v["type"] == "datasource"]
    h.check(len(ds) == 1 and ds[0]["query"] == "prometheus",
            "one Prometheus data source variable")
    ds_ref = {"${%s}" % ds[0]["name"], "$" + ds[0]["name"]}
    sel, label = label_values_query(template_queries(dash)[0][1])
    h.check_eq((template_queries(dash)[0][0], sel, label),
               ("model", "prediction_records_total", "model"),
               "the first variable")
    ids, boxes = set(), []
    for p in panels(dash):
        h.check(p["id"] not in ids, f"panel id {p['id']} used twice")
        ids.add(p["id"])
        g = p["gridPos"]
        h.check(g["x"] >= 0 and g["w"] > 0 and g["x"] + g["w"] <= 24 and
                g["h"] > 0, f"panel {p['title']!r}: gridPos {g}")
        for (x, y, w, hh, t) in boxes:
            overlap = (g["x"] < x + w and x < g["x"] + g["w"] and
                       g["y"] < y + hh and y < g["y"] + g["h"])
            h.check(not overlap, f"panels {t!r} and {p['title']!r} overlap")
        boxes.append((g["x"], g["y"], g["w"], g["h"], p["title"]))
        if p["type"] == "row":
            continue
        h.check(p.get("datasource", {}).get("uid") in ds_ref,
                f"panel {p['title']!r}: data source {p.get('datasource')}")
        refs = [t["refId"] for t in p["targets"]]
        h.check(refs and len(set(refs)) == len(refs),
                f"panel {p['title']!r}: refIds {refs}")
        for t in p["targets"]:
            h.check(t.get("datasource", p["datasource"])["uid"] in ds_ref,
                    f"panel {p['title']!r}: target data source")
            h.check('model="$model"' in t["expr"] or
                    'model=~"$model"' in t["expr"],
                    f"panel {p['title']!r} ignores $model: {t['expr']}")
    used = {s for _, e in all_exprs() for s, _ in promql.scan(e)[0]}
    h.check_eq(sorted(DASHBOARD_NEEDS - used), [],
               "metrics the dashboard does not show")
    # Scores are drawn with the threshold they are compared against.
    for p in panels(dash):
        text = " ".join(t["expr"] for t in p.get("targets", []))
        if "prediction_drift_score" in text or \
                "prediction_drift_pvalue" in text:
            h.check("prediction_drift_threshold" in text,
                    f"panel {p['title']!r} shows scores without thresholds")


def test_every_query_is_valid_promql():
    """promtool parses every rule and dashboard query (as recording rules)."""
    need_promtool()
    need_yaml()
    with tempfile.TemporaryDirectory(prefix="driftd-ops-") as tmp:
        path = os.path.join(tmp, "queries.yml")
        rules = [{"record": f"check:query_{i}", "expr": e}
                 for i, (_, e) in enumerate(all_exprs())]
        with open(path, "w") as f:
            yaml.safe_dump({"groups": [{"name": "q", "rules": rules}]}, f)
        p = subprocess.run([h.PROMTOOL, "check", "rules", path],
                           capture_output=True, timeout=60)
        out = (p.stdout + p.stderr).decode()
        h.check(p.returncode == 0, f"promtool check rules:\n{out}")


def fixture_daemon(d):
    """Configure and start driftd so that every metric family exists:
    drift tests evaluated, a regression value, a bad line, a missing
    value, checkpoints, labels joined (per segment) and not."""
    ref, log = os.path.join(d.dir, "ref.csv"), os.path.join(d.dir, "p.jsonl")
    labels = os.path.join(d.dir, "labels.jsonl")
    with open(ref, "w") as f:
        f.write("x,country,prediction,confidence\n")
        for i in range(200):
            f.write(f"{i % 17 * 0.5},{'DE' if i % 3 else 'FR'},"
                    f"{'a' if i % 2 else 'b'},{0.5 + i % 5 * 0.1}\n")
    now = int(time.time())      # event times within a day of now
    with open(log, "w") as f:
        for i in range(150):
            rec = {"ts": now - 3600 + i, "id": f"r{i}",
                   "prediction": "ab"[i % 2],
                   "score": i * 0.01, "confidence": 0.55 + i % 4 * 0.1,
                   "latency_ms": 2 + i % 7,
                   "features": {"x": (i % 13) * 0.7 + 2,
                                "country": "DE" if i % 4 else "US"}}
            if i == 7:
                del rec["features"]["x"]
            f.write(json.dumps(rec) + "\n")
        f.write("not json\n")
    # Two predictions in three get a label five seconds later (right one
    # time in two or so); then a label for no prediction, a second label
    # and a line without one.
    joined = [i for i in range(150) if i % 3]
    with open(labels, "w") as f:
        for i in joined:
            f.write(json.dumps({"ts": now - 3600 + i + 5, "id": f"r{i}",
                                "label": "ab"[i // 2 % 2]}) + "\n")
        for rec in ({"id": "nobody", "label": "a"}, {"id": "r1",
                                                     "label": "b"},
                    {"id": "r2"}):
            f.write(json.dumps(dict(rec, ts=now - 3600 + 160)) + "\n")
    d.write_config(
        f"[global]\nstate_dir = {os.path.join(d.dir, 'state')}\n"
        "checkpoint_interval = 200ms\n"
        f"[input]\npath = {log}\nstart_at = beginning\n"
        "[model]\nname = m\nclass = prediction\nvalue = score\n"
        "confidence = confidence\nlatency = latency_ms\ntimestamp = ts\n"
        "id = id\n"
        "[features]\nfeatures.x = numeric\nfeatures.country = categorical\n"
        f"[reference]\nfile = {ref}\n"
        "[window]\nsize = 200\nmin_samples = 50\nevaluate_every = 200ms\n"
        "[drift]\nexport_bins = yes\n"
        "[change]\ncolumns = features.x, confidence\nthreshold = 0.5\n"
        "min_instances = 5\n"
        f"[labels]\npath = {labels}\nid = id\nlabel = label\n"
        "timestamp = ts\nsegment = features.country\n")
    os.makedirs(os.path.join(d.dir, "state"))
    d.start()

    def complete():
        s = h.parse_metrics(d.metrics())
        names = {k[0] for k in s}
        return ("prediction_drift_detected" in names and
                h.sample(s, "driftd_checkpoints_total") and
                h.sample(s, "prediction_labelled_total", model="m") ==
                len(joined) and s)
    return h.wait_for(complete, timeout=20, what="drift results, a "
                      "checkpoint and the labels joined", interval=0.05)


def test_queries_use_only_metrics_and_labels_driftd_exposes():
    with h.Daemon() as d:
        fixture_daemon(d)
        text = d.metrics()
        d.stop()
    exposed = {}
    for (name, labels) in h.parse_metrics(text):
        exposed.setdefault(name, set()).update(k for k, _ in labels)
    h.check_eq(sorted(PROMISED - set(exposed)), [],
               "promised metrics that driftd does not expose")
    for where, expr in all_exprs():
        selectors, grouping = promql.scan(expr)
        h.check(selectors, f"{where}: no metric in {expr!r}")
        known_labels = set(TARGET_LABELS)
        for name, labels in selectors:
            h.check(name in PROMISED | SYNTHETIC,
                    f"{where}: {name} is not a driftd metric")
            if name in SYNTHETIC:
                # A recorded series keeps the labels its level names
                # (model_column_bin:... has model, column and bin).
                if ":" in name:
                    known_labels |= set(name.split(":")[0].split("_"))
                continue
            h.check(name in exposed, f"{where}: driftd does not expose {name}")
            for label in labels:
                h.check(label in exposed[name] | TARGET_LABELS,
                        f"{where}: {name} has no label {label!r}")
            known_labels |= exposed[name]
        h.check_eq(sorted(grouping - known_labels), [],
                   f"{where}: grouping by labels no selected metric has")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prometheus_binary():
    for cand in (os.path.join(os.path.dirname(h.PROMTOOL or "/"),
                              "prometheus"), shutil.which("prometheus")):
        if cand and os.access(cand, os.X_OK):
            return cand
    raise h.TestFailure("prometheus not found; install Debian's prometheus")


def prom_api(port, path, **params):
    url = f"http://127.0.0.1:{port}/api/v1/{path}"
    if params:
        url += "?" + urllib.parse.urlencode(params, doseq=True)
    with urllib.request.urlopen(url, timeout=10) as resp:
        body = json.load(resp)
    h.check_eq(body.get("status"), "success", f"{url}: {body}")
    return body["data"]


def test_queries_return_data_from_a_real_prometheus():
    """A Prometheus scrapes a driftd with every kind of data and loads the
    rules: every dashboard query and variable returns series, every rule
    evaluates without error, and every selector in the rules matches."""
    prom = prometheus_binary()
    with h.Daemon() as d, tempfile.TemporaryDirectory(
            prefix="driftd-prom-") as tmp:
        fixture_daemon(d)
        port = free_port()
        conf = os.path.join(tmp, "prometheus.yml")
        with open(conf, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n"
                    "  evaluation_interval: 1s\n"
                    f"rule_files:\n  - {RULES}\n  - {FLEET_RULES}\n"
                    "scrape_configs:\n  - job_name: driftd\n"
                    "    static_configs:\n"
                    f"      - targets: ['127.0.0.1:{d.port}']\n")
        log = open(os.path.join(tmp, "prometheus.log"), "wb")
        proc = subprocess.Popen(
            [prom, f"--config.file={conf}",
             f"--storage.tsdb.path={os.path.join(tmp, 'data')}",
             f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        try:
            def scraped():
                try:
                    r = prom_api(port, "query",
                                 query='count_over_time(up{job="driftd"}[1m])')
                except OSError:
                    return False
                return r["result"] and float(r["result"][0]["value"][1]) >= 5
            h.wait_for(scraped, timeout=60, what="5 scrapes of driftd",
                       interval=0.2)

            def rules_ok():
                groups = prom_api(port, "rules")["groups"]
                rules = [r for g in groups for r in g["rules"]]
                with open(FLEET_RULES) as f:
                    fleet = sum(len(g["rules"]) for g in
                                yaml.safe_load(f)["groups"])
                return len(rules) == len(ALERTS) + fleet and \
                    all(r["health"] == "ok" for r in rules) and rules
            try:
                h.wait_for(rules_ok, timeout=20, what="rules evaluated")
            except h.TestFailure:
                raise h.TestFailure(json.dumps(prom_api(port, "rules"),
                                               indent=1)) from None

            dash = dashboard()
            for title, expr in dashboard_exprs(dash):
                q = promql.grafana_to_promql(expr, interval="10s")
                q = q.replace('model=".*"', 'model="m"')
                r = prom_api(port, "query", query=q)
                h.check(r["result"], f"panel {title!r} shows no data: {q}")
            for name, q in template_queries(dash):
                sel, label = label_values_query(q)
                params = {"match[]": [promql.grafana_to_promql(sel).replace(
                    'model=".*"', 'model="m"')]} if sel else {}
                vals = prom_api(port, f"label/{label}/values", **params)
                h.check(vals, f"variable {name}: no values for {q}")
            for r in load_rules():
                for name, labels in promql.scan(r["expr"])[0]:
                    sel = name + "{" + ",".join(
                        f"{k}{op}{v}" for k, (op, v) in labels.items()) + "}"
                    got = prom_api(port, "query", query=f"count({sel})")
                    h.check(got["result"],
                            f"{r['alert']}: {sel} matches no series")
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.close()
        d.stop()


h.main(globals())
