"""Hostile and broken clients delay nothing but themselves: a 64 KiB
header, 500 idle connections, a slowloris, malformed request lines and a
client that never reads its responses leave the daemon up, its memory
bounded, and a normal scrape answered within a second."""

import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402


def timed_scrape(d):
    """A scrape is answered while the abuse goes on.  Not a timing test:
    the bound is the request's timeout, long enough for a SYN dropped by
    a full listen queue on a loaded machine to be sent again."""
    status, _, body = d.request("/metrics", timeout=5)
    h.check_eq(status, 200, "scrape status")
    return body


def rss(d):
    return d.sample("process_resident_memory_bytes")


def test_big_header_and_malformed_lines():
    with h.Daemon("[global]\n") as d:
        d.start()
        out = h.raw_request(d.port, b"GET /metrics HTTP/1.1\r\nX: " +
                            b"a" * 65536 + b"\r\n\r\n")
        h.check(out.startswith(b"HTTP/1.1 431 "), out[:60])
        for bad in (b"GET\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n",
                    b"\x00\x01\x02\r\n\r\n", b"GET /a b c HTTP/1.1\r\n\r\n",
                    b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
                    b"GET / HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
                    b"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"):
            out = h.raw_request(d.port, bad)
            h.check(out.startswith(b"HTTP/1.1 4") or
                    out.startswith(b"HTTP/1.1 505 "), f"{bad!r} -> {out[:40]!r}")
            h.check(b"Connection: close" in out, f"{bad!r} closes")
        timed_scrape(d)
        d.stop()


def test_500_idle_connections():
    with h.Daemon("[global]\n") as d:
        d.start()
        before = rss(d)
        idle = [socket.create_connection(("127.0.0.1", d.port))
                for _ in range(500)]
        try:
            timed_scrape(d)
            h.check(rss(d) < before + 32 * 2**20, "memory bounded")
        finally:
            for s in idle:
                s.close()
        d.stop()


def test_slowloris_delays_only_itself():
    with h.Daemon("[global]\n") as d:
        d.start()
        stop = threading.Event()
        closed = []

        def loris():
            s = socket.create_connection(("127.0.0.1", d.port))
            s.settimeout(0.2)
            try:
                for b in b"GET /metrics HTTP/1.1\r\nX-A: " + b"b" * 200:
                    if stop.is_set():
                        break
                    s.sendall(bytes([b]))
                    try:
                        if s.recv(1) == b"":
                            closed.append(time.monotonic())
                            break
                    except socket.timeout:
                        pass
            except OSError:
                closed.append(time.monotonic())
            finally:
                s.close()

        threads = [threading.Thread(target=loris) for _ in range(20)]
        for t in threads:
            t.start()
        try:
            for _ in range(5):
                timed_scrape(d)
            # The head deadline (10 s from the first byte) ends them.
            h.wait_for(lambda: len(closed) == 20, timeout=15,
                       what="slow clients to be cut off", interval=0.1)
        finally:
            stop.set()
            for t in threads:
                t.join()
        d.stop()


def test_client_that_never_reads():
    with h.Daemon("[global]\n") as d:
        d.start()
        before = rss(d)
        hogs = []
        for _ in range(10):
            s = socket.create_connection(("127.0.0.1", d.port))
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.setblocking(False)
            req = b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n" * 2000
            try:
                s.sendall(req)
            except BlockingIOError:
                pass
            hogs.append(s)
        try:
            for _ in range(3):
                timed_scrape(d)
            # One response at a time per connection: memory stays put.
            h.check(rss(d) < before + 32 * 2**20,
                    f"rss grew from {before} to {rss(d)}")
        finally:
            for s in hogs:
                s.close()
        timed_scrape(d)
        d.stop()


h.main(globals())
