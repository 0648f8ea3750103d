"""The demo (examples/demo/run, what tools/demo runs): it finishes by
itself within a minute, shows drift switching on only after the simulated
model's traffic shifts and the accuracy over its labelled predictions
falling after that, exits 0 and leaves no process or file behind."""

import os
import re
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

RUN = os.path.join(h.SRCDIR, "examples", "demo", "run")
DEADLINE = 60


def processes_mentioning(text):
    """PIDs of processes whose command line contains text."""
    pids = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            continue
        if text in cmd:
            pids.append(int(pid))
    return pids


def blocks(out):
    """The live view as [(phase, {sample line: value})], one per scrape."""
    result = []
    for m in re.finditer(r"^--- t=\s*[0-9.]+s\s+traffic: (\w+).*\n"
                         r"((?:  .*\n)*)", out, re.M):
        samples = {}
        for line in m.group(2).splitlines():
            name, _, value = line.strip().rpartition(" ")
            samples[name] = float(value)
        result.append((m.group(1), samples))
    return result


def overall_accuracy(samples):
    """prediction_accuracy over the whole labelled window (segment="", or
    no segment label) in one scrape's samples, or None."""
    for key in ('prediction_accuracy{model="iris-demo",segment=""}',
                'prediction_accuracy{model="iris-demo"}'):
        if key in samples:
            return samples[key]
    return None


def test_demo_shows_drift_after_the_shift():
    with tempfile.TemporaryDirectory(prefix="driftd-demo-test-") as tmp, \
            tempfile.TemporaryDirectory(prefix="driftd-demo-out-") as keep:
        report = os.path.join(keep, "report.html")
        env = dict(os.environ, TMPDIR=tmp, DEMO_REPORT=report)
        t0 = time.monotonic()
        proc = subprocess.Popen([RUN, h.DRIFTD], stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)
        try:
            out, _ = proc.communicate(timeout=DEADLINE)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate()
            raise h.TestFailure(f"the demo ran longer than {DEADLINE}s:\n"
                                f"{out.decode()[-3000:]}")
        out = out.decode("utf-8", "replace")
        elapsed = time.monotonic() - t0
        h.check_eq(proc.returncode, 0, f"exit status; output:\n{out}")
        h.sanitizer_clean(out, "demo output")
        print(f"# the demo took {elapsed:.1f}s")

        # It cleans up: nothing left in TMPDIR, no process still running.
        h.check_eq(os.listdir(tmp), [], "files left in TMPDIR")
        h.check_eq(processes_mentioning(tmp), [], "processes left running")
        # It ends with the report driftd saved at the transition.
        h.check(f"demo: the report of the moment drift was detected: "
                f"{report}" in out, out)
        with open(report, encoding="utf-8") as f:
            page = f.read()
        h.check('<b id="dataset-drift">yes</b>' in page, "drift in it")
        h.check("Saved by driftd when the dataset" in page, "saved by driftd")

    view = blocks(out)
    h.check(len(view) >= 10, f"only {len(view)} refreshes:\n{out}")
    dataset = 'prediction_dataset_drift_detected{model="iris-demo"}'
    normal = [s.get(dataset) for phase, s in view if phase == "normal"]
    drifted = [s.get(dataset) for phase, s in view
               if phase in ("drifted", "done")]
    h.check(0.0 in normal, "the view never shows normal traffic evaluated")
    h.check(1.0 not in normal, "drift reported during normal traffic")
    h.check(drifted and drifted[-1] == 1.0,
            f"dataset drift not shown at the end: {drifted}")
    last = view[-1][1]
    flagged = [k for k, v in last.items()
               if k.startswith("prediction_drift_detected{") and v == 1.0]
    h.check(any("petal length (cm)" in k for k in flagged),
            f"columns flagged at the end: {flagged}")
    records = [s.get('prediction_records_total{model="iris-demo"}')
               for _, s in view]
    records = [r for r in records if r is not None]
    h.check(records == sorted(records) and records[-1] > 500,
            f"records read: {records}")
    h.check(re.search(r"dataset drift detected at t=[0-9.]+s, [0-9.]+s "
                      r"after the shift", out), f"no summary:\n{out}")

    # The labels: joined to their predictions while the demo runs, and the
    # accuracy over them well below that of normal traffic at the end.
    labelled = [s.get('prediction_labelled_total{model="iris-demo"}')
                for _, s in view]
    labelled = [n for n in labelled if n is not None]
    h.check(labelled and labelled == sorted(labelled) and labelled[-1] > 0,
            f"predictions labelled: {labelled}")
    accuracy = [(phase, overall_accuracy(s)) for phase, s in view]
    before = [a for phase, a in accuracy
              if phase == "normal" and a is not None]
    h.check(before, f"no accuracy shown during normal traffic:\n{out}")
    end = accuracy[-1][1]
    h.check(end is not None, f"no accuracy at the end:\n{out}")
    h.check(before[-1] >= 0.85 and end <= before[-1] - 0.15,
            f"accuracy {before[-1]} on normal traffic, {end} at the end")
    h.check('prediction_expected_accuracy{model="iris-demo"}' in last,
            f"no expected accuracy at the end: {sorted(last)}")
    h.check(re.search(r"accuracy over the last labelled predictions: "
                      r"[0-9.]+ before the shift, [0-9.]+ at the end", out),
            f"no accuracy in the summary:\n{out}")
    h.check("driftd stopped cleanly" in out, out)


def test_demo_refuses_a_missing_driftd():
    p = h.run([RUN, "/nonexistent/driftd"], timeout=30)
    h.check_eq(p.returncode, 2, "exit status")
    h.check(b"usage:" in p.stderr, p.stderr)


h.main(globals())
