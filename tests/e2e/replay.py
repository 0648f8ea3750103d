"""History: `driftd --once --step` replays three days of a log that drifts
on the third, with hourly and daily steps.  Every step's figures are what
SciPy computes on that step's records; the OpenMetrics output goes into a
real TSDB with promtool and a real Prometheus answers with the same
figures at each step's time; the CSV loads into a real PostgreSQL (a
private cluster on a Unix socket) and gives the daily verdicts.  Late
records, empty steps, steps below min_samples, and the errors (no
timestamp, a bad --step, a bad --format)."""

import csv
import io
import json
import math
import os
import pwd
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

from oracle import oracle_categorical, oracle_numeric  # noqa: E402

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
HOUR = 3600
DAY = 86400
# Three days ending well before now (event times beyond a day ahead of
# now are refused as implausible).
START = (int(time.time()) // DAY - 5) * DAY
SKIPPED_HOUR = 10        # no record at all: no step
THIN_HOUR = 20           # below min_samples: window figures only
MIN_SAMPLES = 30


def rfc3339(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + \
        f".{int(round((t % 1) * 1000)):03d}Z"


def make_case(d):
    """The reference, the log and the records by step; returns (conf,
    records) where records are (t, x, country) as the log has them (the
    late one excluded)."""
    r = random.Random(7)
    ref = os.path.join(d, "ref.csv")
    ref_x = [r.gauss(0, 1) for _ in range(1000)]
    ref_c = r.choices("ABC", [5, 3, 2], k=1000)
    with open(ref, "w") as f:
        f.write("x,country\n" + "".join(f"{x!r},{c}\n"
                                        for x, c in zip(ref_x, ref_c)))
    log = os.path.join(d, "p.log")
    records = []
    with open(log, "w") as f:
        for hour in range(72):
            if hour == SKIPPED_HOUR:
                continue
            n = 10 if hour == THIN_HOUR else 50
            drift = hour >= 48
            ts = [START + hour * HOUR + k * (HOUR / n) + 0.25
                  for k in range(n)]
            # Some records of an hour come out of order, within it.
            ts[3], ts[7] = ts[7], ts[3]
            for t in ts:
                x = r.gauss(0.9 if drift else 0, 1)
                c = r.choices("ABC", [2, 3, 5] if drift else [5, 3, 2])[0]
                records.append((t, x, c))
                # Epoch seconds for the first half, RFC 3339 after.
                stamp = t if hour < 36 else rfc3339(t)
                f.write(json.dumps({"ts": stamp, "prediction": "a",
                                    "features": {"x": x, "country": c}})
                        + "\n")
            if hour == 30:
                # A record of hour 29, which has closed: late.
                f.write(json.dumps({"ts": START + 29 * HOUR + 5,
                                    "prediction": "a",
                                    "features": {"x": 9, "country": "A"}})
                        + "\n")
    conf = os.path.join(d, "d.conf")
    with open(conf, "w") as f:
        f.write("[model]\nname = m\nconfidence =\ntimestamp = ts\n"
                "[features]\nfeatures.x = numeric\n"
                "features.country = categorical\n"
                f"[reference]\nfile = {ref}\n"
                f"[window]\nsize = 1000\nmin_samples = {MIN_SAMPLES}\n")
    return conf, log, ref_x, ref_c, records


def replay(conf, log, step, fmt):
    p = subprocess.run([h.DRIFTD, "--once", "--step", step, "--format", fmt,
                        "-c", conf, log], capture_output=True, timeout=120)
    err = p.stderr.decode("utf-8", "replace")
    h.sanitizer_clean(err)
    h.check_eq(p.returncode, 0, err)
    return p.stdout.decode(), err


def num(s):
    return float(s) if s != "" else None


def close(got, want, what, p=False):
    if want is None or (isinstance(want, float) and math.isnan(want)):
        h.check(got is None, f"{what}: got {got}, want none")
        return
    h.check(got is not None, f"{what}: missing, want {want}")
    tol = 1e-6 if p else 1e-9 * abs(want)
    h.check(abs(got - want) <= max(tol, 1e-300),
            f"{what}: got {got!r}, want {want!r}")


def expected_steps(records, ref_x, ref_c, step):
    """step end -> {column: oracle figures or None}, dataset verdict."""
    by = {}
    for t, x, c in records:
        by.setdefault(int(t // step), []).append((x, c))
    out = {}
    for k, recs in sorted(by.items()):
        xs = [x for x, _ in recs]
        cs = [c for _, c in recs]
        cols = {}
        if len(recs) >= MIN_SAMPLES:
            cols["features.x"] = oracle_numeric(ref_x, xs)
            cols["features.country"] = oracle_categorical(ref_c, cs)
        drifted = sum(1 for name, t in (("features.x", "ks"),
                                        ("features.country", "chi2"))
                      if name in cols and cols[name][(t, "pvalue")] < 0.05)
        tested = len(cols)
        out[(k + 1) * step] = (cols, len(recs),
                               int(tested > 0 and drifted / tested >= 0.5))
    return out


def rows_by_step(text):
    rows = list(csv.DictReader(io.StringIO(text)))
    h.check(text.startswith("time,model,column,test,window_samples,"
                            "reference_samples,missing_ratio,mean,stddev,"
                            "score,pvalue,threshold,drift_detected\n"),
            "the header")
    out = {}
    for r in rows:
        t = r["time"]
        h.check(t.endswith("Z"), t)
        end = time.mktime(time.strptime(t[:19], "%Y-%m-%dT%H:%M:%S")) - \
            time.timezone
        out.setdefault(end, []).append(r)
    return out


def test_hourly_steps_match_the_oracle():
    with tempfile.TemporaryDirectory(prefix="driftd-replay-") as d:
        conf, log, ref_x, ref_c, records = make_case(d)
        text, err = replay(conf, log, "1h", "csv")
        h.check("1 record(s) came after their step had closed" in err, err)
        got = rows_by_step(text)
        want = expected_steps(records, ref_x, ref_c, HOUR)
        h.check_eq(sorted(got), sorted(want), "one step per hour with "
                   "records (none for the empty hour)")
        h.check_eq(len(got), 71, "steps")
        for end, (cols, n, verdict) in want.items():
            rows = got[end]
            ds = [r for r in rows if r["column"] == "__dataset__"]
            h.check_eq(len(ds), 1, "one dataset row")
            h.check_eq(ds[0]["drift_detected"], str(verdict),
                       f"{rfc3339(end)}: dataset verdict")
            for name in ("features.x", "features.country"):
                mine = [r for r in rows if r["column"] == name]
                h.check(all(num(r["window_samples"]) == n for r in mine),
                        f"{name}: window of {n}")
                if name not in cols:
                    h.check_eq([r["test"] for r in mine], [""],
                               f"{rfc3339(end)} {name}: not tested")
                    continue
                tests = {r["test"]: r for r in mine}
                want_tests = ("ks", "psi") if name == "features.x" else \
                    ("psi", "chi2")
                h.check_eq(sorted(tests), sorted(want_tests), "tests run")
                for t in want_tests:
                    what = f"{rfc3339(end)} {name} {t}"
                    close(num(tests[t]["score"]), cols[name][(t, "score")],
                          what)
                    if t in ("ks", "chi2"):
                        close(num(tests[t]["pvalue"]),
                              cols[name][(t, "pvalue")], what, p=True)
                        h.check_eq(tests[t]["drift_detected"], str(int(
                            cols[name][(t, "pvalue")] < 0.05)), what)
                    else:
                        h.check_eq(tests[t]["drift_detected"], "", what)
                if name == "features.x":
                    close(num(tests["ks"]["mean"]),
                          cols[name][("mean", None)], "mean")
        # The third day drifts, hour after hour.
        third = [v for e, (_, _, v) in want.items() if e > START + 49 * HOUR]
        h.check(sum(third) >= 20, f"drift on the third day: {third}")


def test_rotated_files_in_any_order_and_a_record_without_time():
    """Files named newest first (app.log app.log.1, as a shell glob gives
    them) are read oldest first, by when they were written; a leading
    record without a timestamp takes no step."""
    with tempfile.TemporaryDirectory(prefix="driftd-replay-") as d:
        conf, log, *_ = make_case(d)
        whole, _ = replay(conf, log, "1h", "csv")
        with open(log) as f:
            lines = f.readlines()
        older, newer = log + ".1", log
        with open(older, "w") as f:
            f.write(json.dumps({"prediction": "a", "features": {"x": 1}})
                    + "\n")
            f.write("".join(lines[:1800]))
        with open(newer, "w") as f:
            f.write("".join(lines[1800:]))
        os.utime(older, (time.time() - 3600, time.time() - 3600))
        p = subprocess.run([h.DRIFTD, "--once", "--step", "1h", "--format",
                            "csv", "-c", conf, newer, older],
                           capture_output=True, timeout=120)
        h.sanitizer_clean(p.stderr.decode("utf-8", "replace"))
        h.check_eq(p.returncode, 0, p.stderr)
        h.check_eq(p.stdout.decode(), whole, "the same history")


def test_openmetrics_backfills_a_real_prometheus():
    h.check(os.path.exists(PROMETHEUS), "prometheus not installed "
            "(tools/install-deps --test)")
    with tempfile.TemporaryDirectory(prefix="driftd-replay-") as d:
        conf, log, ref_x, ref_c, records = make_case(d)
        om, _ = replay(conf, log, "1h", "openmetrics")
        h.check(om.endswith("# EOF\n"), om[-200:])
        # Each series' samples together, in time order (OpenMetrics).
        series, done, prev = {}, set(), None
        for ln in om.splitlines():
            if ln.startswith("#"):
                continue
            key, _, stamp = ln.rsplit(" ", 2)
            key = re.sub(r"_(bucket|sum|count)\{", "{", key)
            key = re.sub(r',?le="[^"]*"', "", key)
            if key != prev:
                h.check(key not in done, f"{key} interleaved")
                if prev is not None:
                    done.add(prev)
                prev = key
            h.check(float(stamp) >= series.get(key, 0), f"{key} in order")
            series[key] = float(stamp)
        # The shipped script: the replay, then promtool.
        tsdb = os.path.join(d, "tsdb")
        path = os.pathsep.join([os.path.dirname(h.DRIFTD),
                                os.path.dirname(h.PROMTOOL),
                                os.environ.get("PATH", "")])
        p = subprocess.run(["sh", os.path.join(h.SRCDIR, "examples",
                                               "prometheus", "backfill"),
                            conf, tsdb, "1h", log],
                           capture_output=True, timeout=120,
                           env=dict(os.environ, PATH=path))
        h.check_eq(p.returncode, 0, (p.stdout + p.stderr).decode())
        want = expected_steps(records, ref_x, ref_c, HOUR)
        port = socket.socket()
        port.bind(("127.0.0.1", 0))
        pport = port.getsockname()[1]
        port.close()
        pconf = os.path.join(d, "prometheus.yml")
        with open(pconf, "w") as f:
            f.write("global:\n  scrape_interval: 1m\n")
        plog = open(os.path.join(d, "prometheus.log"), "w")
        prom = subprocess.Popen(
            [PROMETHEUS, f"--config.file={pconf}",
             f"--storage.tsdb.path={tsdb}",
             "--storage.tsdb.retention.time=30d",
             f"--web.listen-address=127.0.0.1:{pport}"],
            stdout=plog, stderr=plog)
        try:
            def at(q, t):
                url = (f"http://127.0.0.1:{pport}/api/v1/query?" +
                       urllib.parse.urlencode({"query": q, "time": t}))
                with urllib.request.urlopen(url, timeout=10) as r:
                    return json.load(r)["data"]["result"]

            def ready():
                try:
                    return at("count(prediction_drift_score)",
                              START + 2 * HOUR)
                except OSError:
                    return None
            h.wait_for(ready, timeout=60, interval=0.25,
                       what="Prometheus on the backfilled TSDB")
            checked = 0
            for end, (cols, n, verdict) in want.items():
                if not cols or int(end // HOUR) % 7:
                    continue          # every seventh step is enough
                res = at('prediction_drift_pvalue{column="features.x",'
                         'test="ks"}', end)
                h.check_eq(len(res), 1, f"{rfc3339(end)}: one sample")
                close(float(res[0]["value"][1]),
                      cols["features.x"][("ks", "pvalue")],
                      f"{rfc3339(end)} ks p-value", p=True)
                res = at('prediction_dataset_drift_detected', end)
                h.check_eq(float(res[0]["value"][1]), verdict,
                           f"{rfc3339(end)} dataset verdict")
                res = at('prediction_window_samples{column="features.x"}',
                         end)
                h.check_eq(float(res[0]["value"][1]), n, "window samples")
                checked += 1
            h.check(checked >= 8, f"{checked} steps checked")
            # Counters count from the start of the replay.
            res = at("prediction_records_total", START + 72 * HOUR)
            h.check_eq(float(res[0]["value"][1]), float(len(records)),
                       "records at the end")
        finally:
            prom.send_signal(signal.SIGTERM)
            prom.wait(timeout=30)
            plog.close()


def postgres_bin(name):
    import glob
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    h.check(found, f"{name} not found: install Debian's postgresql "
            "(tools/install-deps --test)")
    return found[-1]


def test_csv_loads_into_postgresql():
    """A private cluster (Unix socket only, no TCP) in a temporary
    directory: the shipped table, COPY of the daily CSV, and a query for
    the dataset's verdict per day."""
    initdb, pg_ctl = postgres_bin("initdb"), postgres_bin("pg_ctl")
    psql = shutil.which("psql") or postgres_bin("psql")
    schema = os.path.join(h.SRCDIR, "examples", "postgresql",
                          "driftd-history.sql")
    with tempfile.TemporaryDirectory(prefix="driftd-replay-") as d:
        conf, log, ref_x, ref_c, records = make_case(d)
        text, _ = replay(conf, log, "1d", "csv")
        want = expected_steps(records, ref_x, ref_c, DAY)
        pg = os.path.join(d, "pg")
        os.makedirs(pg)
        # PostgreSQL refuses to run as root: as its own user when root.
        run_as = []
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(pg, pw.pw_uid, pw.pw_gid)
            os.chmod(d, 0o755)
            run_as = ["runuser", "-u", "postgres", "--"]
        data = os.path.join(pg, "data")
        p = subprocess.run(run_as + [initdb, "-D", data, "-A", "trust",
                                     "-U", "driftd", "--no-sync"],
                           capture_output=True, timeout=120)
        h.check_eq(p.returncode, 0, p.stderr.decode())
        p = subprocess.run(run_as + [pg_ctl, "-D", data, "-w", "-l",
                                     os.path.join(pg, "log"), "-o",
                                     f"-c listen_addresses='' -k {pg}",
                                     "start"],
                           capture_output=True, timeout=120)
        h.check_eq(p.returncode, 0, p.stderr.decode() +
                   open(os.path.join(pg, "log")).read())
        try:
            def sql(*args, stdin=None):
                p = subprocess.run([psql, "-h", pg, "-U", "driftd", "-d",
                                    "postgres", "-v", "ON_ERROR_STOP=1",
                                    "-X", "-q", "-A", "-t", *args],
                                   input=stdin, capture_output=True,
                                   timeout=60)
                h.check_eq(p.returncode, 0, p.stderr.decode())
                return p.stdout.decode()
            sql("-f", schema)
            sql("-c", "COPY driftd_history FROM STDIN (FORMAT csv, "
                "HEADER true)", stdin=text.encode())
            got = sql("-c", "SELECT extract(epoch FROM time)::bigint, "
                      "drift_detected FROM driftd_history WHERE \"column\" "
                      "= '__dataset__' ORDER BY time")
            got = [tuple(int(v) for v in line.split("|"))
                   for line in got.split()]
            h.check_eq(got, [(int(e), v) for e, (_, _, v) in
                             sorted(want.items())], "daily verdicts")
            h.check_eq([v for _, v in got], [0, 0, 1], "drift on day three")
            n = sql("-c", "SELECT count(*) FROM driftd_history WHERE "
                    "test = 'ks' AND pvalue IS NOT NULL AND mean IS NOT NULL")
            h.check_eq(int(n), 3, "a ks row per day, with its figures")
        finally:
            subprocess.run(run_as + [pg_ctl, "-D", data, "-m", "fast", "-w",
                                     "stop"], capture_output=True,
                           timeout=120)


def test_progress_on_a_terminal_only():
    import pty
    with tempfile.TemporaryDirectory(prefix="driftd-replay-") as d:
        conf, log, _, _, records = make_case(d)
        master, slave = pty.openpty()
        p = subprocess.Popen([h.DRIFTD, "--once", "--step", "1h", "--format",
                              "csv", "-c", conf, log],
                             stdout=subprocess.DEVNULL, stderr=slave)
        os.close(slave)
        err = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            err += chunk
        h.check_eq(p.wait(timeout=60), 0, err)
        os.close(master)
        text = err.decode("utf-8", "replace")
        h.check(re.search(rf"replay: {len(records)} records, 71 steps, "
                          r"\d+ records/s", text), text)
        # Not a terminal: no progress line.
        _, err = replay(conf, log, "1h", "csv")
        h.check("records/s" not in err, err)


def test_errors_exit_2():
    with tempfile.TemporaryDirectory(prefix="driftd-replay-") as d:
        conf, log, *_ = make_case(d)
        for args, what in ((["--step", "an hour"], "bad --step"),
                           (["--step", "0s"], "zero --step"),
                           (["--step", "1h", "--format", "xml"],
                            "bad --format")):
            p = subprocess.run([h.DRIFTD, "--once", *args, "-c", conf, log],
                               capture_output=True, timeout=60)
            h.check_eq(p.returncode, 2, what)
            h.check_eq(p.stdout, b"", f"{what}: nothing on stdout")
        with open(conf) as f:
            text = f.read().replace("timestamp = ts\n", "")
        with open(conf, "w") as f:
            f.write(text)
        p = subprocess.run([h.DRIFTD, "--once", "--step", "1h", "-c", conf,
                            log], capture_output=True, timeout=60)
        h.check_eq(p.returncode, 2, "no timestamp")
        h.check(b"needs [model] timestamp" in p.stderr, p.stderr)
        for args in (["--step", "1h"], ["--format", "csv"],
                     ["--once", "--format", "csv"],
                     ["--once", "--step", "1h", "--report", "r.html"]):
            p = subprocess.run([h.DRIFTD, *args, "-c", conf],
                               capture_output=True, timeout=60)
            h.check_eq(p.returncode, 2, f"{args}")


h.main(globals())
