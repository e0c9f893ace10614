#!/usr/bin/env bash
# Run ort_run.js on ONNX node test directories and compare with their output_N.pb.
# usage: tests/ort/node_tests.sh [--rtol R] [--atol A] TESTDIR...
#   TESTDIR = e.g. /work/shared/onnx-node-tests/test_add (uses test_data_set_*)
# Prints one line per data set: ok / FAIL (mismatch) / REFUSED (ORT error); exit 1 if any FAIL.
# REFUSED does not count as failure unless STRICT=1.
set -u
HERE="$(cd "$(dirname "$0")" && pwd)"
NODE="${NODE:-node}"
TOL=()
while [ $# -gt 0 ]; do
  case "$1" in
    --rtol|--atol) TOL+=("$1" "$2"); shift 2 ;;
    *) break ;;
  esac
done
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
fail=0; nok=0; nfail=0; nref=0
for d in "$@"; do
  t="$(basename "$d")"
  for ds in "$d"/test_data_set_*; do
    [ -d "$ds" ] || continue
    out="$WORK/$t.$(basename "$ds")"
    ins=()
    for f in "$ds"/input_*.pb; do [ -e "$f" ] && ins+=(-i "$f"); done
    if ! err="$("$NODE" "$HERE/ort_run.js" "$d/model.onnx" "${ins[@]}" -O "$out" 2>&1)"; then
      echo "REFUSED $t/$(basename "$ds"): $(echo "$err" | head -n 1 | cut -c1-400)"
      nref=$((nref+1)); [ "${STRICT:-0}" = 1 ] && fail=1
      continue
    fi
    ok=1; msgs=""
    for ref in "$ds"/output_*.pb; do
      name="$("$NODE" "$HERE/tensorproto.js" name "$ref")"
      got="$out/${name//\//_}.pb"
      if [ ! -e "$got" ]; then ok=0; msgs="$msgs [$name: missing]"; continue; fi
      if ! m="$("$NODE" "$HERE/tensorproto.js" cmp "$got" "$ref" "${TOL[@]}")"; then ok=0; fi
      msgs="$msgs [$name: $m]"
    done
    if [ $ok = 1 ]; then echo "ok $t/$(basename "$ds")$msgs"; nok=$((nok+1))
    else echo "FAIL $t/$(basename "$ds")$msgs"; nfail=$((nfail+1)); fail=1; fi
  done
done
echo "summary: ok=$nok FAIL=$nfail REFUSED=$nref"
exit $fail
