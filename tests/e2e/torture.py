"""Exactly-once under torture: a daemon that captures its reference from
the log, follows a file rotated by rename again and again, and is
restarted more than twenty times at random moments (SIGKILL or SIGTERM,
some just after a SIGHUP, some during the capture, some right after a
rotation, with the writer writing and rotating while it is down, and
with restarts faster than checkpoint_interval) ends with the same
reference and the same windows, to the last printed digit, as one
uninterrupted `driftd --once` pass over every line in the order written.
A few audits along the way (everything read, then compared with --once
over the lines written so far) catch records lost or read twice that the
final window, the last 300 records, would no longer show.

One thing is not asked of the daemon: while it runs, app.log is renamed
only once the daemon has noticed the previous rename (its rotation
counter caught up), since a writer rotating twice within one poll and
within one tick of the file system's clock leaves no way to tell the
order of the two files."""

import json
import os
import random
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

SEED = 20261203
LINES = 5000
RESTARTS = 24
CAPTURE = 200
WINDOW = 300
MODEL = "m"
COLUMNS = ("features.x", "features.c")
FIGURES = ("prediction_window_samples", "prediction_window_mean",
           "prediction_window_stddev", "prediction_drift_score",
           "prediction_drift_pvalue", "prediction_reference_samples")
P_ROTATE = 0.035          # per burst while the daemon runs
P_KILL_AFTER_ROTATION = 0.35
P_SIGKILL = 0.6
P_HUP = 0.3
P_ROTATE_WHILE_DOWN = 0.3  # per burst while the daemon is stopped
AUDIT_EVERY = 4           # restarts
P_PARTIAL = 0.15          # a burst ends in the middle of a line
CHECKPOINT_INTERVAL = "500ms"
CHECKPOINT_SECONDS = 0.5


def make_lines(seed):
    r = random.Random(seed)
    out = []
    for i in range(LINES):
        drifted = i >= LINES // 2
        out.append(json.dumps({
            "prediction": r.choice("ab"),
            "features": {"x": r.gauss(0.8 if drifted else 0.0, 1.0),
                         "c": r.choice("pqrss" if drifted else "pqrs")}})
                   + "\n")
    return out


def config(log, state=None):
    state_line = f"state_dir = {state}\n" if state else ""
    return (f"[global]\n{state_line}"
            f"checkpoint_interval = {CHECKPOINT_INTERVAL}\n"
            f"[input]\npath = {log}\nrotate_wait = 1s\npoll_interval = 100ms\n"
            f"[model]\nname = {MODEL}\nconfidence =\n"
            f"[features]\nfeatures.x = numeric\nfeatures.c = categorical\n"
            f"[reference]\ncapture = {CAPTURE}\n"
            f"[window]\nsize = {WINDOW}\nmin_samples = 50\n"
            f"evaluate_every = 200ms\n"
            f"[drift]\nnumeric = ks,psi,js,wasserstein\n"
            f"categorical = chi2,psi,js\n")


_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def figures(text):
    """The compared figures as printed (strings, so that equality is of
    the printed digits and NaN equals NaN)."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        h.check(m is not None, f"unparseable sample line: {line!r}")
        name, value = m.group(1), m.group(3)
        labels = dict(_LABEL.findall(m.group(2) or ""))
        if labels.get("model") != MODEL:
            continue
        if name in FIGURES and labels.get("column") in COLUMNS:
            out[(name, labels["column"], labels.get("test", ""))] = value
        elif name == "prediction_reference_info":
            out[(name, "sha256", "")] = labels.get("sha256")
    return out


def pause(rnd, lo, hi):
    """A random pause between events (not a wait for a condition)."""
    deadline = time.monotonic() + rnd.uniform(lo, hi)
    h.wait_for(lambda: time.monotonic() >= deadline, timeout=hi + 5,
               what="a pause", interval=0.005)


class Writer:
    """Appends the lines in order to app.log, in bursts that may end in the
    middle of a line, and rotates it by rename to app.log.N."""

    def __init__(self, log, lines, rnd):
        self.log = log
        self.lines = lines
        self.rnd = rnd
        self.written = 0       # complete lines
        self.partial = 0       # characters of lines[written] written
        self.in_file = 0       # complete lines in the current file
        self.rotations = 0
        open(self.log, "w").close()

    def done(self):
        return self.written >= len(self.lines)

    def _append(self, text):
        with open(self.log, "a") as f:
            f.write(text)

    def burst(self):
        if self.done():
            return 0
        # Small bursts while the reference is captured, so that restarts
        # fall inside the capture.
        if self.written < CAPTURE + 60:
            n = self.rnd.randint(1, 4)
        else:
            n = self.rnd.randint(2, 24)
        n = min(n, len(self.lines) - self.written)
        text = (self.lines[self.written][self.partial:] +
                "".join(self.lines[self.written + 1:self.written + n]))
        self.written += n
        self.partial = 0
        if not self.done() and self.rnd.random() < P_PARTIAL:
            nxt = self.lines[self.written]
            self.partial = self.rnd.randint(1, len(nxt) - 1)
            text += nxt[:self.partial]
        self._append(text)
        self.in_file += n
        return n

    def complete(self):
        """Finish a half-written line (a writer finishes its line before
        the file is rotated)."""
        if self.partial:
            self._append(self.lines[self.written][self.partial:])
            self.written += 1
            self.partial = 0
            self.in_file += 1

    def can_rotate(self):
        return self.partial == 0 and self.in_file > 0

    def rotate(self):
        self.rotations += 1
        os.rename(self.log, f"{self.log}.{self.rotations}")
        open(self.log, "w").close()
        self.in_file = 0


class Torture:
    def __init__(self, d, w, rnd):
        self.d = d
        self.w = w
        self.rnd = rnd
        self.runs = 0
        self.rot_base = 0      # this run's rotation counter at start-up
        self.rot_since = 0     # rotations made while this run was up
        self.stats = dict(restarts=0, kills=0, terms=0, hups=0,
                          in_capture=0, after_rotation=0, rotated_down=0,
                          two_down=0, audits=0, young_kills=0)
        self.events = []
        self.problems = []

    def metric(self, name, **labels):
        return self.d.sample(name, **labels)

    def start(self):
        self.runs += 1
        # A stderr file per run, for the post-mortem.
        self.d.stderr_path = os.path.join(self.d.dir,
                                          f"stderr.{self.runs}.log")
        self.d.start()
        self.started = time.monotonic()
        # Start-up's scan (and its look for files rotated while stopped)
        # is done before driftd says it listens.
        self.rot_base = self.metric("driftd_log_rotations_total",
                                    input=self.w.log) or 0
        self.rot_since = 0

    def seen(self):
        """The daemon has noticed every rotation made while it runs: the
        current app.log is one of its files."""
        return (self.metric("driftd_log_rotations_total", input=self.w.log)
                or 0) >= self.rot_base + self.rot_since

    def rotate_up(self):
        h.wait_for(self.seen, timeout=10, interval=0.02,
                   what=f"rotation {self.w.rotations} to be noticed")
        self.w.rotate()
        self.rot_since += 1
        self.events.append(f"rotate {self.w.rotations}")

    def up_period(self):
        # The first run dies young: before its first periodic checkpoint.
        up_for = self.rnd.uniform(0.1, 0.3 if self.runs == 1 else 1.5)
        nbursts = max(1, round(up_for / 0.05))
        for b in range(nbursts):
            pause(self.rnd, 0, 2 * up_for / nbursts)
            self.w.burst()
            if self.w.can_rotate() and self.rnd.random() < P_ROTATE:
                self.rotate_up()
                if b >= 2 and self.rnd.random() < P_KILL_AFTER_ROTATION:
                    return True
        return False

    def restart(self, after_rotation):
        sig = signal.SIGKILL if self.rnd.random() < P_SIGKILL or \
            self.runs == 1 else signal.SIGTERM
        hup = self.rnd.random() < P_HUP
        if hup:
            self.d.send_signal(signal.SIGHUP)
            pause(self.rnd, 0, 0.05)
        in_capture = self.w.written < CAPTURE
        young = time.monotonic() - self.started < CHECKPOINT_SECONDS
        self.d.stop(sig=sig, expect=-sig if sig == signal.SIGKILL else 0)
        self.stats["restarts"] += 1
        self.stats["kills" if sig == signal.SIGKILL else "terms"] += 1
        self.stats["young_kills"] += young and sig == signal.SIGKILL
        self.stats["hups"] += hup
        self.stats["in_capture"] += in_capture
        self.stats["after_rotation"] += after_rotation
        self.events.append(
            f"{'SIGHUP+' if hup else ''}{signal.Signals(sig).name} "
            f"at line {self.w.written}{'+' if self.w.partial else ''}"
            f"{' after a rotation' if after_rotation else ''}")
        # The writer goes on while the daemon is down, rotating too.
        rotated = 0
        for _ in range(self.rnd.randint(0, 6)):
            pause(self.rnd, 0.01, 0.08)
            self.w.burst()
            if self.w.can_rotate() and self.rnd.random() < P_ROTATE_WHILE_DOWN:
                self.w.rotate()
                rotated += 1
                self.events.append(f"rotate {self.w.rotations} (down)")
        self.stats["rotated_down"] += rotated
        self.stats["two_down"] += rotated >= 2
        self.start()
        if self.stats["restarts"] % AUDIT_EVERY == 0 and \
                self.w.written > CAPTURE:
            self.audit()

    def audit(self):
        """Stop writing, let the daemon read everything, and compare with
        --once over the complete lines written so far."""
        n = self.w.written
        want = min(WINDOW, max(0, n - CAPTURE))
        text = settled(self.d, self.w.log, want)
        once = run_once(self.d.dir, self.w.lines[:n])
        self.stats["audits"] += 1
        self.events.append(f"audit at line {n}")
        label = f"audit after restart {self.stats['restarts']} (line {n})"
        self.problems += compare(figures(text), once, label)


def settled(d, log, want):
    """Wait until everything is read, nothing more arrives, and two
    evaluations have run since, with `want` records in the window; return
    that scrape.  A daemon that settles on another count (records lost)
    is given 2s of standing still, then its scrape is returned as well,
    for the comparison to show."""
    st = {}

    def cond():
        text = d.metrics()
        s = h.parse_metrics(text)
        lag = h.sample(s, "driftd_log_lag_bytes", input=log)
        n = h.sample(s, "prediction_window_samples", model=MODEL,
                     column="features.x")
        rec = h.sample(s, "prediction_records_total", model=MODEL)
        t = h.sample(s, "prediction_drift_evaluation_timestamp_seconds",
                     model=MODEL)
        st["last"] = (lag, n, rec, t)
        if lag != 0:
            st.pop("base", None)
            return False
        base = st.get("base")
        if base is None or base["rec"] != rec:
            st["base"] = dict(rec=rec, t=t, since=time.monotonic(),
                              evals=set())
            return False
        if t is not None and (base["t"] is None or t > base["t"]):
            base["evals"].add(t)
        if n == want and len(base["evals"]) >= 2:
            return text
        return text if time.monotonic() - base["since"] >= 2.0 else False
    try:
        return h.wait_for(cond, timeout=30, interval=0.05,
                          what="everything read and evaluated")
    except h.TestFailure as e:
        raise h.TestFailure(f"{e}; last (lag, window samples, records, "
                            f"evaluation) = {st.get('last')}") from None


def run_once(tmpdir, lines):
    """The figures of one --once pass over `lines`, with the same
    configuration but no state_dir."""
    all_log = os.path.join(tmpdir, "all.log")
    with open(all_log, "w") as f:
        f.write("".join(lines))
    once_conf = os.path.join(tmpdir, "once.conf")
    with open(once_conf, "w") as f:
        f.write(config(os.path.join(tmpdir, "app.log")))
    p = subprocess.run([h.DRIFTD, "--once", "-c", once_conf, all_log],
                       capture_output=True, timeout=60)
    h.check_eq(p.returncode, 0, f"--once exit status ({p.stderr!r})")
    h.sanitizer_clean(p.stderr.decode("utf-8", "replace"), "--once stderr")
    return figures(p.stdout.decode())


def compare(got, once, label):
    return [f"  {label}: {k}: daemon {got.get(k)}, --once {once.get(k)}"
            for k in sorted(set(once) | set(got))
            if got.get(k) != once.get(k)]


def post_mortem(d, runs):
    """The warnings of every run, for the failure message."""
    out = []
    for i in range(1, runs + 1):
        p = os.path.join(d.dir, f"stderr.{i}.log")
        try:
            with open(p, "rb") as f:
                text = f.read().decode("utf-8", "replace")
        except OSError:
            continue
        for line in text.splitlines():
            if re.search(r" (warn|error): |captur|resuming", line):
                out.append(f"run {i}: {line.split(' ', 1)[-1]}")
    if len(out) > 80:
        out = out[:40] + [f"... {len(out) - 80} more ..."] + out[-40:]
    return "\n".join(out)


def test_restarts_rotations_and_capture_lose_nothing():
    rnd = random.Random(SEED)
    lines = make_lines(SEED + 1)
    t_begin = time.monotonic()
    with h.Daemon() as d:
        log = os.path.join(d.dir, "app.log")
        w = Writer(log, lines, rnd)
        d.write_config(config(log, os.path.join(d.dir, "state")))
        tt = Torture(d, w, rnd)
        tt.start()      # before the first line: start_at = end skips nothing
        while tt.stats["restarts"] < RESTARTS:
            tt.restart(tt.up_period())
        # The rest with the last run up, rotations included.
        while not w.done():
            pause(rnd, 0, 0.04)
            w.burst()
            if w.can_rotate() and rnd.random() < P_ROTATE:
                tt.rotate_up()
        h.check(w.partial == 0 and w.written == LINES, "all lines written")
        text = settled(d, log, WINDOW)
        d.stop()
        s = tt.stats
        summary = (f"torture: {s['restarts']} restarts ({s['kills']} SIGKILL, "
                   f"{s['young_kills']} of them within {CHECKPOINT_INTERVAL} "
                   f"of start, {s['terms']} SIGTERM, "
                   f"{s['hups']} after SIGHUP, "
                   f"{s['in_capture']} during the capture, "
                   f"{s['after_rotation']} right after a rotation), "
                   f"{w.rotations} rotations ({s['rotated_down']} while "
                   f"stopped), {w.written} records, {s['audits']} audits, "
                   f"{time.monotonic() - t_begin:.1f}s")
        print(summary, flush=True)
        # The plan covers what it is meant to (a fixed seed: a change to
        # the constants that loses a case shows here).
        h.check(s["restarts"] >= 20 and s["kills"] >= 5 and s["terms"] >= 5
                and s["hups"] >= 3 and s["in_capture"] >= 2
                and s["after_rotation"] >= 2 and s["rotated_down"] >= 3
                and s["two_down"] >= 1 and s["audits"] >= 3
                and s["young_kills"] >= 1
                and w.rotations >= 15 and 4000 <= w.written <= 6000,
                f"the plan lacks a case: {summary} {s}")

        # One uninterrupted pass over every line, in the order written.
        once = run_once(d.dir, lines)
        h.check(len(once) >= 15, f"figures to compare: {sorted(once)}")
        h.check_eq(once.get(("prediction_reference_samples", "features.x",
                             "")), str(CAPTURE), "--once reference samples")
        problems = tt.problems + compare(figures(text), once, "at the end")
        if problems:
            raise h.TestFailure(
                f"{len(problems)} figures differ from --once after "
                f"{summary}:\n" + "\n".join(problems)
                + "\nevents: " + "; ".join(tt.events)
                + "\nwarnings and resumptions:\n" + post_mortem(d, tt.runs))


h.main(globals())
