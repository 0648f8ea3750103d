"""Shared helpers for driftd's end-to-end tests.

Each test file is a script that the automake test driver runs on its own.
It defines test_* functions and ends with ``harness.main(globals())``,
which runs them in order, reports each, and exits non-zero on any failure.
Every wait has a deadline; nothing sleeps for a fixed time and hopes.
"""

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

DRIFTD = os.environ.get("DRIFTD", "src/driftd")
SRCDIR = os.environ.get("SRCDIR", ".")
PROMTOOL = os.environ.get("PROMTOOL", "")
MANDOC = os.environ.get("MANDOC", "")

# Whole-file time limit: a hung test fails instead of hanging CI.
FILE_TIMEOUT = int(os.environ.get("DRIFTD_TEST_TIMEOUT", "300"))

SANITIZER_MARKERS = (
    "ERROR: AddressSanitizer",
    "ERROR: LeakSanitizer",
    "runtime error:",
    "SUMMARY: UndefinedBehaviorSanitizer",
)


class Skip(Exception):
    """A test that cannot run here because a tool is not installed: TAP's
    "# SKIP"."""


class TestFailure(AssertionError):
    pass


def check(cond, msg):
    if not cond:
        raise TestFailure(msg)


def check_eq(got, want, what="value"):
    if got != want:
        raise TestFailure(f"{what}: got {got!r}, want {want!r}")


def wait_for(cond, timeout=10.0, what="condition", interval=0.01):
    """Poll cond() until it returns a true value or the deadline passes."""
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TestFailure(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def run(args, input=None, timeout=30, env=None):
    """Run driftd (or another program) to completion."""
    return subprocess.run(args, input=input, capture_output=True,
                          timeout=timeout, env=env)


def check_config(path, text, want, what, line=None):
    """Write `text` to `path` and run --check-config on it: exit 0 when
    `want` is None, else exit 2 with a message naming the file and a line
    (`line` if given) and saying `want`."""
    with open(path, "w") as f:
        f.write(text)
    p = run([DRIFTD, "--check-config", "-c", path])
    err = p.stderr.decode()
    if want is None:
        check_eq(p.returncode, 0, f"{what}: {err}")
        return
    check_eq(p.returncode, 2, f"{what}: {err}")
    where = re.escape(f"{path}:") + (str(line) if line else r"\d+") + ":"
    check(re.search(where, err) is not None and want in err,
          f"{what}: {err!r} names FILE:LINE and says {want!r}")


def sanitizer_clean(text, what="stderr"):
    for m in SANITIZER_MARKERS:
        check(m not in text, f"sanitizer report in {what}:\n{text}")


class Daemon:
    """A driftd process with its own configuration in a temporary directory."""

    def __init__(self, config="", args=(), tmpdir=None, listen="127.0.0.1:0",
                 env=None, preexec_fn=None):
        self._tmp = None
        if tmpdir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="driftd-e2e-")
            tmpdir = self._tmp.name
        self.dir = tmpdir
        self.conf_path = os.path.join(tmpdir, "driftd.conf")
        self.write_config(config)
        self.args = list(args)
        self.listen = listen
        self.env = env
        self.preexec_fn = preexec_fn
        self.proc = None
        self.port = None
        self.stderr_path = os.path.join(tmpdir, "stderr.log")

    def write_config(self, text):
        with open(self.conf_path, "w") as f:
            f.write(text)

    def start(self, wait=True):
        self._stderr = open(self.stderr_path, "wb")
        cmd = [DRIFTD, "-c", self.conf_path]
        if self.listen is not None:
            cmd += ["--listen", self.listen]
        cmd += self.args
        env = None
        if self.env is not None:
            env = dict(os.environ)
            env.update(self.env)
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE,
                                     stderr=self._stderr, env=env,
                                     preexec_fn=self.preexec_fn)
        if wait:
            wait_for(lambda: self._listening() or self.proc.poll() is not None,
                     what="driftd to listen")
            m = self._listening()
            check(m is not None and self.proc.poll() is None,
                  f"driftd exited with {self.proc.returncode}:\n{self.stderr()}")
            self.port = int(m.group(1))
        return self

    def _listening(self):
        return re.search(r"listening on \S+ \(port (\d+)\)", self.stderr())

    def stderr(self):
        with open(self.stderr_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def wait_log(self, pattern, timeout=10.0):
        return wait_for(lambda: re.search(pattern, self.stderr()),
                        timeout=timeout, what=f"log line /{pattern}/")

    def request(self, path, method="GET", headers=None, timeout=5.0):
        conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                          timeout=timeout)
        try:
            conn.request(method, path, headers=headers or {})
            resp = conn.getresponse()
            body = resp.read()
            return resp.status, dict(resp.getheaders()), body
        finally:
            conn.close()

    def metrics(self):
        status, headers, body = self.request("/metrics")
        check_eq(status, 200, "/metrics status")
        return body.decode("utf-8")

    def sample(self, name, **labels):
        """The current value of one series, or None when absent."""
        return sample(parse_metrics(self.metrics()), name, **labels)

    def wait_sample(self, name, want, timeout=10.0, **labels):
        """Wait until a series reaches `want`; fail at once if it passes it
        (counters only grow, so overshooting means double counting)."""
        last = [None]

        def reached():
            v = self.sample(name, **labels)
            last[0] = v
            if v is not None and v > want:
                raise TestFailure(f"{name}{labels} = {v}, more than {want}")
            return v == want
        try:
            wait_for(reached, timeout=timeout, what=f"{name}{labels} == {want}",
                     interval=0.02)
        except TestFailure as e:
            raise TestFailure(f"{e} (last value {last[0]})") from None

    def send_signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, sig=signal.SIGTERM, expect=0, timeout=20.0):
        """Signal driftd, wait for it to exit, and check how it went."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise TestFailure(f"driftd did not exit within {timeout}s "
                              f"after signal {sig}")
        self._stderr.close()
        err = self.stderr()
        sanitizer_clean(err)
        if expect is not None:
            check_eq(self.proc.returncode, expect,
                     f"exit status (stderr:\n{err})")
        return err

    def close(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self._tmp is not None:
            self._tmp.cleanup()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def rss_kib(pid):
    """A process's resident memory (KiB)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def unescape_label(v):
    """Undo the exposition format's \\, \" and \n escapes."""
    return re.sub(r'\\(.)', lambda m: {"n": "\n"}.get(m.group(1), m.group(1)),
                  v)


def parse_metrics(text):
    """Parse the text format into {(name, frozenset(labels)): value}."""
    samples = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$', line)
        check(m is not None, f"unparseable sample line: {line!r}")
        labels = {}
        if m.group(3):
            for lm in re.finditer(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"',
                                  m.group(3)):
                labels[lm.group(1)] = unescape_label(lm.group(2))
        samples[(m.group(1), frozenset(labels.items()))] = float(m.group(4))
    return samples


def sample(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())))


def promtool_check(text):
    """Run `promtool check metrics` and fail on any complaint."""
    if not PROMTOOL:
        raise TestFailure("promtool not found; install Debian's prometheus")
    p = subprocess.run([PROMTOOL, "check", "metrics"], input=text.encode(),
                       capture_output=True, timeout=30)
    out = (p.stdout + p.stderr).decode()
    check(p.returncode == 0 and out.strip() == "",
          f"promtool check metrics failed ({p.returncode}):\n{out}")


def raw_request(port, data, timeout=5.0, read_until_close=True):
    """Send raw bytes and return everything read until close or timeout."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(data)
        chunks = []
        while True:
            try:
                b = s.recv(65536)
            except socket.timeout:
                break
            if not b:
                break
            chunks.append(b)
            if not read_until_close:
                break
        return b"".join(chunks)
    finally:
        s.close()


def main(namespace):
    """Run every test_* function in definition order, reporting in TAP so
    that the automake driver counts each one."""
    signal.alarm(FILE_TIMEOUT)
    only = os.environ.get("DRIFTD_TEST_ONLY")
    tests = [(n, f) for n, f in namespace.items()
             if n.startswith("test_") and callable(f)
             and (not only or only in n)]
    print(f"1..{len(tests)}", flush=True)
    failed = 0
    for i, (name, fn) in enumerate(tests, 1):
        t0 = time.monotonic()
        try:
            fn()
        except Skip as e:
            print(f"ok {i} - {name} # SKIP {e}")
        except Exception:
            failed += 1
            print(f"not ok {i} - {name} ({time.monotonic() - t0:.2f}s)")
            for line in traceback.format_exc().splitlines():
                print(f"# {line}")
        else:
            print(f"ok {i} - {name} ({time.monotonic() - t0:.2f}s)")
        sys.stdout.flush()
    sys.exit(1 if failed else 0)
