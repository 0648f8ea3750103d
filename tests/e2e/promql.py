"""Just enough PromQL scanning for tests/e2e/ops.py: which metrics and
labels an expression of an alert rule or a dashboard panel refers to.

This is not a parser (promtool checks the syntax); it only has to find
every vector selector and every label name in a grouping clause, and not
mistake a function, an aggregation, a keyword, a duration or a string for
a metric name.
"""

import re

# Words that are never metric names where they stand.
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right",
            "offset", "bool", "and", "or", "unless", "atan2", "inf", "nan"}
AGGREGATIONS = {"sum", "min", "max", "avg", "group", "stddev", "stdvar",
                "count", "count_values", "bottomk", "topk", "quantile"}
# Keywords followed by a parenthesised list of label names.
GROUPING = {"by", "without", "on", "ignoring", "group_left", "group_right"}

# Grafana's variables, replaced by values that keep the expression valid.
GRAFANA_VARS = [
    (re.compile(r"\$__rate_interval|\$__interval|\$__range"), "{interval}"),
    (re.compile(r"\$\{?(\w+)(?::\w+)?\}?"), "{var}"),
]

TOKEN = re.compile(r"""
    (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)
  | (?P<braces>\{)
  | (?P<range>\[[^\]]*\])
  | (?P<ident>[a-zA-Z_:][a-zA-Z0-9_:]*)
  | (?P<number>[0-9][0-9a-zA-Z.]*)
  | (?P<space>\s+)
  | (?P<other>.)
""", re.X | re.S)

MATCHER = re.compile(r"""\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*
                         ("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)\s*,?""",
                     re.X)


def grafana_to_promql(expr, interval="5m", var=".*"):
    """Replace Grafana's $variables so that the text is plain PromQL."""
    for pattern, what in GRAFANA_VARS:
        expr = pattern.sub(interval if what == "{interval}" else var, expr)
    return expr


def _label_block(expr, start):
    """Parse the label matchers of a {...} starting at expr[start] == '{';
    return ({label: (op, quoted value)}, index after '}')."""
    i, labels = start + 1, {}
    while True:
        while i < len(expr) and expr[i].isspace():
            i += 1
        if i < len(expr) and expr[i] == "}":
            return labels, i + 1
        m = MATCHER.match(expr, i)
        if not m:
            raise ValueError("cannot read label matchers at "
                             f"{expr[i:i + 30]!r} in {expr!r}")
        labels[m.group(1)] = (m.group(2), m.group(3))
        i = m.end()


def scan(expr):
    """Return (selectors, grouping_labels) of a PromQL expression:
    selectors as a list of (metric name, {label: (op, value)}) and the
    label names in by/without/on/ignoring/group_* clauses as a set."""
    tokens = []
    pos = 0
    while pos < len(expr):
        m = TOKEN.match(expr, pos)
        kind = m.lastgroup
        if kind == "braces":
            labels, pos = _label_block(expr, m.start())
            tokens.append(("labels", labels))
            continue
        if kind != "space":
            tokens.append((kind, m.group()))
        pos = m.end()

    selectors, grouping = [], set()
    i = 0
    while i < len(tokens):
        kind, text = tokens[i]
        nxt = tokens[i + 1] if i + 1 < len(tokens) else (None, None)
        if kind == "ident" and text in GROUPING and nxt == ("other", "("):
            j = i + 2
            while j < len(tokens) and tokens[j] != ("other", ")"):
                if tokens[j][0] == "ident":
                    grouping.add(tokens[j][1])
                j += 1
            i = j + 1
            continue
        if kind == "ident":
            if text in KEYWORDS:
                pass
            elif nxt == ("other", "("):
                pass                    # a function or an aggregation
            elif text in AGGREGATIONS and nxt[0] == "ident" and \
                    nxt[1] in ("by", "without"):
                pass                    # sum by (...) (...)
            else:
                labels = nxt[1] if nxt[0] == "labels" else {}
                selectors.append((text, labels))
        elif kind == "labels" and (i == 0 or tokens[i - 1][0] != "ident"):
            # {__name__="..."} or a bare {job="x"}: a selector by labels.
            name = text.get("__name__", ("=", '""'))[1].strip("\"'`")
            selectors.append((name, text))
        i += 1
    return selectors, grouping
