"""The landing page in a real browser: headless Chromium (Debian's) loads
/, and the rendered document shows the version, the inputs and the drift
table.  Chromium runs with background networking, sync and component
updates off, as this machine (and CI) has no internet."""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def dump_dom(url):
    with tempfile.TemporaryDirectory(prefix="driftd-chromium-") as profile:
        p = subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--disable-default-apps",
             f"--user-data-dir={profile}", "--dump-dom", url],
            capture_output=True, timeout=60)
        h.check_eq(p.returncode, 0, f"chromium: {p.stderr[-2000:]!r}")
        return p.stdout.decode()


def test_landing_page_renders():
    h.check(os.path.exists(CHROMIUM),
            "chromium not installed (tools/install-deps --test)")
    with h.Daemon() as d:
        log, ref = os.path.join(d.dir, "p.log"), os.path.join(d.dir, "ref.csv")
        with open(ref, "w") as f:
            f.write("x,country\n" + "".join(
                f"{i % 30},{'DE' if i % 2 else 'FR'}\n" for i in range(300)))
        with open(log, "w") as f:
            for i in range(300):
                f.write(json.dumps({"prediction": "a", "confidence": 0.8,
                                    "features": {"x": 20 + i % 30,
                                                 "a<i>b": i,
                                                 "country": "DE"}}) + "\n")
        d.write_config(
            f"[input]\npath = {log}\nstart_at = beginning\n"
            f"[model]\nname = iris-rf\n[features]\nfeatures.x = numeric\n"
            f"features.country = categorical\n"
            f'features."a<i>b" = numeric\n[reference]\nfile = {ref}\n'
            f"[window]\nsize = 300\nmin_samples = 100\nevaluate_every = 200ms\n")
        d.start()
        h.wait_for(lambda: d.sample("prediction_drift_detected", model="iris-rf",
                                    column="features.x") == 1, what="drift")
        dom = dump_dom(f"http://127.0.0.1:{d.port}/")
        version = h.run([h.DRIFTD, "--version"]).stdout.decode().split()[1]
        h.check(f"<h1>driftd {version}</h1>" in dom, "version heading")
        h.check('<b id="model">iris-rf</b>' in dom, "model name")
        h.check(re.search(r'<b id="dataset-drift">yes</b>', dom), "dataset drift")
        rows = re.findall(r"<tr>(.*?)</tr>", dom, re.S)
        x = [r for r in rows if "<td>features.x</td>" in r]
        h.check_eq(len(x), 1, "a row for features.x")
        h.check('class="drift"' in x[0], "features.x flagged")
        h.check("300 / 300" in x[0], "window fill")
        h.check(any(log in r for r in rows), "the input listed")
        # Names from the configuration and the log never become markup.
        h.check('features."a&lt;i&gt;b"' in dom, "the odd column, as text")
        h.check("<i>" not in dom, "no injected element")
        d.stop()


h.main(globals())
