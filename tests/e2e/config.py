"""Configuration errors name FILE:LINE and exit 2, for the daemon and
--check-config alike; the daemon does not start on a bad file."""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402


def expect_rejected(text, line, what):
    with h.Daemon(text) as d:
        for extra in (["--check-config"], ["--listen", "127.0.0.1:0"]):
            p = h.run([h.DRIFTD, "-c", d.conf_path] + extra, timeout=10)
            err = p.stderr.decode()
            h.check_eq(p.returncode, 2, f"exit status for {extra} ({err})")
            h.check(f"{d.conf_path}:{line}: " in err,
                    f"no {d.conf_path}:{line}: in {err!r}")
            h.check(re.search(what, err), f"/{what}/ not in {err!r}")
            h.check("listening" not in err, "daemon started anyway")
            h.sanitizer_clean(err)


def test_typo_in_key():
    expect_rejected("[global]\nlisten = :0\nlog_levle = info\n", 3,
                    r'unknown key "log_levle"')


def test_unknown_section():
    expect_rejected("[global]\n[gloabl]\nx = 1\n", 2, r"unknown section")


def test_bad_value():
    expect_rejected("[global]\n\nlog_level = verbose\n", 3, r"log_level")


def test_bad_listen():
    expect_rejected("[global]\nlisten = localhost\n", 2, r"listen")


def test_duplicate_key():
    expect_rejected("[global]\nlog_level = info\nlog_level = warn\n", 3,
                    r"already set on line 2")


def test_several_errors_all_reported():
    with h.Daemon("[global]\nfoo = 1\n\nbar = 2\n") as d:
        p = h.run([h.DRIFTD, "--check-config", "-c", d.conf_path])
        err = p.stderr.decode()
        h.check_eq(p.returncode, 2, "exit status")
        h.check(f"{d.conf_path}:2: " in err and f"{d.conf_path}:4: " in err,
                err)


def test_bad_listen_flag():
    with h.Daemon("") as d:
        p = h.run([h.DRIFTD, "-c", d.conf_path, "--listen", "nowhere"])
        h.check_eq(p.returncode, 2, "exit status")
        h.check(b"--listen" in p.stderr, p.stderr)


h.main(globals())
