#!/bin/bash
# The MMD benchmark (see bench/mmd.py): builds bench/mmd_bench.c against
# the library of _build/default, once with OpenBLAS and once with its own
# plain dgemm loop, then times both and a NumPy transcription on the same
# arrays.  Also, with --scrape, how /metrics answers while a 512-dimension
# vector column is evaluated every second (bench/mmd-scrape.py).
#
#   bench/mmd.sh [--runs N] [--scrape]
#
# The Markdown goes to stdout and to bench/_out/mmd.md.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
build=$top/_build/default
out=$here/_out
runs=5
scrape=
while [ $# -gt 0 ]; do
	case $1 in
	--runs) runs=$2; shift ;;
	--scrape) scrape=yes ;;
	*) echo "usage: $0 [--runs N] [--scrape]" >&2; exit 2 ;;
	esac
	shift
done
[ -f "$build/src/libdriftd.a" ] || { echo "$0: build _build/default first" >&2; exit 2; }
mkdir -p "$out"
cflags=$(pkg-config --cflags openblas)
libs=$(pkg-config --libs openblas)
# shellcheck disable=SC2086
cc -O2 -I"$top/src" -I"$build" $cflags -o "$out/mmd_bench" \
	"$here/mmd_bench.c" "$build/src/libdriftd.a" $libs -lm
# shellcheck disable=SC2086
cc -O2 -DOWN_LOOP -I"$top/src" -I"$build" $cflags -o "$out/mmd_bench_own" \
	"$here/mmd_bench.c" "$build/src/libdriftd.a" $libs -lm
{
	/usr/bin/python3 "$here/mmd.py" --bench "$out/mmd_bench" \
		--own "$out/mmd_bench_own" --runs "$runs"
	if [ -n "$scrape" ]; then
		echo
		/usr/bin/python3 "$here/mmd-scrape.py" --driftd "$build/src/driftd"
	fi
} | tee "$out/mmd.md"
