# bench/lib.sh - what the benchmark scripts share.  Sourced, not run:
#   . "$here/lib.sh"

# The median of the numbers read (separated by blanks or lines).
median() { tr ' ' '\n' | grep . | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

# The CPU's name and its SIMD levels, for the reports' first line.
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
simd=$(grep -o -w -m1 -E 'avx512f|avx2|sse4_2' /proc/cpuinfo | sort -u | tr '\n' ' ')

# The options --runs N and --driftd PATH into $runs and $driftd (their
# defaults set before).
runs_and_driftd() {
	while [ $# -gt 0 ]; do
		[ $# -ge 2 ] || { echo "usage: $0 [--runs N] [--driftd PATH]" >&2; exit 2; }
		case $1 in
		--runs) runs=$2 ;;
		--driftd) driftd=$2 ;;
		*) echo "$0: unknown option $1" >&2; exit 2 ;;
		esac
		shift 2
	done
}
