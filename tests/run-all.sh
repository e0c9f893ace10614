#!/bin/sh
# tests/run-all.sh: every test suite (`make check`).  Each suite is a script
# that ends with the line "N passed, N failed"; this sums them and prints the
# closing line.  A suite that exits non-zero without such a line counts as
# one failure.  The benchmark (tests/bench) is not a test: `make bench`.
#   tests/run-all.sh [SUITE...]     e.g. tests/run-all.sh unit compiler
cd "$(dirname "$0")/.." || exit 1
top=$(pwd)
export ORT_NODE_MODULES="${ORT_NODE_MODULES:-$top/build/npm/node_modules}"
mkdir -p build/test-logs
total_p=0
total_f=0
failed_suites=
if [ $# -eq 0 ]; then
	set -- unit compiler ort conformance gptoss kvcache cross fuzz sanitize runtime
fi
for suite; do
	log=build/test-logs/$suite.log
	printf '== %s\n' "$suite"
	start=$(date +%s)
	sh "tests/$suite/run.sh" >"$log" 2>&1
	rc=$?
	grep -E '^(FAIL|SKIP)' "$log" | head -40
	line=$(grep -E '(^|: )[0-9]+ passed, [0-9]+ failed$' "$log" | tail -1 | sed 's/^.*: //')
	if [ -z "$line" ]; then
		echo "   suite $suite printed no result line (exit $rc); last lines:"
		tail -5 "$log" | sed 's/^/   /'
		p=0
		f=1
	else
		p=${line%% passed*}
		f=${line#*, }
		f=${f%% failed}
		[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
	fi
	printf '   %s: %s passed, %s failed (%ss, log %s)\n' "$suite" "$p" "$f" "$(( $(date +%s) - start ))" "$log"
	total_p=$((total_p + p))
	total_f=$((total_f + f))
	[ "$f" -ne 0 ] && failed_suites="$failed_suites $suite"
done
[ -n "$failed_suites" ] && echo "failing suites:$failed_suites"
echo "$total_p passed, $total_f failed"
[ "$total_f" -eq 0 ]
