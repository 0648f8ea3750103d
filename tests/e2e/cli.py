"""Command line: --version, --help, usage errors, --check-config."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

EXAMPLE = os.path.join(h.SRCDIR, "etc", "driftd.conf")


def test_version():
    p = h.run([h.DRIFTD, "--version"])
    h.check_eq(p.returncode, 0, "exit status")
    h.check(p.stdout.decode().startswith("driftd "), p.stdout)


def test_help():
    p = h.run([h.DRIFTD, "--help"])
    h.check_eq(p.returncode, 0, "exit status")
    out = p.stdout.decode()
    for opt in ("-c", "--listen", "--state-dir", "--check-config", "-v"):
        h.check(opt in out, f"--help does not mention {opt}")


def test_unknown_option_is_usage_error():
    p = h.run([h.DRIFTD, "--no-such-option"])
    h.check_eq(p.returncode, 2, "exit status")
    h.check(b"usage:" in p.stderr, p.stderr)


def test_stray_argument_is_usage_error():
    p = h.run([h.DRIFTD, "stray"])
    h.check_eq(p.returncode, 2, "exit status")


def test_example_config_passes_check():
    p = h.run([h.DRIFTD, "--check-config", "-c", EXAMPLE])
    h.check_eq(p.returncode, 0, f"exit status ({p.stderr.decode()})")
    out = p.stdout.decode()
    h.check("[global]" in out and "listen = " in out, out)
    h.sanitizer_clean(p.stderr.decode())


def test_check_config_prints_resolved_values():
    with h.Daemon("[global]\nlog_level = debug\n") as d:
        p = h.run([h.DRIFTD, "--check-config", "-c", d.conf_path])
        h.check_eq(p.returncode, 0, "exit status")
        out = p.stdout.decode()
        h.check("log_level = debug" in out, out)
        # Defaults are printed too, so the output is the whole truth.
        h.check("listen = 127.0.0.1:9847" in out, out)


def test_missing_config_file():
    p = h.run([h.DRIFTD, "--check-config", "-c", "/nonexistent/x.conf"])
    h.check_eq(p.returncode, 2, "exit status")
    h.check(b"/nonexistent/x.conf: " in p.stderr, p.stderr)


h.main(globals())
