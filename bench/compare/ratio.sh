#!/usr/bin/env bash
# Measures sipkit's parser against sipgo on the typical INVITE, alternating
# short runs of each so both see the same machine, and prints every pair's
# ratio and the median. The shared machines drift by a factor of two within
# minutes; a ratio taken this way is stable, absolute figures are not.
#
#   ./ratio.sh [ROUNDS] [BENCH]      BENCH: Parse (default), ParseRead, ParseWrite
#   PIN=1 ./ratio.sh                 one core (taskset -c 1, GOMAXPROCS=1)
set -euo pipefail
cd "$(dirname "$0")"
rounds=${1:-8}
bench=${2:-Parse}
go test -c -o /tmp/sipkit-compare.test . >/dev/null
run() {
	if [ "${PIN:-0}" = 1 ]; then
		GOMAXPROCS=1 taskset -c 1 /tmp/sipkit-compare.test -test.run '^$' -test.bench "^Benchmark${bench}\$/$1\$" -test.benchtime 300ms
	else
		/tmp/sipkit-compare.test -test.run '^$' -test.bench "^Benchmark${bench}\$/$1\$" -test.benchtime 300ms
	fi | awk '/^Benchmark/ {print $3}'
}
for _ in $(seq "$rounds"); do
	k=$(run sipkit)
	g=$(run sipgo)
	echo "$k $g"
done | awk '{ r[NR] = $2 / $1; printf "sipkit %7.0f ns   sipgo %7.0f ns   ratio %.2f\n", $1, $2, r[NR] }
	END { n = asort_(r); printf "median ratio %.2f over %d pairs\n", r[int((n + 1) / 2)], n }
	function asort_(a,   i, j, t, n) { n = length(a); for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t } return n }'
