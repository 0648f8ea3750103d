"""No input crashes driftd, and nothing stalls its loop: hostile log lines,
hostile timestamps, odd paths, and what a hostile or unlucky environment
does to the daemon's descriptors and disk."""

import json
import os
import signal
import subprocess
import sys

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


h.main(globals())
