"""The manual pages are lint-clean and, with etc/driftd.conf, document
exactly the keys the configuration table has."""

import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

MAN = os.path.join(h.SRCDIR, "man")
EXAMPLE = os.path.join(h.SRCDIR, "etc", "driftd.conf")


def table_keys():
    """Every key in the configuration table, as --check-config prints them
    (it prints every key, defaulted or not)."""
    with h.Daemon("") as d:
        p = h.run([h.DRIFTD, "--check-config", "-c", d.conf_path])
    h.check_eq(p.returncode, 0, f"--check-config on an empty file: {p.stderr}")
    keys, section = set(), None
    for line in p.stdout.decode().splitlines():
        m = re.match(r"^\[(.*)\]$", line)
        if m:
            section = m.group(1)
            continue
        # Unset repeatable keys print as ";key = ".
        m = re.match(r"^;?(\w+) = ", line)
        if m:
            keys.add((section, m.group(1)))
    h.check(len(keys) > 0, "no keys found")
    return keys


def manpage_keys():
    """Keys documented in driftd.conf(5): '.It Cm key' items under a
    '.Ss [section]' heading."""
    keys, section = set(), None
    with open(os.path.join(MAN, "driftd.conf.5")) as f:
        for line in f:
            m = re.match(r'^\.Ss "?\[(\w+)\]"?', line)
            if m:
                section = m.group(1)
                continue
            if line.startswith(".Sh "):
                section = None
            if line.startswith(".It ") and section:
                # ".It Cm key Ns = ..." (possibly two keys on one item)
                for k in re.findall(r"Cm (\w+) Ns =", line):
                    keys.add((section, k))
    return keys


def example_keys():
    """Keys in etc/driftd.conf, set or commented out as ';key = ...'."""
    keys, section = set(), None
    with open(EXAMPLE) as f:
        for line in f:
            m = re.match(r"^;?\s*\[([^\]]+)\]", line)
            if m:
                # [feature PATH] sections hold per-column overrides,
                # documented apart from the table's keys.
                section = m.group(1) if re.fullmatch(r"\w+", m.group(1)) \
                    else None
                continue
            m = re.match(r"^;?\s*(\w+)\s*=", line)
            if m and section:
                keys.add((section, m.group(1)))
    return keys


def test_mandoc_lint():
    h.check(h.MANDOC, "mandoc not found; install Debian's mandoc")
    for page in ("driftd.8", "driftd.conf.5"):
        p = subprocess.run([h.MANDOC, "-T", "lint", "-W", "warning",
                            os.path.join(MAN, page)],
                           capture_output=True, timeout=30)
        out = (p.stdout + p.stderr).decode()
        h.check(p.returncode == 0 and out.strip() == "",
                f"mandoc -T lint {page}:\n{out}")


def test_manpage_documents_every_key():
    code, doc = table_keys(), manpage_keys()
    h.check_eq(sorted(code - doc), [], "keys missing from driftd.conf.5")
    h.check_eq(sorted(doc - code), [], "keys in driftd.conf.5 but not in code")


def test_example_config_shows_every_key():
    code, ex = table_keys(), example_keys()
    h.check_eq(sorted(code - ex), [], "keys missing from etc/driftd.conf")
    h.check_eq(sorted(ex - code), [], "keys in etc/driftd.conf but not in code")


def test_manpage_mentions_every_option():
    with open(os.path.join(MAN, "driftd.8")) as f:
        page = f.read()
    out = h.run([h.DRIFTD, "--help"]).stdout.decode()
    for opt in sorted(set(re.findall(r"--([a-z][a-z-]+)", out))):
        h.check(("Fl -" + opt) in page or ("Fl \\-" + opt) in page,
                f"driftd.8 does not document --{opt}")


h.main(globals())
