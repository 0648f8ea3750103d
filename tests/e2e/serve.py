"""The daemon serves /metrics and its health endpoints, speaks HTTP/1.1
correctly, survives bad clients, reloads on SIGHUP and exits cleanly."""

import os
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402


def test_metrics_scrape_passes_promtool():
    with h.Daemon("[global]\n") as d:
        d.start()
        status, headers, body = d.request("/metrics")
        h.check_eq(status, 200, "status")
        h.check(headers["Content-Type"].startswith("text/plain; version=0.0.4"),
                headers)
        text = body.decode()
        h.promtool_check(text)
        s = h.parse_metrics(text)
        version = h.run([h.DRIFTD, "--version"]).stdout.decode().split()[1]
        h.check_eq(h.sample(s, "driftd_build_info", version=version), 1.0,
                   "driftd_build_info")
        h.check_eq(h.sample(s, "driftd_config_last_reload_successful"), 1.0,
                   "reload gauge")
        d.stop()


def test_process_metrics_are_plausible():
    with h.Daemon("[global]\n") as d:
        d.start()
        s = h.parse_metrics(d.metrics())
        now = time.time()
        start = h.sample(s, "process_start_time_seconds")
        h.check(start is not None and now - 120 < start <= now + 1,
                f"start time {start} vs now {now}")
        h.check(h.sample(s, "process_resident_memory_bytes") > 1e5, "rss")
        h.check(h.sample(s, "process_virtual_memory_bytes") >=
                h.sample(s, "process_resident_memory_bytes"), "vsize")
        fds = h.sample(s, "process_open_fds")
        h.check(fds is not None and 3 <= fds < 64, f"open fds {fds}")
        h.check(h.sample(s, "process_max_fds") >= fds, "max fds")
        h.check(h.sample(s, "process_cpu_seconds_total") >= 0, "cpu")
        d.stop()


def test_health_and_readiness():
    with h.Daemon("[global]\n") as d:
        d.start()
        h.check_eq(d.request("/-/healthy")[0], 200, "/-/healthy")
        h.check_eq(d.request("/-/ready")[0], 200, "/-/ready")
        d.stop()


def test_head_404_405():
    with h.Daemon("[global]\n") as d:
        d.start()
        status, headers, body = d.request("/metrics", method="HEAD")
        h.check_eq(status, 200, "HEAD status")
        h.check_eq(body, b"", "HEAD body")
        h.check(int(headers["Content-Length"]) > 100, headers)
        h.check_eq(d.request("/nope")[0], 404, "unknown path")
        h.check_eq(d.request("/metrics?x=1")[0], 200, "query string")
        status, headers, _ = d.request("/metrics", method="POST")
        h.check_eq(status, 405, "POST status")
        h.check_eq(headers.get("Allow"), "GET, HEAD", "Allow header")
        d.stop()


def test_keepalive_and_pipelining():
    with h.Daemon("[global]\n") as d:
        d.start()
        req = b"GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\n"
        last = b"GET /-/ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        out = h.raw_request(d.port, req * 5 + last)
        h.check_eq(out.count(b"HTTP/1.1 200 OK\r\n"), 6, f"responses in {out!r}")
        h.check(out.endswith(b"driftd is ready.\n"), out[-200:])
        # Keep-alive: two requests on one connection, answered in turn.
        s = socket.create_connection(("127.0.0.1", d.port), timeout=5)
        for _ in range(2):
            s.sendall(req)
            got = b""
            while b"healthy.\n" not in got:
                chunk = s.recv(4096)
                h.check(chunk, "connection closed early")
                got += chunk
        s.close()
        d.stop()


def test_bad_requests():
    with h.Daemon("[global]\n") as d:
        d.start()
        out = h.raw_request(d.port, b"NONSENSE\r\n\r\n")
        h.check(out.startswith(b"HTTP/1.1 400 "), out)
        big = b"GET /metrics HTTP/1.1\r\nX-Big: " + b"a" * 65536 + b"\r\n\r\n"
        out = h.raw_request(d.port, big)
        h.check(out.startswith(b"HTTP/1.1 431 "), out[:100])
        body = b"POST /metrics HTTP/1.1\r\nContent-Length: 100000\r\n\r\n"
        out = h.raw_request(d.port, body + b"x" * 100000)
        h.check(out.startswith(b"HTTP/1.1 405 ") or
                out.startswith(b"HTTP/1.1 413 "), out[:100])
        # The daemon still answers normally afterwards.
        h.check_eq(d.request("/-/healthy")[0], 200, "after bad requests")
        d.stop()


def test_connection_cap_keeps_scrapes_working():
    with h.Daemon("[global]\n") as d:
        d.start()
        idle = []
        for _ in range(300):
            idle.append(socket.create_connection(("127.0.0.1", d.port)))
        t0 = time.monotonic()
        h.check_eq(d.request("/metrics", timeout=5)[0], 200, "scrape")
        h.check(time.monotonic() - t0 < 5, "scrape took too long")
        for s in idle:
            s.close()
        d.stop()


def test_sigterm_and_sigint_exit_zero():
    for sig in (signal.SIGTERM, signal.SIGINT):
        with h.Daemon("[global]\n") as d:
            d.start()
            # An open keep-alive connection must not keep the loop alive.
            s = socket.create_connection(("127.0.0.1", d.port))
            s.sendall(b"GET /-/healthy HTTP/1.1\r\n\r\n")
            s.recv(4096)
            err = d.stop(sig)
            h.check("shutting down" in err, err)
            s.close()


def test_sighup_reload():
    with h.Daemon("[global]\nlog_level = info\n") as d:
        d.start()
        d.write_config("[global]\nlog_level = debug\n")
        d.send_signal(signal.SIGHUP)
        d.wait_log("configuration reloaded")
        s = h.parse_metrics(d.metrics())
        h.check_eq(h.sample(s, "driftd_config_last_reload_successful"), 1.0,
                   "after good reload")
        d.write_config("[global]\nlog_level = shouty\n")
        d.send_signal(signal.SIGHUP)
        d.wait_log("previous configuration stays in force")
        h.check(f"{d.conf_path}:2: " in d.stderr(), d.stderr())
        s = h.parse_metrics(d.metrics())
        h.check_eq(h.sample(s, "driftd_config_last_reload_successful"), 0.0,
                   "after bad reload")
        h.check_eq(d.request("/-/healthy")[0], 200, "still serving")
        d.stop()


def test_port_in_use_is_runtime_error():
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen(1)
    port = blocker.getsockname()[1]
    with h.Daemon("[global]\n", listen=f"127.0.0.1:{port}") as d:
        d.start(wait=False)
        d.proc.wait(timeout=10)
        err = d.stop(expect=1)
        h.check("cannot listen" in err, err)
    blocker.close()


h.main(globals())
