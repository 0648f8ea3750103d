"""Following logs: every complete line is read exactly once through every
kind of rotation, partial writes, missing paths, globs, long lines and
restarts."""

import json
import os
import resource
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

MODEL = "m"


def config(paths, state_dir="", start_at="beginning", extra=""):
    inputs = "".join(f"path = {p}\n" for p in paths)
    return (f"[global]\nstate_dir = {state_dir}\ncheckpoint_interval = 200ms\n"
            f"[input]\n{inputs}start_at = {start_at}\n"
            f"poll_interval = 100ms\nrotate_wait = 1s\nmax_line_bytes = 1024\n"
            f"[model]\nname = {MODEL}\nlatency = latency_ms\n"
            f"[features]\nfeatures.x = numeric\n{extra}")


def line(i, cls="a"):
    return json.dumps({"prediction": cls, "confidence": 0.5,
                       "latency_ms": 1.0, "features": {"x": i}}) + "\n"


def append(path, n, start=0, cls="a"):
    with open(path, "a") as f:
        for i in range(start, start + n):
            f.write(line(i, cls))


def records(d):
    return d.sample("prediction_records_total", model=MODEL)


def wait_records(d, n, timeout=10.0):
    d.wait_sample("prediction_records_total", n, timeout=timeout, model=MODEL)


class Setup:
    """A daemon following one file in a temporary directory."""

    def __init__(self, start_at="beginning", state=False, name="app.log",
                 create=True, extra=""):
        self.d = h.Daemon()
        self.log = os.path.join(self.d.dir, name)
        self.state = os.path.join(self.d.dir, "state") if state else ""
        if create:
            open(self.log, "w").close()
        self.d.write_config(config([self.log], self.state, start_at, extra))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.d.close()


def test_start_at_end_skips_existing_lines():
    with Setup(start_at="end") as s:
        append(s.log, 10)
        s.d.start()
        append(s.log, 5, 10)
        wait_records(s.d, 5)
        s.d.stop()


def test_start_at_beginning_reads_existing_lines():
    with Setup(start_at="beginning") as s:
        append(s.log, 10)
        s.d.start()
        wait_records(s.d, 10)
        s.d.stop()


def test_partial_line_waits_for_newline():
    with Setup() as s:
        s.d.start()
        text = line(1)
        with open(s.log, "a") as f:
            f.write(text[:20])
            f.flush()
            # The half line is read (bytes count) but not consumed.
            h.wait_for(lambda: s.d.sample("driftd_log_bytes_total",
                                          input=s.log) == 20,
                       what="the half line to be read")
            h.check_eq(records(s.d), 0, "records before the newline")
            f.write(text[20:])
        wait_records(s.d, 1)
        h.check_eq(s.d.sample("driftd_log_errors_total", input=s.log,
                              reason="json"), 0, "json errors")
        s.d.stop()


def test_crlf_lines():
    with Setup() as s:
        s.d.start()
        with open(s.log, "a") as f:
            f.write(line(1).replace("\n", "\r\n") * 3)
        wait_records(s.d, 3)
        s.d.stop()


def test_rename_and_create():
    with Setup() as s:
        s.d.start()
        append(s.log, 100)
        wait_records(s.d, 100)
        os.rename(s.log, s.log + ".1")
        # The writer still has the old file open for a moment.
        append(s.log + ".1", 7, 100)
        append(s.log, 50, 200)
        wait_records(s.d, 157)
        h.check_eq(s.d.sample("driftd_log_rotations_total", input=s.log), 1,
                   "rotations")
        s.d.stop()


def test_rename_before_read_keeps_order():
    """Lines written just before the rename are read before the new file."""
    with Setup() as s:
        s.d.start()
        append(s.log, 10)
        wait_records(s.d, 10)
        s.d.send_signal(signal.SIGSTOP)
        append(s.log, 20, 10)
        os.rename(s.log, s.log + ".1")
        append(s.log, 30, 100)
        s.d.send_signal(signal.SIGCONT)
        wait_records(s.d, 60)
        s.d.stop()


def test_copytruncate():
    with Setup() as s:
        s.d.start()
        append(s.log, 40)
        wait_records(s.d, 40)
        with open(s.log, "rb") as src, open(s.log + ".1", "wb") as dst:
            dst.write(src.read())
        os.truncate(s.log, 0)
        h.wait_for(lambda: s.d.sample("driftd_log_rotations_total",
                                      input=s.log) == 1,
                   what="the truncation to be seen")
        append(s.log, 25, 100)
        wait_records(s.d, 65)
        s.d.stop()


def test_truncate_in_place_then_refill_past_old_offset():
    """': > file' followed at once by more data than before: the size
    never looks smaller, but the first bytes changed."""
    with Setup() as s:
        s.d.start()
        append(s.log, 5)
        wait_records(s.d, 5)
        s.d.send_signal(signal.SIGSTOP)
        with open(s.log, "w") as f:
            for i in range(20):
                f.write(line(1000 + i, cls="b"))
        s.d.send_signal(signal.SIGCONT)
        wait_records(s.d, 25)
        h.check_eq(s.d.sample("prediction_class_total", model=MODEL,
                              **{"class": "b"}), 20, "class b")
        s.d.stop()


def test_delete_and_recreate():
    with Setup() as s:
        s.d.start()
        append(s.log, 30)
        wait_records(s.d, 30)
        os.unlink(s.log)
        append(s.log, 12, 100)
        wait_records(s.d, 42)
        s.d.stop()


def test_deleted_file_closed_within_rotate_wait():
    with Setup() as s:
        s.d.start()
        append(s.log, 3)
        wait_records(s.d, 3)
        os.unlink(s.log)
        fd_dir = f"/proc/{s.d.proc.pid}/fd"

        def holds_deleted():
            for fd in os.listdir(fd_dir):
                try:
                    if os.readlink(os.path.join(fd_dir, fd)).endswith(
                            "(deleted)"):
                        return True
                except OSError:
                    pass
            return False
        h.check(holds_deleted(), "the deleted file should still be open "
                "right after deletion (rotate_wait = 1s)")
        # rotate_wait is 1s; poll_interval 100ms.
        h.wait_for(lambda: not holds_deleted(), timeout=5,
                   what="the deleted file to be closed")
        s.d.stop()


def test_symlink_switched():
    """Kubernetes exposes container logs as symlinks that are switched to a
    new file when the container restarts."""
    with Setup(create=False) as s:
        t1 = os.path.join(s.d.dir, "0.log")
        t2 = os.path.join(s.d.dir, "1.log")
        append(t1, 10)
        os.symlink(t1, s.log)
        s.d.start()
        wait_records(s.d, 10)
        append(t1, 5, 10)
        wait_records(s.d, 15)
        append(t2, 8, 100)
        tmp = s.log + ".tmp"
        os.symlink(t2, tmp)
        os.rename(tmp, s.log)
        wait_records(s.d, 23)
        append(t2, 2, 200)
        wait_records(s.d, 25)
        s.d.stop()


def test_path_that_does_not_exist_yet():
    with Setup(create=False, start_at="end") as s:
        s.d.start()
        s.d.wait_log("does not exist yet")
        # A file that appears later is read from its beginning.
        append(s.log, 9)
        wait_records(s.d, 9)
        s.d.stop()


def test_missing_directory_appears_later():
    with h.Daemon() as d:
        sub = os.path.join(d.dir, "later")
        log = os.path.join(sub, "p.log")
        d.write_config(config([log]))
        d.start()
        os.mkdir(sub)
        append(log, 4)
        wait_records(d, 4)
        d.stop()


def test_glob_picks_up_new_files():
    with h.Daemon() as d:
        pattern = os.path.join(d.dir, "pred-*.log")
        a = os.path.join(d.dir, "pred-a.log")
        b = os.path.join(d.dir, "pred-b.log")
        c = os.path.join(d.dir, "pred-c.log")
        append(a, 3)
        append(b, 4)
        d.write_config(config([pattern], start_at="beginning"))
        d.start()
        wait_records(d, 7)
        append(c, 5)
        wait_records(d, 12)
        append(a, 1, 50)
        wait_records(d, 13)
        h.check_eq(d.sample("driftd_log_lines_total", input=pattern), 13,
                   "lines of the glob input")
        d.stop()


def test_glob_rename_within_pattern_is_same_file():
    with h.Daemon() as d:
        pattern = os.path.join(d.dir, "app.log*")
        log = os.path.join(d.dir, "app.log")
        append(log, 6)
        d.write_config(config([pattern], start_at="beginning"))
        d.start()
        wait_records(d, 6)
        os.rename(log, log + ".1")
        append(log + ".1", 2, 10)
        append(log, 3, 20)
        wait_records(d, 11)
        d.stop()


def test_too_long_line_is_skipped_and_counted():
    with Setup() as s:
        s.d.start()
        with open(s.log, "a") as f:
            f.write(line(1))
            # 1024 is the limit; write a 5000-byte line in pieces.
            big = json.dumps({"prediction": "a", "pad": "x" * 5000}) + "\n"
            f.write(big[:3000])
            f.flush()
            h.wait_for(lambda: s.d.sample("driftd_log_errors_total",
                                          input=s.log, reason="too_long") == 1,
                       what="the long line to be counted")
            f.write(big[3000:])
            f.write(line(2))
        wait_records(s.d, 2)
        h.check_eq(s.d.sample("driftd_log_errors_total", input=s.log,
                              reason="too_long"), 1, "too_long")
        h.check_eq(s.d.sample("driftd_log_lines_total", input=s.log), 3,
                   "lines")
        s.d.stop()


def test_large_backlog_keeps_metrics_responsive():
    with Setup() as s:
        with open(s.log, "w") as f:
            chunk = "".join(line(i) for i in range(1000))
            for _ in range(200):
                f.write(chunk)
        s.d.start()
        # While 200k lines are being read, scrapes still answer.
        t0 = time.monotonic()
        status, _, _ = s.d.request("/-/healthy", timeout=2)
        h.check_eq(status, 200, "healthy during backlog")
        h.check(time.monotonic() - t0 < 2, "scrape during backlog too slow")
        wait_records(s.d, 200000, timeout=60)
        s.d.stop()


def test_sigterm_restart_resumes_exactly():
    with Setup(state=True) as s:
        s.d.start()
        append(s.log, 50)
        wait_records(s.d, 50)
        s.d.stop()
        append(s.log, 20, 50)      # written while driftd is down
        s.d.start()
        wait_records(s.d, 20)
        append(s.log, 5, 70)
        wait_records(s.d, 25)
        s.d.stop()


def test_kill9_restart_loses_nothing_since_checkpoint():
    with Setup(state=True) as s:
        s.d.start()
        append(s.log, 40)
        wait_records(s.d, 40)
        # Wait for a checkpoint taken after all 40 were processed.
        before = s.d.sample("driftd_checkpoints_total")
        h.wait_for(lambda: s.d.sample("driftd_checkpoints_total") >= before + 2,
                   what="a checkpoint")
        s.d.stop(sig=signal.SIGKILL, expect=-signal.SIGKILL)
        append(s.log, 10, 40)
        s.d.start()
        wait_records(s.d, 10)
        s.d.stop()


def rotations(d, log):
    return d.sample("driftd_log_rotations_total", input=log)


def wait_checkpoint(d):
    """Wait for a checkpoint taken after everything so far was read."""
    before = d.sample("driftd_checkpoints_total") or 0
    h.wait_for(lambda: (d.sample("driftd_checkpoints_total") or 0)
               >= before + 2, what="a checkpoint")


# start_at is for inputs driftd follows for the first time: with a
# checkpoint, a file that no saved position describes appeared while
# driftd was stopped, and every line of it is new.  Each of these runs
# with start_at = end (the default) and = beginning.

def rotated_while_stopped(start_at):
    with Setup(state=True, start_at=start_at) as s:
        s.d.start()
        append(s.log, 10)
        wait_records(s.d, 10)
        s.d.stop()
        append(s.log, 4, 10)        # the rest of the old file
        os.rename(s.log, s.log + ".1")
        append(s.log, 6, 100)       # the new file
        s.d.start()
        wait_records(s.d, 10)
        h.check_eq(rotations(s.d, s.log), 1, "rotations")
        append(s.log, 1, 200)
        wait_records(s.d, 11)
        s.d.stop()


def test_rotated_while_stopped_rest_is_read():
    rotated_while_stopped("beginning")


def test_rotated_while_stopped_rest_is_read_start_at_end():
    rotated_while_stopped("end")


def new_content_under_same_inode(start_at):
    """After a restart, a file with the saved inode but different first
    bytes is a new file, not the old one."""
    with Setup(state=True, start_at=start_at) as s:
        s.d.start()
        append(s.log, 10)
        wait_records(s.d, 10)
        s.d.stop()
        with open(s.log, "r+") as f:
            f.truncate(0)
            for i in range(15):
                f.write(line(i, cls="new"))
        s.d.start()
        wait_records(s.d, 15)
        h.check_eq(rotations(s.d, s.log), 1, "rotations")
        s.d.stop()


def test_new_content_under_same_inode_is_read_from_start():
    new_content_under_same_inode("beginning")


def test_new_content_under_same_inode_start_at_end():
    new_content_under_same_inode("end")


def test_deleted_and_recreated_while_stopped_start_at_end():
    with Setup(state=True, start_at="end") as s:
        s.d.start()
        append(s.log, 3)
        wait_records(s.d, 3)
        s.d.stop()
        os.unlink(s.log)
        append(s.log, 7, 100)
        s.d.start()
        wait_records(s.d, 7)
        h.check_eq(rotations(s.d, s.log), 1, "rotations")
        s.d.stop()


def test_path_created_while_stopped_start_at_end():
    """The checkpoint names the input even while its file does not exist."""
    with Setup(state=True, start_at="end", create=False) as s:
        s.d.start()
        wait_checkpoint(s.d)
        s.d.stop()
        append(s.log, 5)
        s.d.start()
        wait_records(s.d, 5)
        s.d.stop()


def test_glob_gains_file_while_stopped_start_at_end():
    with h.Daemon() as d:
        pattern = os.path.join(d.dir, "pred-*.log")
        a = os.path.join(d.dir, "pred-a.log")
        b = os.path.join(d.dir, "pred-b.log")
        append(a, 3)                # present at the first start: skipped
        d.write_config(config([pattern], os.path.join(d.dir, "state"),
                              start_at="end"))
        d.start()
        append(a, 1, 10)
        wait_records(d, 1)
        wait_checkpoint(d)
        d.stop()
        append(b, 4, 20)
        append(a, 2, 30)
        d.start()
        wait_records(d, 6)
        d.stop()


def test_input_added_to_config_follows_start_at():
    """An input the checkpoint does not name is followed for the first
    time: start_at = end skips what its file already holds."""
    with Setup(state=True, start_at="end") as s:
        other = os.path.join(s.d.dir, "other.log")
        s.d.start()
        append(s.log, 2)
        wait_records(s.d, 2)
        wait_checkpoint(s.d)
        s.d.stop()
        append(other, 9)
        append(s.log, 3, 10)
        s.d.write_config(config([s.log, other], s.state, "end"))
        s.d.start()
        wait_records(s.d, 3)
        append(other, 1, 50)
        wait_records(s.d, 4)
        h.check_eq(s.d.sample("driftd_log_lines_total", input=other), 1,
                   "lines of the added input")
        s.d.stop()


EVAL = "[window]\nevaluate_every = 100ms\n"


def window_samples(d):
    return d.sample("prediction_window_samples", model=MODEL,
                    column="features.x")


def reload_path_to_glob(start_at):
    """A reload that reaches the same file through another input resumes
    it by its identity: nothing read twice, a half-written line kept; the
    old input's series go, and a scrape after it works."""
    with h.Daemon() as d:
        os.mkdir(os.path.join(d.dir, "logs"))
        log = os.path.join(d.dir, "logs", "app.log")
        pattern = os.path.join(d.dir, "logs", "*.log")
        open(log, "w").close()
        d.write_config(config([log], start_at=start_at, extra=EVAL))
        d.start()
        append(log, 50)
        wait_records(d, 50)
        text = line(50)
        with open(log, "a") as f:
            f.write(text[:20])
            f.flush()
            h.wait_for(lambda: d.sample("driftd_log_bytes_total", input=log)
                       is None or
                       d.sample("driftd_log_bytes_total", input=log) > 0,
                       what="bytes read")
            d.write_config(config([pattern], start_at=start_at, extra=EVAL))
            d.send_signal(signal.SIGHUP)
            d.wait_log("configuration reloaded")
            f.write(text[20:])
        append(log, 4, 51)
        d.wait_sample("driftd_log_lines_total", 5, input=pattern)
        d.wait_sample("prediction_window_samples", 55, model=MODEL,
                      column="features.x")
        h.check(d.sample("driftd_log_lines_total", input=log) is None,
                "the removed input's series are gone")
        d.stop()


def test_reload_path_to_glob_reads_nothing_twice():
    reload_path_to_glob("beginning")


def test_reload_path_to_glob_reads_nothing_twice_start_at_end():
    reload_path_to_glob("end")


def test_reload_of_input_options_keeps_draining_a_deleted_file():
    """Only poll_interval changes: the follower keeps its files, so a
    deleted file still open for rotate_wait is read to its end."""
    with h.Daemon() as d:
        log = os.path.join(d.dir, "app.log")
        open(log, "w").close()
        d.write_config(config([log], start_at="end", extra=EVAL))
        d.start()
        text = line(1)
        with open(log, "a") as f:
            f.write(text[:20])
            f.flush()
            h.wait_for(lambda: (d.sample("driftd_log_bytes_total", input=log)
                                or 0) == 20, what="bytes read")
            os.unlink(log)
            d.write_config(config([log], start_at="end", extra=EVAL)
                           .replace("poll_interval = 100ms",
                                    "poll_interval = 200ms"))
            d.send_signal(signal.SIGHUP)
            d.wait_log("configuration reloaded")
            f.write(text[20:])
        d.wait_sample("prediction_window_samples", 1, model=MODEL,
                      column="features.x")
        d.stop()


def file_back_after_rotate_wait(kind):
    with h.Daemon() as d:
        base = os.path.join(d.dir, "logs")
        os.mkdir(base)
        log = os.path.join(base, "a.log")
        inp = os.path.join(base, "*.log") if kind == "glob" else log
        open(log, "w").close()
        d.write_config(config([inp], extra=EVAL).replace(
            "rotate_wait = 1s", "rotate_wait = 300ms"))
        d.start()
        append(log, 30)
        wait_records(d, 30)
        os.rename(log, log + ".hold")
        d.wait_log("done with it")
        os.rename(log + ".hold", log)
        append(log, 5, 30)
        d.wait_sample("driftd_log_lines_total", 35, input=inp)
        d.wait_sample("prediction_window_samples", 35, model=MODEL,
                      column="features.x")
        h.check_eq(d.sample("driftd_log_lines_total", input=inp), 35, "lines")
        d.stop()


def test_file_back_after_rotate_wait_is_not_read_twice():
    file_back_after_rotate_wait("plain")


def test_file_back_in_glob_after_rotate_wait_is_not_read_twice():
    file_back_after_rotate_wait("glob")


def test_rewrite_with_same_first_bytes_is_a_truncation():
    """Lines that all begin alike give a rewritten file the same
    fingerprint; a rewrite past the old position while driftd is not
    looking (stopped with SIGSTOP) is still seen as one."""
    pad = "p" * 300
    def long_line(i):
        return json.dumps({"pad": pad, "prediction": "a",
                           "features": {"x": i}}) + "\n"
    with Setup(extra=EVAL) as s:
        s.d.start()
        with open(s.log, "a") as f:
            for i in range(20):
                f.write(long_line(i))
        wait_records(s.d, 20)
        s.d.send_signal(signal.SIGSTOP)
        try:
            with open(s.log, "r+") as f:
                f.truncate(0)
                for i in range(40):
                    f.write(long_line(1000 + i) if i != 3 else
                            long_line(7) + "x" * 50)
        finally:
            s.d.send_signal(signal.SIGCONT)
        s.d.wait_sample("driftd_log_rotations_total", 1, input=s.log)
        wait_records(s.d, 59)
        s.d.stop()


def test_crlf_line_of_exactly_max_line_bytes_is_read():
    with Setup() as s:
        s.d.start()
        body = line(1).rstrip("\n")
        body = body[:-1] + " " * (1024 - len(body)) + "}"
        h.check_eq(len(body), 1024, "line length")
        with open(s.log, "a") as f:
            f.write(body + "\r\n")
            f.write(body + "x\r\n")          # one byte too long
        s.d.wait_sample("driftd_log_lines_total", 2, input=s.log)
        h.check_eq(records(s.d), 1, "records")
        h.check_eq(s.d.sample("driftd_log_errors_total", input=s.log,
                              reason="too_long"), 1, "too long")
        s.d.stop()


def test_rest_of_a_line_before_start_at_end_is_not_counted():
    with Setup(start_at="end") as s:
        with open(s.log, "a") as f:
            f.write(line(0) + line(1)[:10])
        s.d.start()
        s.d.wait_log("following from offset")
        with open(s.log, "a") as f:
            f.write(line(1)[10:] + line(2))
        wait_records(s.d, 1)
        h.check_eq(s.d.sample("driftd_log_lines_total", input=s.log), 1,
                   "lines")
        s.d.stop()


def test_fifo_in_glob_does_not_block_once():
    with h.Daemon() as d:
        a = os.path.join(d.dir, "a.log")
        fifo = os.path.join(d.dir, "b.log")
        append(a, 3)
        os.mkfifo(fifo)
        d.write_config(config([a]))
        r = h.run([h.DRIFTD, "--once", "-c", d.conf_path,
                   os.path.join(d.dir, "*.log")], timeout=20)
        h.check_eq(r.returncode, 0, "exit status")
        h.check(b'prediction_records_total{model="m"} 3' in r.stdout,
                r.stdout[-500:])
        h.check(b"not a regular file" in r.stderr, r.stderr)


def test_unreadable_file_is_reported_once_a_minute():
    """/proc/self/mem is a regular file whose read fails (EIO) at offset
    0: the daemon says so once, not at every poll."""
    with h.Daemon() as d:
        d.write_config(config(["/proc/self/mem"]))
        d.start()
        d.wait_log("read failed")
        time.sleep(1.5)                      # 15 polls
        h.check_eq(d.stderr().count("read failed"), 1, "warnings")
        d.stop()


def test_glob_of_more_files_than_descriptors_keeps_serving():
    """With 64 descriptors and 100 files matching, the follower takes half
    and says so once; scrapes keep working."""
    def limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
    with h.Daemon(preexec_fn=limit) as d:
        pattern = os.path.join(d.dir, "f*.log")
        for i in range(100):
            append(os.path.join(d.dir, f"f{i:03}.log"), 1, i)
        d.write_config(config([pattern]))
        d.start()
        d.wait_sample("driftd_log_lines_total", 32, input=pattern)
        for _ in range(20):
            st, _, _ = d.request("/-/healthy")
            h.check_eq(st, 200, "/-/healthy")
        h.check(h.sample(h.parse_metrics(d.metrics()),
                         "prediction_records_total", model=MODEL) == 32,
                "records of the files opened")
        h.check_eq(d.stderr().count("not opened"), 1, "warnings")
        d.stop()


def test_corrupt_checkpoint_is_set_aside():
    with Setup(state=True) as s:
        os.makedirs(s.state)
        with open(os.path.join(s.state, "driftd.state"), "wb") as f:
            f.write(b"DRIFTDST" + os.urandom(64))
        append(s.log, 3)
        s.d.start()
        wait_records(s.d, 3)
        h.check(any(n.startswith("driftd.state.corrupt-")
                    for n in os.listdir(s.state)), os.listdir(s.state))
        s.d.stop()


def test_unwritable_state_dir_is_counted():
    with Setup(state=True) as s:
        # A regular file where the directory should be: no checkpoint can
        # be written there, whoever runs the test.
        with open(s.state, "w") as f:
            f.write("not a directory")
        s.d.start()
        append(s.log, 2)
        wait_records(s.d, 2)
        h.wait_for(lambda: (s.d.sample("driftd_checkpoint_errors_total")
                            or 0) >= 1, what="a failed checkpoint")
        s.d.wait_log("cannot write checkpoint")
        h.check_eq(s.d.sample("driftd_checkpoints_total"), 0, "checkpoints")
        # Without its final checkpoint, a shutdown is a failure: a restart
        # would not resume where this one stopped.
        s.d.stop(expect=1)


def test_idle_log_costs_no_cpu():
    with Setup() as s:
        s.d.start()
        append(s.log, 5)
        wait_records(s.d, 5)

        def cpu_ticks():
            with open(f"/proc/{s.d.proc.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return int(fields[11]) + int(fields[12])
        t0 = cpu_ticks()
        deadline = time.monotonic() + 3
        # Watch, do not touch: a scrape would cost CPU itself.
        h.wait_for(lambda: time.monotonic() > deadline, timeout=5,
                   what="3 idle seconds", interval=0.5)
        used = cpu_ticks() - t0
        # 30 poll ticks of one stat() each: far below one clock tick each.
        h.check(used <= 5, f"{used} clock ticks of CPU in 3 idle seconds")
        s.d.stop()


h.main(globals())
