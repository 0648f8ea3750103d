"""systemd integration without systemd: driftd speaks the sd_notify
protocol to the socket in $NOTIFY_SOCKET — READY=1 with a STATUS= once it
serves, WATCHDOG=1 at half of $WATCHDOG_USEC, RELOADING=1 and READY=1
around a reload, STOPPING=1 at shutdown."""

import os
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402


class Listener:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.s.bind(path)
        self.s.settimeout(0.05)
        self.messages = []

    def drain(self):
        while True:
            try:
                self.messages.append(self.s.recv(4096).decode())
            except socket.timeout:
                return self.messages

    def wait(self, text, timeout=10):
        return h.wait_for(lambda: any(text in m for m in self.drain()),
                          timeout=timeout, what=f"notification {text!r}")


def test_ready_watchdog_reload_stop():
    with h.Daemon("[global]\n") as d:
        path = os.path.join(d.dir, "notify.sock")
        lis = Listener(path)
        d.env = {"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "200000",
                 "WATCHDOG_PID": ""}
        d.start()
        lis.wait("READY=1")
        ready = [m for m in lis.messages if "READY=1" in m][0]
        h.check("STATUS=following 0 input(s)" in ready, ready)
        # 200 ms watchdog: pings every 100 ms or so.
        n0 = sum("WATCHDOG=1" in m for m in lis.drain())
        deadline = time.monotonic() + 1.0
        h.wait_for(lambda: time.monotonic() > deadline, timeout=2,
                   what="a second", interval=0.1)
        n1 = sum("WATCHDOG=1" in m for m in lis.drain())
        h.check(n1 - n0 >= 5, f"{n1 - n0} watchdog pings in a second")
        lis.messages.clear()
        d.send_signal(signal.SIGHUP)
        lis.wait("READY=1")
        h.check(any("RELOADING=1" in m for m in lis.messages), lis.messages)
        d.stop()
        lis.wait("STOPPING=1")


def test_watchdog_for_another_pid_is_ignored():
    with h.Daemon("[global]\n") as d:
        path = os.path.join(d.dir, "notify.sock")
        lis = Listener(path)
        d.env = {"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "100000",
                 "WATCHDOG_PID": "1"}
        d.start()
        lis.wait("READY=1")
        deadline = time.monotonic() + 0.5
        h.wait_for(lambda: time.monotonic() > deadline, timeout=2,
                   what="half a second", interval=0.1)
        h.check(not any("WATCHDOG=1" in m for m in lis.drain()),
                "no pings for another process's watchdog")
        d.stop()


h.main(globals())
