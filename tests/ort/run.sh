#!/bin/sh
# tests/ort/run.sh: the ONNX Runtime harness's self-test, counted.
cd "$(dirname "$0")" || exit 1
bash ./selftest.sh > ../../build/ort-selftest.log 2>&1
rc=$?
cat ../../build/ort-selftest.log
p=$(grep -c '^ok ' ../../build/ort-selftest.log)
f=$(grep -c '^FAIL' ../../build/ort-selftest.log)
[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
echo "$p passed, $f failed"
[ "$f" -eq 0 ]
