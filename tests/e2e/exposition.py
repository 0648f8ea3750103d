"""What scrapers and browsers get: both exposition formats valid (promtool,
and the OpenMetrics parser of the Prometheus Python client) with hostile
label content, gzip, HEAD, series that go away with their column, the
landing page and /status."""

import gzip
import html.parser
import json
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

OM_ACCEPT = ("application/openmetrics-text;version=1.0.0,"
             "text/plain;version=0.0.4;q=0.5,*/*;q=0.1")


def setup(d, features=("x", "y"), extra=""):
    # An input path with quotes and a backslash in it (a newline cannot
    # be written in an INI value).
    log = os.path.join(d.dir, 'odd "name" \\ here.log')
    ref = os.path.join(d.dir, "ref.csv")
    with open(ref, "w") as f:
        f.write("x,y,prediction\n")
        for i in range(300):
            f.write(f"{i % 17},{(i * 7) % 13},{'a' if i % 3 else 'b'}\n")
    with open(log, "w") as f:
        for i in range(300):
            f.write(json.dumps({
                "prediction": ['a', 'quote " back \\ slash', 'new\nline'][i % 3],
                "confidence": 0.5 + (i % 5) / 10,
                "features": {"x": (i % 17) + 5, "y": (i * 7) % 13}}) + "\n")
    feats = "".join(f"features.{n} = numeric\n" for n in features)
    d.write_config(
        f"[input]\npath = {log}\nstart_at = beginning\npoll_interval = 100ms\n"
        f"[model]\nname = m\n[features]\n{feats}"
        f"[reference]\nfile = {ref}\n"
        f"[window]\nsize = 300\nmin_samples = 50\nevaluate_every = 200ms\n{extra}")
    return log


def evaluated(d):
    return d.sample("prediction_drift_detected", model="m",
                    column="features.x") is not None


def test_text_and_openmetrics_are_valid():
    with h.Daemon() as d:
        setup(d)
        d.start()
        h.wait_for(lambda: evaluated(d), what="an evaluation")
        status, headers, body = d.request("/metrics")
        text = body.decode()
        h.promtool_check(text)
        h.check('class="quote \\" back \\\\ slash"' in text, "escaped class")
        h.check('class="new\\nline"' in text, "escaped newline")
        h.check('\\"name\\" \\\\ here.log' in text, "escaped input")
        status, headers, body = d.request("/metrics",
                                          headers={"Accept": OM_ACCEPT})
        h.check(headers["Content-Type"].startswith(
            "application/openmetrics-text; version=1.0.0"), headers)
        om = body.decode()
        h.check(om.endswith("# EOF\n"), "ends with # EOF")
        from prometheus_client.openmetrics.parser import \
            text_string_to_metric_families
        fams = {f.name: f for f in text_string_to_metric_families(om)}
        h.check("prediction_records" in fams and
                fams["prediction_records"].type == "counter", "OM counter")
        h.check(fams["prediction_confidence"].type == "histogram", "histogram")
        h.check(fams["prediction_drift_score"].samples, "drift scores")
        # Histograms: +Inf equals _count.
        s = h.parse_metrics(text)
        h.check_eq(h.sample(s, "prediction_confidence_bucket", model="m",
                            le="+Inf"),
                   h.sample(s, "prediction_confidence_count", model="m"),
                   "+Inf bucket")
        d.stop()


def test_gzip_and_head():
    with h.Daemon() as d:
        setup(d)
        d.start()
        h.wait_for(lambda: evaluated(d), what="an evaluation")
        status, headers, body = d.request(
            "/metrics", headers={"Accept-Encoding": "gzip"})
        h.check_eq(headers.get("Content-Encoding"), "gzip", "encoding")
        text = gzip.decompress(body).decode()
        h.promtool_check(text)
        status, headers, body = d.request(
            "/metrics", headers={"Accept-Encoding": "gzip;q=0, identity"})
        h.check("Content-Encoding" not in headers, "no gzip when refused")
        status, headers, body = d.request("/metrics", method="HEAD",
                                          headers={"Accept-Encoding": "gzip"})
        h.check_eq(body, b"", "HEAD body")
        h.check(int(headers["Content-Length"]) > 100, "HEAD length")
        d.stop()


def test_removed_column_series_disappear():
    with h.Daemon() as d:
        log = setup(d)
        d.start()
        h.wait_for(lambda: evaluated(d), what="an evaluation")
        h.check(d.sample("prediction_window_samples", model="m",
                         column="features.y") is not None, "y is there")
        setup(d, features=("x",))
        d.send_signal(signal.SIGHUP)
        d.wait_log("configuration reloaded")
        text = d.metrics()
        h.check('column="features.y"' not in text, "y's series are gone")
        h.check('feature="features.y"' not in text, "y's missing counter")
        h.wait_for(lambda: evaluated(d), what="x evaluated again")
        d.stop()
        del log


class Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.cells, self.ids, self._in = [], {}, None
        self.links = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("td", "th"):
            self._in = ""
        if "id" in a:
            self.ids[a["id"]] = ""
            self._id = a["id"]
        if tag == "a":
            self.links.append(a.get("href"))

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._in is not None:
            self.cells.append(self._in.strip())
            self._in = None

    def handle_data(self, data):
        if self._in is not None:
            self._in += data


def test_landing_page_and_status():
    with h.Daemon() as d:
        log = setup(d)
        d.start()
        h.wait_for(lambda: evaluated(d), what="an evaluation")
        status, headers, body = d.request("/")
        h.check_eq(status, 200, "status")
        h.check(headers["Content-Type"].startswith("text/html"), headers)
        page = Page()
        page.feed(body.decode())
        for want in ("features.x", "features.y", "prediction", "confidence"):
            h.check(want in page.cells, f"{want} in the drift table")
        h.check(any("ks" in c for c in page.cells), "test scores shown")
        h.check(any(c in ("drift", "no drift") for c in page.cells),
                "verdicts shown")
        h.check("<script" not in body.decode(), "no scripts")
        for link in ("/metrics", "/status", "/-/healthy", "/-/ready"):
            h.check(link in page.links, f"link to {link}")
        h.check("&quot;name&quot;" in body.decode(), "input path escaped")
        status, headers, body = d.request("/status")
        h.check(headers["Content-Type"] == "application/json", headers)
        st = json.loads(body)
        h.check_eq(st["model"], "m", "model")
        h.check_eq(st["records"], 300, "records")
        h.check_eq(st["window_size"], 300, "window size")
        h.check_eq(st["inputs"][0]["path"], log, "input path")
        h.check_eq(st["inputs"][0]["lines"], 300, "lines")
        cols = {c["name"]: c for c in st["columns"]}
        h.check_eq(cols["features.x"]["samples"], 300, "samples")
        h.check("ks" in cols["features.x"]["tests"], "ks reported")
        x = cols["features.x"]
        s = h.parse_metrics(d.metrics())
        h.check_eq(x["tests"]["ks"]["score"],
                   h.sample(s, "prediction_drift_score", model="m",
                            column="features.x", test="ks"), "same score")
        h.check_eq(x["drift_detected"],
                   h.sample(s, "prediction_drift_detected", model="m",
                            column="features.x") == 1, "same verdict")
        d.stop()


h.main(globals())
