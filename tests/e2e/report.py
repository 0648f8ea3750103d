"""The drift report: what headless Chromium (Debian's) renders of / and of
a saved report is checked against /status, number by number, bar by bar;
hostile names stay text; reports are saved on the transition into drift,
pruned, listed and served without reaching any other file; the lifecycle
endpoints; --once --report."""

import html.parser
import json
import math
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
NAME_RE = re.compile(r"^\d{8}T\d{6}Z(-\d+)?\.html$")


def chromium(url, *extra):
    """Load `url` in headless Chromium with no network; returns (DOM,
    stderr).  Console messages go to stderr (--enable-logging)."""
    h.check(os.path.exists(CHROMIUM),
            "chromium not installed (tools/install-deps --test)")
    with tempfile.TemporaryDirectory(prefix="driftd-chromium-") as profile:
        p = subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--disable-default-apps",
             "--enable-logging=stderr", "--v=0",
             f"--user-data-dir={profile}", *extra, "--dump-dom", url],
            capture_output=True, timeout=90)
        h.check_eq(p.returncode, 0, f"chromium: {p.stderr[-2000:]!r}")
        return p.stdout.decode(), p.stderr.decode("utf-8", "replace")


def no_console_errors(stderr):
    bad = [l for l in stderr.splitlines() if "CONSOLE" in l or
           "Uncaught" in l or "Failed to load resource" in l]
    h.check(not bad, f"console messages: {bad}")


class Report(html.parser.HTMLParser):
    """The parts of a rendered report a test reads: per card (section
    id=col-N) its name, badge, test rows and chart bars."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.cards = {}
        self.card = None
        self.stack = []
        self.text = None
        self.row = None
        self.external = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for k in ("src", "href"):
            v = a.get(k)
            if v and not v.startswith(("/", "#")):
                self.external.append(v)
        if tag == "script":
            self.external.append("<script>")
        if tag == "section" and "card" in (a.get("class") or ""):
            self.card = {"id": a["id"], "name": "", "badge": "", "tests": [],
                         "bars": []}
            self.cards[a["id"]] = self.card
        if self.card is None:
            return
        if tag in ("bdi", "span", "td") and self.text is None:
            self.text = (tag, a.get("class") or "", [])
        if tag == "tr":
            self.row = []
        if tag == "rect" and a.get("class") in ("bar-ref", "bar-win"):
            self.card["bars"].append((a["class"], float(a["data-p"]),
                                      float(a["height"])))
        self.stack.append(tag)

    def handle_endtag(self, tag):
        if self.card is None:
            return
        if self.text is not None and tag == self.text[0]:
            kind, cls, parts = self.text
            s = "".join(parts)
            if kind == "bdi" and not self.card["name"]:
                self.card["name"] = s
            elif kind == "span" and "badge" in cls:
                self.card["badge"] = s
            elif kind == "td" and self.row is not None:
                self.row.append(s)
            self.text = None
        if tag == "tr" and self.row:
            self.card["tests"].append(self.row)
            self.row = None
        if tag == "section":
            self.card = None
        if self.stack:
            self.stack.pop()

    def handle_data(self, data):
        if self.text is not None:
            self.text[2].append(data)


def parse(dom):
    p = Report()
    p.feed(dom)
    return p


def shown(v):
    """A number as the report shows it."""
    if v is None:
        return "\u2013"
    if v == math.floor(v) and abs(v) < 1e15:
        return "%.0f" % v
    return "%.4g" % v


def check_against_status(dom, status):
    """Every column of /status is a card with its name, verdict, tests
    and bins as /status has them; bars are as tall as their share."""
    rep = parse(dom)
    h.check_eq(rep.external, [], "external resources or scripts")
    cols = status["columns"]
    h.check_eq(len(rep.cards), len(cols), "a card per column")
    order = []
    for i, c in enumerate(cols):
        card = rep.cards[f"col-{i}"]
        h.check_eq(card["name"], c["name"], "column name")
        want = ("not tested" if c["drift_detected"] is None else
                "drift" if c["drift_detected"] else "no drift")
        h.check_eq(card["badge"], want, f"{c['name']} verdict")
        tests = {r[0].replace(" (decides)", ""): r[1:] for r in card["tests"]}
        h.check_eq(sorted(tests), sorted(c["tests"]), f"{c['name']} tests")
        for t, v in c["tests"].items():
            h.check_eq(tests[t], [shown(v["score"]), shown(v["pvalue"]),
                                  shown(v["threshold"])], f"{c['name']} {t}")
        if c["decide"] is not None:
            h.check(any(r[0] == f"{c['decide']} (decides)"
                        for r in card["tests"]), "the deciding test marked")
            # The history ends with this evaluation's deciding value, to
            # six significant digits.
            t = c["tests"][c["decide"]]
            last = t["pvalue"] if c["decide"] in ("ks", "chi2") else t["score"]
            got = c["history"][-1]
            h.check(got == last or abs(got - last) <= 5e-6 * abs(last),
                    f"{c['name']}: history ends with {got}, not {last}")
        bins = c["bins"]
        if bins is None:
            h.check_eq(card["bars"], [], f"{c['name']}: no chart")
            continue
        ref = [b for b in card["bars"] if b[0] == "bar-ref"]
        win = [b for b in card["bars"] if b[0] == "bar-win"]
        h.check_eq(len(ref), len(bins["reference"]), "reference bars")
        h.check_eq(len(win), len(bins["window"]), "window bars")
        top = max(bins["reference"] + bins["window"])
        for bars, props in ((ref, bins["reference"]), (win, bins["window"])):
            for (_, p, height), want in zip(bars, props):
                h.check(abs(p - want) <= 1e-8, f"{c['name']}: data-p {p} "
                        f"!= {want}")
                h.check(abs(height - want / top * 110) <= 0.002,
                        f"{c['name']}: bar of {want} is {height} tall")
        order.append(c["drift_detected"])
    # Drifting columns come first.
    ids = [int(k.split("-")[1]) for k in rep.cards]
    ranks = [0 if cols[i]["drift_detected"] else
             1 if cols[i]["drift_detected"] is not None else 2 for i in ids]
    h.check_eq(ranks, sorted(ranks), "drifting columns first")
    return rep


def conf(log, ref, extra=""):
    return (f"[input]\npath = {log}\nstart_at = beginning\n"
            f"poll_interval = 100ms\n"
            f"[model]\nname = iris-rf\n[features]\nfeatures.x = numeric\n"
            f"features.y = numeric\nfeatures.country = categorical\n"
            f"[reference]\nfile = {ref}\n"
            f"[window]\nsize = 400\nmin_samples = 100\n"
            f"evaluate_every = 200ms\n{extra}")


def write_ref(path, seed=1):
    r = random.Random(seed)
    with open(path, "w") as f:
        f.write("x,y,country,prediction\n")
        for _ in range(800):
            f.write(f"{r.gauss(0, 1)!r},{r.expovariate(1)!r},"
                    f"{r.choice(['DE', 'FR', 'IT'])},"
                    f"{r.choice(['setosa', 'virginica'])}\n")


def write_log(path, n, shift, seed, classes=("setosa", "virginica"),
              countries=("DE", "FR", "IT")):
    r = random.Random(seed)
    with open(path, "a") as f:
        for _ in range(n):
            f.write(json.dumps({
                "prediction": r.choice(classes), "confidence": r.random(),
                "features": {"x": r.gauss(shift, 1), "y": r.expovariate(1),
                             "country": r.choice(countries)}}) + "\n")


def test_report_matches_status_in_chromium():
    with h.Daemon() as d:
        log, ref = os.path.join(d.dir, "p.log"), os.path.join(d.dir, "ref.csv")
        write_ref(ref)
        write_log(log, 400, 1.5, 2, countries=("DE", "DE", "PL", "FR"))
        d.write_config(conf(log, ref))
        d.start()
        h.wait_for(lambda: d.sample("prediction_drift_detected", model="iris-rf",
                                    column="features.x") == 1, what="drift")
        # Hold evaluations still while the two are read: a reload to a
        # long period gives one more evaluation, then none for a while.
        d.write_config(conf(log, ref).replace("evaluate_every = 200ms",
                                              "evaluate_every = 1h"))
        d.send_signal(signal.SIGHUP)
        d.wait_log("configuration reloaded")
        status = json.loads(d.request("/status")[2])
        dom, err = chromium(f"http://127.0.0.1:{d.port}/")
        no_console_errors(err)
        h.check_eq(json.loads(d.request("/status")[2]), status,
                   "/status unchanged while the page was read")
        rep = check_against_status(dom, status)
        h.check(len(status["columns"]) >= 4, "columns")
        x = rep.cards["col-0"]
        h.check_eq(x["name"], "features.x", "first column")
        h.check_eq(x["badge"], "drift", "x drifts")
        # The dataset verdict and share, as /status says.
        h.check(re.search(r'<b id="dataset-drift">yes</b>', dom), "verdict")
        h.check(f"{shown(status['drifted_columns'])} of "
                f"{shown(status['tested_columns'])} tested features" in dom,
                "the share")
        # README's picture: DRIFTD_SCREENSHOT=FILE.png takes it.
        shot = os.environ.get("DRIFTD_SCREENSHOT")
        if shot:
            with tempfile.TemporaryDirectory() as profile:
                subprocess.run(
                    [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                     "--no-first-run", "--disable-background-networking",
                     "--hide-scrollbars", f"--user-data-dir={profile}",
                     "--window-size=1100,1240", f"--screenshot={shot}",
                     f"http://127.0.0.1:{d.port}/"],
                    capture_output=True, timeout=90, check=True)
            with open(shot, "rb") as f:
                h.check(f.read(8) == b"\x89PNG\r\n\x1a\n", "a PNG")
        d.stop()


def test_hostile_names_are_text_everywhere():
    """Class and category names from the log and the reference: markup,
    quotes, ampersands, newlines, right-to-left text, emoji, and bytes
    that are not UTF-8 (from the CSV reference) become text."""
    hostile = ["<script>alert(1)</script>", "a\"b'c", "x&amp;y", "two\nlines",
               "\u05e9\u05dc\u05d5\u05dd", "\U0001f600 smile"]
    tmp = tempfile.mkdtemp(prefix="driftd-e2e-")
    try:
        ref, log = os.path.join(tmp, "ref.csv"), os.path.join(tmp, "p.log")
        with open(ref, "wb") as f:
            f.write(b"country,prediction\n")
            for i in range(300):
                name = hostile[i % len(hostile)].replace("\n", " ")
                cell = '"' + name.replace('"', '""') + '"'
                f.write(cell.encode() + b"," +
                        (b"bad\xff\xfename" if i % 7 == 0 else b"ok") + b"\n")
        with open(log, "w") as f:
            for i in range(300):
                f.write(json.dumps({"prediction": hostile[(i * 5) % 6],
                                    "features": {"country": hostile[i % 6]}})
                        + "\n")
        cfg = os.path.join(tmp, "d.conf")
        with open(cfg, "w") as f:
            f.write("[model]\nname = m\nconfidence =\n"
                    "[features]\nfeatures.country = categorical\n"
                    f"[reference]\nfile = {ref}\n"
                    "[window]\nsize = 300\nmin_samples = 50\n")
        out = os.path.join(tmp, "r.html")
        p = subprocess.run([h.DRIFTD, "--once", "--report", out, "-c", cfg,
                            log], capture_output=True, timeout=60)
        h.sanitizer_clean(p.stderr.decode("utf-8", "replace"))
        h.check_eq(p.returncode, 0, p.stderr)
        raw = open(out, "rb").read()
        text = raw.decode("utf-8")           # valid UTF-8 throughout
        h.check("<script>" not in text, "no script element")
        h.check("&lt;script&gt;alert(1)&lt;/script&gt;" in text, "escaped")
        h.check("a&quot;b&#39;c" in text, "quotes escaped")
        h.check("x&amp;amp;y" in text, "ampersand escaped")
        h.check("\u05e9\u05dc\u05d5\u05dd" in text and "<bdi>" in text,
                "right-to-left text, isolated")
        h.check("\U0001f600" in text, "emoji kept")
        h.check("bad\ufffd\ufffdname" in text, "bytes not UTF-8 replaced")
        dom, err = chromium("file://" + out)
        no_console_errors(err)
        rep = parse(dom)
        h.check_eq(rep.external, [], "nothing external")
        names = [c["name"] for c in rep.cards.values()]
        h.check("prediction" in names and "features.country" in names, names)
    finally:
        shutil.rmtree(tmp)


def reports(d):
    st, _, body = d.request("/reports/")
    h.check_eq(st, 200, "/reports/ status")
    return re.findall(r'<a href="/reports/([^"]+)">', body.decode())


def test_transition_saves_one_report_and_keep_prunes():
    with h.Daemon() as d:
        log, ref = os.path.join(d.dir, "p.log"), os.path.join(d.dir, "ref.csv")
        state = os.path.join(d.dir, "state")
        write_ref(ref)
        write_log(log, 400, 0, 3)
        d.write_config(conf(log, ref, f"[global]\nstate_dir = {state}\n"
                            "[report]\nkeep = 2\n"))
        d.start()
        h.wait_for(lambda: d.sample("prediction_dataset_drift_detected",
                                    model="iris-rf") == 0, what="no drift")
        h.check_eq(reports(d), [], "nothing saved without drift")
        seen = []
        for k in range(3):
            write_log(log, 400, 2.5, 10 + k, countries=("PL",))
            h.wait_for(lambda: d.sample("driftd_reports_saved_total")
                       == k + 1, what=f"report {k + 1}", timeout=20)
            # Drifting on: still one report for this transition.
            time.sleep(0.6)
            h.check_eq(d.sample("driftd_reports_saved_total"), k + 1,
                       "one report per transition")
            names = reports(d)
            h.check(all(NAME_RE.match(n) for n in names), names)
            seen.append(names[0])
            h.check_eq(names, sorted(names, key=lambda n: (
                n[:16], len(n), n), reverse=True), "newest first")
            st, hd, body = d.request("/reports/" + names[0])
            h.check_eq(st, 200, "a saved report")
            h.check(b"Saved by driftd when the dataset" in body, "its note")
            h.check(b'<b id="dataset-drift">yes</b>' in body, "drift in it")
            write_log(log, 400, 0, 20 + k)
            try:
                h.wait_for(lambda: d.sample("prediction_dataset_drift_detected",
                                            model="iris-rf") == 0,
                           what="back to no drift", timeout=20)
            except h.TestFailure:
                print("#", d.request("/status")[2].decode()[:3000])
                raise
        names = reports(d)
        h.check_eq(names, [seen[2], seen[1]], "keep = 2 keeps the newest")
        h.check_eq(sorted(os.listdir(os.path.join(state, "reports"))),
                   sorted(names), "the directory holds what is listed")
        # A saved report renders whole in a browser with no network.
        dom, err = chromium(f"http://127.0.0.1:{d.port}/reports/{names[0]}")
        no_console_errors(err)
        h.check_eq(parse(dom).external, [], "self-contained")
        # Into drift once more, then a restart while drifting: no new
        # transition, so no new report.
        write_log(log, 400, 2.5, 40, countries=("PL",))
        h.wait_for(lambda: d.sample("driftd_reports_saved_total") == 4,
                   what="report 4", timeout=20)
        names = reports(d)
        d.stop()
        d.start()
        h.wait_for(lambda: d.sample("prediction_dataset_drift_detected",
                                    model="iris-rf") == 1, what="drift",
                   timeout=20)
        time.sleep(0.6)
        h.check_eq(d.sample("driftd_reports_saved_total"), 0.0,
                   "no report for drift that went on across a restart")
        h.check_eq(reports(d), names, "the same reports")
        d.stop()


def test_reports_serve_nothing_else():
    with h.Daemon() as d:
        state = os.path.join(d.dir, "state")
        rdir = os.path.join(state, "reports")
        os.makedirs(rdir)
        with open(os.path.join(rdir, "20260101T000000Z.html"), "w") as f:
            f.write("<p>saved</p>")
        secret = os.path.join(d.dir, "secret.txt")
        with open(secret, "w") as f:
            f.write("SECRET")
        with open(os.path.join(state, "driftd.state"), "w") as f:
            f.write("SECRET")
        os.symlink(secret, os.path.join(rdir, "20260102T000000Z.html"))
        os.mkdir(os.path.join(rdir, "20260103T000000Z.html"))
        d.write_config(f"[global]\nstate_dir = {state}\n")
        d.start()
        st, _, body = d.request("/reports/20260101T000000Z.html")
        h.check_eq((st, body), (200, b"<p>saved</p>"), "the report")
        for path in ("/reports/../secret.txt", "/reports/..%2fsecret.txt",
                     "/reports/%2e%2e/secret.txt",
                     "/reports/../driftd.state", "/reports/%2E%2E%2Fdriftd.state",
                     "/reports/20260101T000000Z.html/../../secret.txt",
                     "/reports/20260102T000000Z.html",      # a link
                     "/reports/20260103T000000Z.html",      # a directory
                     "/reports/.20260101T000000Z.html.tmp",
                     "/reports/20260101T000000Z.html%00",
                     "/reports//etc/passwd", "/reports/%2fetc%2fpasswd",
                     "/reports/20260101T000000Z-0.html", "/reports"):
            raw = h.raw_request(d.port, f"GET {path} HTTP/1.1\r\nHost: x\r\n"
                                f"Connection: close\r\n\r\n".encode())
            h.check(raw.startswith(b"HTTP/1.1 404 "), f"{path}: {raw[:80]!r}")
            h.check(b"SECRET" not in raw, f"{path} leaked")
        h.check_eq(reports(d), ["20260101T000000Z.html"], "only real reports")
        d.stop()


def test_lifecycle_endpoints():
    with h.Daemon() as d:
        log, ref = os.path.join(d.dir, "p.log"), os.path.join(d.dir, "ref.csv")
        write_ref(ref)
        write_log(log, 200, 0, 5)
        base = conf(log, ref).replace("evaluate_every = 200ms",
                                      "evaluate_every = 1h")
        d.write_config(base)
        d.start()
        for path in ("/-/evaluate", "/-/reload"):
            st, _, body = d.request(path, method="POST")
            h.check_eq(st, 403, f"{path} disabled by default")
            st, hd, _ = d.request(path)
            h.check_eq(st, 405, f"GET {path}")
            h.check_eq(hd.get("Allow"), "POST", "Allow")
        d.write_config(base.replace("[input]", "[global]\nenable_lifecycle = "
                                    "yes\n[input]"))
        d.send_signal(signal.SIGHUP)
        d.wait_log("configuration reloaded")
        # Evaluations every hour: the answer comes from a new one.
        write_log(log, 200, 0, 6)
        h.wait_for(lambda: d.sample("prediction_records_total",
                                    model="iris-rf") == 400, what="records")
        before = time.time()
        st, _, body = d.request("/-/evaluate", method="POST", timeout=30)
        h.check_eq(st, 200, "evaluate")
        s = json.loads(body)
        h.check(s["evaluation_timestamp_seconds"] >= before - 0.01,
                "a fresh evaluation")
        x = [c for c in s["columns"] if c["name"] == "features.x"][0]
        h.check_eq(x["samples"], 400, "it saw every record")
        h.check_eq(json.loads(d.request("/status")[2])
                   ["evaluation_timestamp_seconds"],
                   s["evaluation_timestamp_seconds"], "/status shows it")
        # Several at once, each answered.
        conns = []
        for _ in range(3):
            c = __import__("http.client").client.HTTPConnection(
                "127.0.0.1", d.port, timeout=30)
            c.request("POST", "/-/evaluate")
            conns.append(c)
        for c in conns:
            r = c.getresponse()
            h.check_eq(r.status, 200, "concurrent evaluate")
            json.loads(r.read())
            c.close()
        # An evaluation asked for while a reload comes: both answered.
        ev = __import__("http.client").client.HTTPConnection(
            "127.0.0.1", d.port, timeout=30)
        ev.request("POST", "/-/evaluate")
        st, _, body = d.request("/-/reload", method="POST", timeout=30)
        h.check_eq(st, 200, f"reload: {body}")
        r = ev.getresponse()
        h.check_eq(r.status, 200, "evaluate across a reload")
        json.loads(r.read())
        ev.close()
        # A bad configuration: 500 with the reason, the old one stays.
        good = open(d.conf_path).read()
        d.write_config(good + "[window]\nsize = lots\n")
        st, _, body = d.request("/-/reload", method="POST")
        h.check_eq(st, 500, "bad reload")
        h.check(b"size" in body and d.conf_path.encode() in body, body)
        h.check_eq(d.sample("driftd_config_last_reload_successful"), 0.0,
                   "reload failed")
        h.check_eq(d.request("/-/evaluate", method="POST", timeout=30)[0],
                   200, "old configuration still in force")
        d.write_config(good.replace("size = 400", "size = 300"))
        st, _, body = d.request("/-/reload", method="POST")
        h.check_eq(st, 200, body)
        h.check_eq(d.sample("driftd_config_last_reload_successful"), 1.0,
                   "reloaded")
        s = json.loads(d.request("/status")[2])
        h.check_eq(s["window_size"], 300, "the new configuration in force")
        d.stop()


def test_once_report_is_the_same_report():
    tmp = tempfile.mkdtemp(prefix="driftd-e2e-")
    try:
        log, ref = os.path.join(tmp, "p.log"), os.path.join(tmp, "ref.csv")
        write_ref(ref)
        write_log(log, 400, 1.5, 7)
        cfg = os.path.join(tmp, "d.conf")
        with open(cfg, "w") as f:
            f.write(conf(log, ref))
        out = os.path.join(tmp, "r.html")
        p = subprocess.run([h.DRIFTD, "--once", "--report", out, "-c", cfg],
                           capture_output=True, timeout=60)
        h.sanitizer_clean(p.stderr.decode("utf-8", "replace"))
        h.check_eq(p.returncode, 0, p.stderr)
        m = h.parse_metrics(p.stdout.decode())
        h.check_eq(h.sample(m, "prediction_drift_detected", model="iris-rf",
                            column="features.x"), 1.0, "metrics still printed")
        dom, err = chromium("file://" + out)
        no_console_errors(err)
        rep = parse(dom)
        h.check_eq(rep.cards["col-0"]["badge"], "drift", "x drifts")
        h.check_eq(rep.external, [], "self-contained")
        # Not writable: a runtime failure, said.
        p = subprocess.run([h.DRIFTD, "--once", "--report",
                            os.path.join(tmp, "no", "r.html"), "-c", cfg],
                           capture_output=True, timeout=60)
        h.check_eq(p.returncode, 1, "unwritable report")
        h.check(b"cannot write the report" in p.stderr, p.stderr)
        p = subprocess.run([h.DRIFTD, "--report", out, "-c", cfg],
                           capture_output=True, timeout=60)
        h.check_eq(p.returncode, 2, "--report without --once")
    finally:
        shutil.rmtree(tmp)


h.main(globals())
