#!/usr/bin/python3
"""The demo's live view: scrape driftd every second and show the lines of
/metrics that tell the story, until the simulated model stops.

    watch.py port DRIFTD_STDERR PID
        Wait (at most 15 s) until driftd, process PID, logs the port it
        listens on and answers 200 on /-/ready; print the port.

    watch.py view PORT --phase FILE [--model NAME] [--timeout SECONDS]
        Every second, print the interesting samples of /metrics: records
        read, each column's drift score and decision, the dataset verdict,
        and the model's performance on the predictions labelled so far
        (how many, its accuracy and calibration error, and the accuracy
        its confidence promises), headed by the time and the traffic phase
        that model.py writes to FILE.  On a terminal the view redraws in
        place.  When the phase becomes "done", print a summary and exit: 0
        if drift was detected after the traffic changed (and not before),
        1 otherwise.

Only Python's standard library is used.
"""

import argparse
import os
import re
import signal
import sys
import time
import urllib.error
import urllib.request

# The families shown, in this order; for drift scores only the deciding
# test of the demo configuration.
SHOWN = [
    ("prediction_records_total", None),
    ("prediction_drift_score", 'test="psi"'),
    ("prediction_drift_detected", None),
    ("prediction_drifted_columns_ratio", None),
    ("prediction_dataset_drift_detected", None),
    ("prediction_labelled_total", None),
    ("prediction_label_pending", None),
    ("prediction_accuracy", None),
    ("prediction_expected_accuracy", None),
    ("prediction_calibration_error", None),
]

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$')


def fetch(url, timeout=2.0):
    """The body of a GET, or None when driftd does not answer (yet)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.read().decode("utf-8")
    except (OSError, urllib.error.URLError):
        return None


def wait_port(args):
    deadline = time.monotonic() + 15
    port = None
    while time.monotonic() < deadline:
        try:
            os.kill(args.pid, 0)
        except ProcessLookupError:
            break
        if port is None:
            with open(args.stderr, errors="replace") as f:
                m = re.search(r"listening on \S+ \(port (\d+)\)", f.read())
            port = m and int(m.group(1))
        if port is not None and fetch(
                f"http://127.0.0.1:{port}/-/ready") is not None:
            print(port)
            return 0
        time.sleep(0.05)
    with open(args.stderr, errors="replace") as f:
        sys.stderr.write(f.read())
    print("demo: driftd did not become ready", file=sys.stderr)
    return 1


def interesting(text, model):
    """The shown sample lines, in SHOWN order, and {(name, labels): value}."""
    lines, values = [], {}
    parsed = []
    for line in text.splitlines():
        m = SAMPLE.match(line)
        if m and f'model="{model}"' in (m.group(2) or ""):
            parsed.append((m.group(1), m.group(2) or "", float(m.group(3)),
                           line))
    for name, must in SHOWN:
        for fam, labels, value, line in parsed:
            if fam == name and (must is None or must in labels):
                lines.append(line)
                values[(fam, labels)] = value
    return lines, values


def overall(values, family):
    """The value of the model-wide series of a family (for
    prediction_accuracy the one with segment=""), or None."""
    for (fam, labels), v in values.items():
        if fam == family and 'segment="' not in labels.replace(
                'segment=""', ""):
            return v
    return None


def column(labels):
    m = re.search(r'column="((?:[^"\\]|\\.)*)"', labels)
    return m.group(1).replace('\\"', '"') if m else "?"


def view(args):
    url = f"http://127.0.0.1:{args.port}/metrics"
    tty = sys.stdout.isatty()
    t0 = time.monotonic()
    shifted_at = None          # when the model's traffic changed
    first_drift = None         # when the dataset drift first showed
    false_alarm = False        # drift while traffic was still normal
    columns_seen = set()
    accuracy_before = None     # over labels of normal traffic only
    last = {}
    phase = "starting"
    while True:
        now = time.monotonic() - t0
        if now > args.timeout:
            print(f"demo: gave up after {args.timeout:.0f} s", file=sys.stderr)
            return 1
        try:
            with open(args.phase) as f:
                phase = f.read().strip() or phase
        except FileNotFoundError:
            pass
        if phase == "drifted" and shifted_at is None:
            shifted_at = now
        text = fetch(url)
        if text is None:
            print("demo: driftd stopped answering", file=sys.stderr)
            return 1
        lines, last = interesting(text, args.model)
        dataset = last.get(("prediction_dataset_drift_detected",
                            f'{{model="{args.model}"}}'))
        if dataset == 1:
            if shifted_at is None:
                false_alarm = True
            elif first_drift is None:
                first_drift = now
        for (fam, labels), v in last.items():
            if fam == "prediction_drift_detected" and v == 1:
                columns_seen.add(column(labels))
        accuracy = overall(last, "prediction_accuracy")
        if phase == "normal" and accuracy is not None:
            accuracy_before = accuracy

        out = []
        if tty:
            out.append("\033[H\033[J")
        verdict = {None: "not evaluated yet", 0.0: "no drift",
                   1.0: "DRIFT"}.get(dataset, "?")
        out.append(f"--- t={now:4.1f}s  traffic: {phase:<8}  dataset: "
                   f"{verdict}\n")
        for line in lines:
            mark = ""
            if tty and line.startswith(("prediction_drift_detected",
                                        "prediction_dataset_drift_detected")) \
                    and line.endswith(" 1"):
                line, mark = "\033[1;31m" + line, "\033[0m"
            out.append(f"  {line}{mark}\n")
        sys.stdout.write("".join(out))
        sys.stdout.flush()
        if phase == "done":
            break
        time.sleep(max(0.0, 1.0 - (time.monotonic() - t0 - now)))

    print()
    print("summary:")
    if shifted_at is not None:
        print(f"  traffic shifted at t={shifted_at:.1f}s "
              f"(iris measurements, class mix and confidence changed)")
    if first_drift is not None:
        print(f"  dataset drift detected at t={first_drift:.1f}s, "
              f"{first_drift - shifted_at:.1f}s after the shift")
        print("  columns that drifted: " + ", ".join(sorted(columns_seen)))
    else:
        print("  dataset drift was NOT detected")
    if false_alarm:
        print("  drift was reported while the traffic was still normal")
    accuracy = overall(last, "prediction_accuracy")
    expected = overall(last, "prediction_expected_accuracy")
    labelled = overall(last, "prediction_labelled_total")
    if accuracy is not None:
        before = "" if accuracy_before is None else \
            f"{accuracy_before:.2f} before the shift, "
        print(f"  accuracy over the last labelled predictions: {before}"
              f"{accuracy:.2f} at the end ({labelled:.0f} labelled in all)")
        if expected is not None:
            print(f"  the confidence promised {expected:.2f} "
                  f"(prediction_expected_accuracy)")
    else:
        print("  no label was joined to its prediction")
    return 0 if first_drift is not None and not false_alarm else 1


def die_of_sigint():
    """End as killed by SIGINT, so that the shell running us knows Ctrl-C
    was pressed and stops too (a plain exit status would not tell it)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGINT)


def main():
    ap = argparse.ArgumentParser(description="the driftd demo's live view")
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("port", help="wait for driftd, print its port")
    p.add_argument("stderr")
    p.add_argument("pid", type=int)
    v = sub.add_parser("view", help="show the scrape every second")
    v.add_argument("port", type=int)
    v.add_argument("--phase", required=True)
    v.add_argument("--model", default="iris-demo")
    v.add_argument("--timeout", type=float, default=50)
    args = ap.parse_args()
    try:
        sys.exit(wait_port(args) if args.command == "port" else view(args))
    except KeyboardInterrupt:
        die_of_sigint()


if __name__ == "__main__":
    main()
