"""From lines to records: every kind of bad input is skipped and counted
under its reason, good parts of a record still count, labels from the log
are escaped (checked with promtool), and --once reads files and stdin."""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

CONF = """[model]
name = m
class = prediction
confidence = confidence
latency = latency_ms
latency_unit = ms
timestamp = ts
[features]
features.x = numeric
features.c = categorical
features."odd key.with dots" = numeric
"""


def once(lines, conf=CONF, files=None, stdin=None):
    """Run driftd --once over `lines` and return (samples, text)."""
    with h.Daemon(conf) as d:
        path = os.path.join(d.dir, "in.jsonl")
        with open(path, "wb") as f:
            for ln in lines:
                f.write(ln if isinstance(ln, bytes) else ln.encode())
                f.write(b"\n")
        args = [h.DRIFTD, "--once", "-c", d.conf_path] + (files or [path])
        p = subprocess.run(args, input=stdin, capture_output=True, timeout=60)
        err = p.stderr.decode()
        h.sanitizer_clean(err)
        h.check_eq(p.returncode, 0, f"exit status ({err})")
        text = p.stdout.decode()
        return h.parse_metrics(text), text, path


def missing(s, feature):
    return h.sample(s, "prediction_feature_missing_total", model="m",
                    feature=feature)


def good(**over):
    rec = {"ts": "2026-11-22T10:00:00.123Z", "prediction": "a",
           "confidence": 0.9, "latency_ms": 3,
           "features": {"x": 1.5, "c": "DE", "odd key.with dots": 2}}
    rec.update(over)
    return json.dumps(rec)


def test_good_records():
    s, text, path = once([good(), good(prediction="b"), good()])
    h.promtool_check(text)
    h.check_eq(h.sample(s, "prediction_records_total", model="m"), 3, "records")
    h.check_eq(h.sample(s, "prediction_class_total", model="m",
                        **{"class": "a"}), 2, "class a")
    h.check_eq(h.sample(s, "prediction_confidence_count", model="m"), 3, "conf")
    h.check(abs(h.sample(s, "prediction_latency_seconds_sum", model="m")
                - 0.009) < 1e-12, "latency sum in seconds")
    for f in ("prediction", "confidence", "latency", "timestamp",
              "features.x", "features.c", 'features."odd key.with dots"'):
        h.check_eq(missing(s, f), 0, f"missing {f}")
    h.check_eq(h.sample(s, "driftd_log_lines_total", input=path), 3, "lines")


def test_bad_lines_are_counted_by_reason():
    lines = [
        "not json",
        "[1, 2, 3]",                     # valid JSON, not an object
        '"a string"',
        '{"prediction": "a",}',          # trailing comma
        '{"prediction": "a"} trailing',
        '{"a": 01}',                     # leading zero
        '{"a": "\x01"}',                 # raw control character
        '{"a": "\\x"}',                  # bad escape
        '{"a": [1, 2}',
        "{" * 300 + "}" * 300,           # deeper than allowed
        good(),
        "",                              # blank lines are not errors
        "   ",
    ]
    s, text, path = once(lines)
    h.check_eq(h.sample(s, "driftd_log_errors_total", input=path,
                        reason="json"), 10, "json errors")
    h.check_eq(h.sample(s, "prediction_records_total", model="m"), 1, "records")
    h.check_eq(h.sample(s, "driftd_log_lines_total", input=path),
               len(lines), "lines")


def test_too_long_line():
    conf = "[input]\nmax_line_bytes = 256\n" + CONF
    s, text, path = once([good(pad="x" * 300), good(), good(pad="y" * 10000),
                          good()], conf=conf)
    h.check_eq(h.sample(s, "driftd_log_errors_total", input=path,
                        reason="too_long"), 2, "too_long")
    h.check_eq(h.sample(s, "prediction_records_total", model="m"), 2, "records")


def test_bad_values_leave_the_rest_of_the_record():
    lines = [
        good(prediction=None),                        # null class
        good(prediction=[1]),                         # wrong type
        good(prediction=2.5),                         # not an integer
        good(prediction=""),                          # empty label
        good(prediction="z" * 300),                   # longer than 256
        good(confidence=1.5),                         # outside [0, 1]
        good(confidence=-0.1),
        good(confidence="0.5"),                       # a string
        good(latency_ms=-1),
        good(ts="yesterday"),
        good(ts="2026-02-30T00:00:00Z"),              # no such day
        good(features={"x": "1.5", "c": 3, "odd key.with dots": True}),
        good(features={"c": {"nested": 1}}),
    ]
    lines.append(good().replace('"confidence": 0.9', '"confidence": NaN'))
    lines.append(good().replace('"latency_ms": 3', '"latency_ms": Infinity'))
    lines.append(good().replace('"x": 1.5', '"x": -Infinity'))
    s, text, path = once(lines)
    h.promtool_check(text)
    h.check_eq(h.sample(s, "driftd_log_errors_total", input=path,
                        reason="json"), 0, "no line is broken")
    h.check_eq(h.sample(s, "prediction_records_total", model="m"),
               len(lines), "every record accepted")
    h.check_eq(missing(s, "prediction"), 5, "prediction")
    h.check_eq(missing(s, "confidence"), 4, "confidence")
    h.check_eq(missing(s, "latency"), 2, "latency")
    h.check_eq(missing(s, "timestamp"), 2, "timestamp")
    h.check_eq(missing(s, "features.x"), 3, "features.x")
    # c = 3 is an integer category (fine); {"nested": 1} is not.
    h.check_eq(missing(s, "features.c"), 1, "features.c")
    h.check_eq(missing(s, 'features."odd key.with dots"'), 2, "odd key")
    # The good parts of those records still count.
    h.check_eq(h.sample(s, "prediction_class_total", model="m",
                        **{"class": "a"}), len(lines) - 5, "class a")


def test_integer_and_boolean_classes():
    s, text, _ = once([good(prediction=3), good(prediction=3.0),
                       good(prediction=1e2), good(prediction=True),
                       good(prediction=-7)])
    for cls, n in (("3", 2), ("100", 1), ("true", 1), ("-7", 1)):
        h.check_eq(h.sample(s, "prediction_class_total", model="m",
                            **{"class": cls}), n, f"class {cls}")


def test_hostile_labels_are_escaped():
    lines = [good(prediction='quote " back \\ slash'),
             good(prediction="new\nline"),
             good(prediction="\u00e9t\u00e9 \U0001F600"),
             good().replace('"prediction": "a"', '"prediction": "\\ud800"'),
             good().replace('"prediction": "a"', '"prediction": "a\\u0000b"')]
    raw = good().encode().replace(b'"prediction": "a"',
                                  b'"prediction": "bad \xff\xfe utf8"')
    s, text, path = once(lines + [raw])
    h.promtool_check(text)
    h.check('class="quote \\" back \\\\ slash"' in text, text)
    h.check('class="new\\nline"' in text, text)
    h.check('class="\u00e9t\u00e9 \U0001F600"' in text, text)
    # Lone surrogates, NUL and invalid UTF-8 cannot be labels.
    h.check_eq(missing(s, "prediction"), 3, "invalid labels")
    h.check_eq(h.sample(s, "driftd_log_errors_total", input=path,
                        reason="json"), 0, "json errors")


def test_class_cardinality_is_capped():
    conf = CONF.replace("[model]\n", "[model]\nmax_classes = 3\n")
    s, text, _ = once([good(prediction=f"c{i}") for i in range(50)],
                      conf=conf)
    classes = [k for k in s if k[0] == "prediction_class_total"]
    h.check_eq(len(classes), 4, "three classes and __other__")
    h.check_eq(h.sample(s, "prediction_class_total", model="m",
                        **{"class": "__other__"}), 47, "__other__")


def test_match_field():
    conf = "[input]\nmatch_field = model\nmatch_value = iris\n" + CONF
    lines = [good(model="iris"), good(model="other"), good(),
             good(model="iris"), good(model=5)]
    s, _, _ = once(lines, conf=conf)
    h.check_eq(h.sample(s, "prediction_records_total", model="m"), 2, "records")
    conf = "[input]\nmatch_field = v\nmatch_value = 2\n" + CONF
    s, _, _ = once([good(v=2), good(v=2.0), good(v="2"), good(v=3)], conf=conf)
    h.check_eq(h.sample(s, "prediction_records_total", model="m"), 3,
               "numeric match")


def test_confidence_max_of_array():
    conf = CONF.replace("confidence = confidence",
                        "confidence = max(probabilities)")
    s, _, _ = once([good(probabilities=[0.1, 0.7, 0.2]),
                    good(probabilities=[]),
                    good(probabilities=[0.5, "x"]),
                    good(probabilities=[0.2, 1.2])], conf=conf)
    h.check_eq(h.sample(s, "prediction_confidence_count", model="m"), 1, "count")
    h.check(abs(h.sample(s, "prediction_confidence_sum", model="m") - 0.7)
            < 1e-12, "sum")
    h.check_eq(missing(s, "confidence"), 3, "missing")


def test_regression_value_and_epoch_timestamps():
    conf = """[model]
name = m
class =
value = prediction
value_buckets = 10, 20
confidence =
timestamp = pickup_ts
"""
    lines = ['{"pickup_ts":1645142400,"passenger_count":1,"trip_distance":2.4,'
             '"fare_amount":11.5,"PULocationID":74,"prediction":12.7}',
             '{"pickup_ts":1645142401.5,"prediction":25}',
             '{"pickup_ts":"1645142401","prediction":"x"}']
    s, text, _ = once(lines, conf=conf)
    h.check_eq(h.sample(s, "prediction_value_count", model="m"), 2, "count")
    h.check_eq(h.sample(s, "prediction_value_bucket", model="m", le="20"), 1,
               "le=20")
    h.check_eq(missing(s, "prediction"), 1, "prediction")
    h.check_eq(missing(s, "timestamp"), 1, "timestamp")


def test_once_stdin_and_several_files():
    with h.Daemon(CONF) as d:
        a = os.path.join(d.dir, "a.jsonl")
        b = os.path.join(d.dir, "b.jsonl")
        with open(a, "w") as f:
            f.write(good() + "\n" + good() + "\n")
        with open(b, "w") as f:
            f.write(good() + "\n")
        p = subprocess.run([h.DRIFTD, "--once", "-c", d.conf_path, a, b, "-"],
                           input=(good() + "\n" + good()).encode(),
                           capture_output=True, timeout=30)
        h.check_eq(p.returncode, 0, p.stderr)
        s = h.parse_metrics(p.stdout.decode())
        # The last stdin line has no newline: not a complete line.
        h.check_eq(h.sample(s, "prediction_records_total", model="m"), 4,
                   "records")
        h.check_eq(h.sample(s, "driftd_log_lines_total", input="-"), 1, "stdin")
        h.check(b"incomplete last line" in p.stderr, p.stderr)
        p = subprocess.run([h.DRIFTD, "--once", "-c", d.conf_path,
                            os.path.join(d.dir, "*.jsonl")],
                           capture_output=True, timeout=30)
        s = h.parse_metrics(p.stdout.decode())
        h.check_eq(h.sample(s, "prediction_records_total", model="m"), 3,
                   "glob")
        p = subprocess.run([h.DRIFTD, "--once", "-c", d.conf_path,
                            os.path.join(d.dir, "nope.jsonl")],
                           capture_output=True, timeout=30)
        h.check_eq(p.returncode, 1, "missing file")


h.main(globals())
