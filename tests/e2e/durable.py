"""No record lost or counted twice, whatever happens to the process: quick
restarts before the first periodic checkpoint, files rotated while driftd
is stopped, a reference capture interrupted or unsaved, copytruncate under
a glob that also matches the copy, and a damaged checkpoint."""

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

MODEL = "m"


def config(path, state, start_at="end", checkpoint="1h", capture=0,
           size=1000, extra=""):
    ref = f"[reference]\ncapture = {capture}\n" if capture else ""
    st = f"state_dir = {state}\n" if state else ""
    return (f"[global]\n{st}checkpoint_interval = {checkpoint}\n"
            f"[input]\npath = {path}\nstart_at = {start_at}\n"
            f"poll_interval = 50ms\nrotate_wait = 1s\n"
            f"[model]\nname = {MODEL}\nconfidence =\n"
            f"[features]\nfeatures.x = numeric\n{ref}"
            f"[window]\nsize = {size}\nmin_samples = 20\n"
            f"evaluate_every = 100ms\n"
            f"[drift]\nnumeric = ks,psi\n{extra}")


@contextlib.contextmanager
def daemon(make=config, suffix="", **kw):
    """A daemon following DIR/app.log (with `suffix`: a glob), created
    empty, with state in DIR/state and the configuration make() gives."""
    with h.Daemon() as d:
        log = os.path.join(d.dir, "app.log")
        state = os.path.join(d.dir, "state")
        open(log, "w").close()
        d.write_config(make(log + suffix, state, **kw))
        yield d, log, state


def line(i, x=None):
    return json.dumps({"prediction": "a",
                       "features": {"x": float(i if x is None else x)}}) + "\n"


def append(path, start, n, shift=0.0):
    with open(path, "a") as f:
        for i in range(start, start + n):
            f.write(line(i, i + shift))


def window(d):
    return d.sample("prediction_window_samples", model=MODEL,
                    column="features.x")


def wait_window(d, n, timeout=15.0):
    """Wait until the evaluated window holds n values (and fail at once if
    it holds more: records counted twice)."""
    d.wait_sample("prediction_window_samples", n, timeout=timeout,
                  model=MODEL, column="features.x")


def wait_read(d, log):
    h.wait_for(lambda: d.sample("driftd_log_lag_bytes", input=log) == 0,
               what="everything read")


def wait_checkpoint(d):
    before = d.sample("driftd_checkpoints_total") or 0
    h.wait_for(lambda: (d.sample("driftd_checkpoints_total") or 0)
               >= before + 2, what="a checkpoint")


def fresh_evaluation(d):
    t0 = d.sample("prediction_drift_evaluation_timestamp_seconds",
                  model=MODEL) or 0
    h.wait_for(lambda: (d.sample(
        "prediction_drift_evaluation_timestamp_seconds", model=MODEL) or 0)
        > t0, what="an evaluation")


def reference_sha(text):
    for (name, labels), _ in h.parse_metrics(text).items():
        if name == "prediction_reference_info":
            return dict(labels)["sha256"]
    return None


def once(d, conf_text, log):
    """driftd --once over `log` with `conf_text` (no state_dir)."""
    path = os.path.join(d.dir, "once.conf")
    with open(path, "w") as f:
        f.write(conf_text)
    p = subprocess.run([h.DRIFTD, "--once", "-c", path, log],
                       capture_output=True, timeout=60)
    h.check_eq(p.returncode, 0, p.stderr)
    return p.stdout.decode()


def window_mean(d):
    return d.sample("prediction_window_mean", model=MODEL, column="features.x")


# ----------------------------------------------------------- 1. restarts

def test_restarts_faster_than_checkpoint_interval_lose_nothing():
    """start_at = end and a daemon killed and restarted several times
    before its first periodic checkpoint: where it started is durable."""
    with h.Daemon() as d:
        log = os.path.join(d.dir, "app.log")
        state = os.path.join(d.dir, "state")
        with open(log, "w") as f:
            f.write(line(-1) * 5)        # before the first start: skipped
        d.write_config(config(log, state, checkpoint="1h"))
        d.start()
        written = 0
        for rnd in range(4):
            append(log, written, 150)
            written += 150
            time.sleep(0.05 * rnd)       # killed before, during, after reading
            d.stop(sig=signal.SIGKILL, expect=-signal.SIGKILL)
            d.start()
        wait_read(d, log)
        wait_window(d, 600)
        fresh_evaluation(d)
        h.check_eq(window_mean(d), sum(range(600)) / 600, "window mean")
        d.stop()


# ------------------------------------------- 2. rotated while stopped

def test_files_rotated_while_stopped_are_read_in_order():
    with daemon(size=850) as (d, log, state):
        d.start()
        append(log, 0, 1000)
        wait_read(d, log)
        wait_window(d, 850)
        d.stop()
        os.rename(log, log + ".1")
        append(log, 1000, 100)
        os.rename(log, log + ".2")
        append(log, 1100, 500)
        os.rename(log, log + ".3")
        append(log, 1600, 300)
        # An old rotation, compressed: never read.
        with open(log + ".4.gz", "w") as f:
            f.write(line(-5) * 10)
        d.start()
        d.wait_sample("prediction_records_total", 900, model=MODEL)
        wait_read(d, log)
        fresh_evaluation(d)
        fresh_evaluation(d)
        # The last 850 of 1900 records in the order written.
        h.check_eq(window(d), 850, "window")
        h.check_eq(window_mean(d), sum(range(1050, 1900)) / 850,
                   "window mean (records in write order)")
        h.check_eq(d.sample("driftd_log_rotations_total", input=log), 3,
                   "rotations")
        d.stop()


def test_rotations_faster_than_scans_are_all_read():
    """Files created and rotated away between two scans of the path."""
    with daemon(size=5000) as (d, log, state):
        d.start()
        append(log, 0, 10)
        d.wait_sample("prediction_records_total", 10, model=MODEL)
        d.send_signal(signal.SIGSTOP)
        n = 10
        for k in range(1, 6):
            append(log, n, 30)
            n += 30
            os.rename(log, f"{log}.{k}")
        append(log, n, 7)
        n += 7
        d.send_signal(signal.SIGCONT)
        d.wait_sample("prediction_records_total", n, model=MODEL)
        wait_read(d, log)
        wait_window(d, n)
        fresh_evaluation(d)
        h.check_eq(window_mean(d), sum(range(n)) / n, "window mean")
        d.stop()


def test_siblings_of_a_path_are_not_taken_for_its_rotations():
    """app.log.audit (another input), app.log.tmp: written since the path
    was last seen, but no rotation of app.log: never read as one."""
    with h.Daemon() as d:
        log = os.path.join(d.dir, "app.log")
        audit = log + ".audit"
        tmp = log + ".tmp"
        open(log, "w").close()
        open(audit, "w").close()
        d.write_config(config(log, os.path.join(d.dir, "state"),
                              start_at="beginning").replace(
            "[input]\n", f"[input]\npath = {audit}\n"))
        d.start()
        append(log, 0, 100)
        append(audit, 1000, 40)
        d.wait_sample("prediction_records_total", 140, model=MODEL)
        append(audit, 1040, 10)
        append(tmp, 5000, 7)
        os.rename(log, log + ".1")
        append(log, 100, 50)
        d.wait_sample("prediction_records_total", 200, model=MODEL)
        wait_read(d, log)
        fresh_evaluation(d)
        h.check_eq(d.sample("prediction_records_total", model=MODEL), 200,
                   "records")
        d.stop()


def test_file_gone_while_stopped_is_reported_with_bytes_lost():
    with daemon(checkpoint="100ms") as (d, log, state):
        d.start()
        append(log, 0, 10)
        partial = '{"prediction":"a","features":{"x":'
        with open(log, "a") as f:
            f.write(partial)             # a line still being written
        d.wait_sample("prediction_records_total", 10, model=MODEL)
        wait_read(d, log)
        wait_checkpoint(d)
        d.stop()
        os.unlink(log)
        append(log, 100, 5)
        d.start()
        d.wait_sample("prediction_records_total", 5, model=MODEL)
        h.check_eq(d.sample("driftd_log_lost_bytes_total", input=log),
                   len(partial), "bytes lost")
        err = d.stderr()
        # Gone, or its inode taken by the new file: said once, at error
        # level, with what is lost.
        h.check(f"lost (at least {len(partial)} bytes)" in err and
                err.count("unread lines are lost") == 1 and
                "error:" in err, err)
        d.stop()


# ---------------------------------------------------- 3. reference capture

def capture_conf(log, state, **kw):
    return config(log, state, start_at="beginning", capture=100, **kw)


def check_same_reference(d, log, text):
    """The daemon's reference is the first 100 records of the log."""
    mine = reference_sha(text)
    theirs = reference_sha(once(d, capture_conf(log, ""), log))
    h.check(mine is not None, "a reference is in force")
    h.check_eq(mine, theirs, "sha256 of the captured reference")


def test_kill_mid_capture_resumes_the_capture():
    with daemon(make=capture_conf, checkpoint="100ms") as (d, log, state):
        d.start()
        append(log, 0, 60)
        d.wait_sample("prediction_records_total", 60, model=MODEL)
        wait_checkpoint(d)
        d.stop(sig=signal.SIGKILL, expect=-signal.SIGKILL)
        append(log, 60, 40)
        append(log, 100, 200, shift=1000)    # drifted
        d.start()
        wait_read(d, log)
        wait_window(d, 200)
        fresh_evaluation(d)
        text = d.metrics()
        check_same_reference(d, log, text)
        h.check_eq(h.sample(h.parse_metrics(text), "prediction_drift_detected",
                            model=MODEL, column="features.x"), 1, "drift")
        d.stop()


def test_kill_right_after_capture_keeps_captured_records_out_of_window():
    with daemon(make=capture_conf, checkpoint="1h") as (d, log, state):
        d.start()
        append(log, 0, 180)
        d.wait_sample("prediction_records_total", 180, model=MODEL)
        d.wait_log("reference captured")
        d.stop(sig=signal.SIGKILL, expect=-signal.SIGKILL)
        d.start()
        wait_read(d, log)
        wait_window(d, 80)
        fresh_evaluation(d)
        h.check_eq(window(d), 80, "window")
        check_same_reference(d, log, d.metrics())
        d.stop()


def test_reload_during_capture_keeps_it():
    with daemon(make=capture_conf) as (d, log, state):
        d.start()
        append(log, 0, 60)
        d.wait_sample("prediction_records_total", 60, model=MODEL)
        d.send_signal(signal.SIGHUP)
        d.wait_log("configuration reloaded")
        append(log, 60, 90)
        wait_read(d, log)
        wait_window(d, 50)
        check_same_reference(d, log, d.metrics())
        d.stop()


def test_reload_after_capture_without_state_dir_keeps_the_reference():
    with daemon(make=capture_conf) as (d, log, _):
        d.write_config(capture_conf(log, ""))
        d.start()
        append(log, 0, 120)
        d.wait_sample("prediction_records_total", 120, model=MODEL)
        d.wait_log("reference captured")
        d.send_signal(signal.SIGHUP)
        d.wait_log("configuration reloaded")
        append(log, 120, 30)
        wait_read(d, log)
        wait_window(d, 50)
        check_same_reference(d, log, d.metrics())
        h.check("capturing it again" not in d.stderr(), d.stderr())
        d.stop()


def test_unsaved_capture_is_retried_and_never_captured_again():
    with h.Daemon() as d:
        log = os.path.join(d.dir, "app.log")
        state = os.path.join(d.dir, "state")
        capture = os.path.join(state, "reference.capture")
        os.makedirs(capture)             # a directory: the save fails
        open(log, "w").close()
        d.write_config(capture_conf(log, state, checkpoint="100ms"))
        d.start()
        append(log, 0, 130)
        d.wait_sample("prediction_records_total", 130, model=MODEL)
        d.wait_log("cannot save the captured reference")
        h.check_eq(d.sample("driftd_reference_capture_saved"), 0, "saved")
        wait_checkpoint(d)
        d.stop(sig=signal.SIGKILL, expect=-signal.SIGKILL)
        # After a restart, the reference comes from the checkpoint, not
        # from a capture of later records.
        append(log, 130, 20, shift=1000)
        d.start()
        wait_read(d, log)
        wait_window(d, 50)
        check_same_reference(d, log, d.metrics())
        h.check_eq(d.sample("driftd_reference_capture_saved"), 0, "saved")
        # Once the save can succeed, the next checkpoint saves it.
        os.rmdir(capture)
        h.wait_for(lambda: d.sample("driftd_reference_capture_saved") == 1,
                   what="the capture to be saved")
        with open(capture, "rb") as f:
            import hashlib
            h.check_eq(hashlib.sha256(f.read()).hexdigest(),
                       reference_sha(d.metrics()), "saved file")
        d.stop()
        d.start()
        wait_window(d, 50)
        check_same_reference(d, log, d.metrics())
        d.stop()


# ----------------------------------------- 4. copytruncate under a glob

def copytruncate(log, extra_before=None):
    shutil.copyfile(log, log + ".1")
    os.truncate(log, 0)


def test_copytruncate_copy_matched_by_glob_is_not_read_twice():
    with daemon(suffix="*", start_at="beginning") as (d, log, state):
        d.start()
        append(log, 0, 40)
        d.wait_sample("prediction_records_total", 40, model=MODEL)
        copytruncate(log)
        h.wait_for(lambda: d.sample("driftd_log_rotations_total",
                                    input=log + "*") == 1,
                   what="the truncation")
        append(log, 100, 25)
        d.wait_sample("prediction_records_total", 65, model=MODEL)
        wait_read(d, log + "*")
        wait_window(d, 65)
        d.stop()


def copytruncate_unread(pattern_suffix):
    """Lines written after the last read and before the copy are read from
    the copy: nothing lost, nothing twice."""
    with h.Daemon() as d:
        log = os.path.join(d.dir, "app.log")
        state = os.path.join(d.dir, "state")
        open(log, "w").close()
        d.write_config(config(log + pattern_suffix, state,
                              start_at="beginning"))
        d.start()
        append(log, 0, 40)
        d.wait_sample("prediction_records_total", 40, model=MODEL)
        d.send_signal(signal.SIGSTOP)
        append(log, 40, 10)
        copytruncate(log)
        append(log, 50, 25)
        d.send_signal(signal.SIGCONT)
        d.wait_sample("prediction_records_total", 75, model=MODEL)
        wait_read(d, log + pattern_suffix)
        wait_window(d, 75)
        fresh_evaluation(d)
        h.check_eq(window_mean(d), sum(range(75)) / 75, "window mean")
        d.stop()


def test_copytruncate_glob_reads_unread_lines_from_the_copy():
    copytruncate_unread("*")


def test_copytruncate_path_reads_unread_lines_from_the_copy():
    copytruncate_unread("")


def test_copytruncate_while_stopped_under_glob():
    with daemon(suffix="*", start_at="beginning") as (d, log, state):
        d.start()
        append(log, 0, 40)
        d.wait_sample("prediction_records_total", 40, model=MODEL)
        d.stop()
        append(log, 40, 10)
        copytruncate(log)
        append(log, 50, 25)
        d.start()
        d.wait_sample("prediction_records_total", 35, model=MODEL)
        wait_read(d, log + "*")
        wait_window(d, 75)
        fresh_evaluation(d)
        h.check_eq(window_mean(d), sum(range(75)) / 75, "window mean")
        d.stop()


# ------------------------------------------- checkpoints of older versions

def old_checkpoint(sections):
    """A checkpoint in the container format of every version so far, with
    the sections given as (tag, payload)."""
    import struct
    import zlib
    body = b"DRIFTDST" + struct.pack("<II", 1, len(sections))
    for tag, payload in sections:
        body += struct.pack("<IQ", tag, len(payload)) + payload
    return body + struct.pack("<I", zlib.crc32(body) & 0xffffffff)


def test_checkpoint_of_the_previous_version_is_read():
    """Positions (tag 1) and inputs (tag 4), as the previous version wrote
    them: following resumes there."""
    import struct

    def string(b):
        return struct.pack("<Q", len(b)) + b
    with h.Daemon() as d:
        log = os.path.join(d.dir, "app.log")
        state = os.path.join(d.dir, "state")
        os.makedirs(state)
        append(log, 0, 10)
        st = os.stat(log)
        offset = len("".join(line(i) for i in range(6)))
        pos = (struct.pack("<I", 1) + string(log.encode()) +
               string(log.encode()) +
               struct.pack("<QQQIQ", st.st_dev, st.st_ino, 0, 0, offset))
        inputs = struct.pack("<I", 1) + string(log.encode())
        with open(os.path.join(state, "driftd.state"), "wb") as f:
            f.write(old_checkpoint([(1, pos), (4, inputs)]))
        d.write_config(config(log, state, start_at="end"))
        d.start()
        d.wait_sample("prediction_records_total", 4, model=MODEL)
        wait_window(d, 4)
        fresh_evaluation(d)
        h.check_eq(window_mean(d), (6 + 7 + 8 + 9) / 4, "window mean")
        d.stop()


# ------------------------------------------------ 5. damaged checkpoint

def test_damaged_checkpoint_says_what_is_lost_and_counts_it():
    with h.Daemon() as d:
        log = os.path.join(d.dir, "app.log")
        state = os.path.join(d.dir, "state")
        os.makedirs(state)
        with open(os.path.join(state, "driftd.state"), "wb") as f:
            f.write(b"DRIFTDST" + os.urandom(64))
        with open(log, "w") as f:
            f.write(line(0) * 3)
        d.write_config(config(log, state))
        d.start()
        h.check_eq(d.sample("driftd_checkpoint_discarded_total"), 1,
                   "discarded")
        err = d.stderr()
        h.check("error" in err and "the windows it held are lost" in err and
                "start_at (end)" in err, err)
        d.stop()


h.main(globals())
