#!/usr/bin/python3
"""The join's share of CPU samples, in percent.

Reads `perf script -F ip,sym` (with call graphs) on stdin; the argument is
src/labels.c.  A sample is the join's when a function defined in
labels.c is on its stack; the outermost such frame decides.  Names that
other files also give static functions (window.c's forget(), tail.c's
remember()) count only when the pipeline's line callbacks call them
directly, which only the join's tail calls do.
"""
import re
import sys

names = set(re.findall(r'^([a-z_0-9]+)\(', open(sys.argv[1]).read(), re.M))
ambiguous = {'forget', 'remember'}
callers = {'ingest_line', 'ingest_label_line', 'emit', 'ingest_evaluate',
           'metrics_collect'}


def frames(block):
    for line in block.strip().split('\n'):
        parts = line.split(None, 1)
        if len(parts) == 2:
            yield parts[1].split(' (inlined)')[0].strip()


total = join = 0
for block in sys.stdin.read().split('\n\n'):
    fr = list(frames(block))
    if not fr:
        continue
    total += 1
    for j in range(len(fr) - 1, -1, -1):       # outermost first
        f = fr[j]
        if f in names and (f not in ambiguous or
                           (j + 1 < len(fr) and fr[j + 1] in callers)):
            join += 1
            break
print(f"{100 * join / total:.2f}" if total else "0")
