#!/bin/sh
# tests/conformance/run.sh: the ONNX backend node tests through gptossc.
#
#   tests/conformance/run.sh [-j N] [--cc "gcc -O2 -march=native"] [PATTERN...]
#
# Every case is compiled and run by `gptossc run` (libtcc, or --cc) and its
# outputs compared with the expected ones (rtol 1e-3, atol 1e-7, integers and
# booleans exact: tests/ort/tensorproto.js cmp).  tests/conformance/
# expected-failures.txt lists the cases known to fail, each with a reason: a
# listed case that passes, or an unlisted case that fails, fails the run.
# Prints one line per unexpected result and a closing "N passed, N failed".
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
jobs=2
cc=
while [ $# -gt 0 ]; do
	case "$1" in
	-j) jobs=$2; shift 2 ;;
	--cc) cc=$2; shift 2 ;;
	*) break ;;
	esac
done
if [ -d "$top/../shared/onnx-node-tests" ]; then
	data=$top/../shared/onnx-node-tests
else
	data=/usr/share/libonnx-testdata/data/node
fi
[ -d "$data" ] || { echo "no ONNX node tests found (apt-get install libonnx-testdata)"; exit 1; }
mkdir -p "$top/build"
out=$(mktemp -d "$top/build/conformance.XXXXXX")
trap 'rm -rf "$out"' EXIT
if [ $# -eq 0 ]; then set -- 'test_*'; fi
for pat; do
	for d in "$data"/$pat; do [ -f "$d/model.onnx" ] && basename "$d"; done
done | sort -u > "$out/cases"

# one case: prints "<name> pass" or "<name> fail <reason>"
cat > "$out/one.sh" <<'EOS'
#!/bin/sh
name=$1 data=$2 out=$3 top=$4 cc=$5
d=$data/$name
o=$out/$name
mkdir -p "$o"
set --
for f in "$d"/test_data_set_0/input_*.pb; do [ -f "$f" ] && set -- "$@" -i "$f"; done
if [ -n "$cc" ]; then set -- "$@" --cc "$cc"; fi
if ! timeout 60 "$top/gptossc" run "$d/model.onnx" "$@" -O "$o" --by-index >"$o/log" 2>&1; then
	why=$(grep -v '^  ' "$o/log" | head -1 | sed 's/^gptossc: [^:]*: //')
	case "$why" in
	"unsupported operators:") why="unsupported operator $(grep '^  ' "$o/log" | head -1 | sed 's/^ *//; s/, first at.*//')" ;;
	esac
	echo "$name fail $(echo "$why" | cut -c1-150)"
	exit 0
fi
for e in "$d"/test_data_set_0/output_*.pb; do
	b=$(basename "$e")
	if ! node "$top/tests/ort/tensorproto.js" cmp "$o/$b" "$e" --rtol 1e-3 --atol 1e-7 >>"$o/log" 2>&1; then
		echo "$name fail wrong values in $b"
		exit 0
	fi
done
echo "$name pass"
rm -rf "$o"
EOS
chmod +x "$out/one.sh"
xargs -P "$jobs" -I{} "$out/one.sh" {} "$data" "$out" "$top" "$cc" < "$out/cases" | sort > "$out/results"

expected=$here/expected-failures.txt
pass=0 fail=0 xfail=0
while read -r name status reason; do
	listed=$(grep -c "^$name\( \|$\)" "$expected" 2>/dev/null)
	if [ "$status" = pass ]; then
		if [ "$listed" != 0 ]; then
			echo "FAIL $name: listed as an expected failure but passes (remove it from expected-failures.txt)"
			fail=$((fail + 1))
		else
			pass=$((pass + 1))
		fi
	else
		if [ "$listed" != 0 ]; then
			xfail=$((xfail + 1))
		else
			echo "FAIL $name: $reason"
			fail=$((fail + 1))
		fi
	fi
done < "$out/results"
echo "conformance: $pass cases pass, $xfail expected failures (listed with reasons in tests/conformance/expected-failures.txt)"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
