#!/usr/bin/env bash
# Self-test for the onnxruntime-node harness in tests/ort/.
# Needs: node (v20), onnxruntime-node (ORT_NODE_MODULES, <repo>/build/npm/node_modules, or
# require resolution), and /usr/bin/python3 with onnx + numpy (override with PY=...).
# Prints ok/FAIL lines; exits non-zero if anything failed.
set -u
HERE="$(cd "$(dirname "$0")" && pwd)"
NODE="${NODE:-node}"
PY="${PY:-/usr/bin/python3}"
W="$(mktemp -d)"
trap 'rm -rf "$W"' EXIT
nfail=0
ok()   { echo "ok $*"; }
fail() { echo "FAIL $*"; nfail=$((nfail+1)); }

if ! "$PY" -c 'import onnx, numpy' 2>/dev/null; then
  echo "FAIL $PY cannot import onnx+numpy"; exit 1
fi
if ! "$NODE" -e "require('$HERE/ort_load').loadOrt()" 2>"$W/load.err"; then
  echo "FAIL cannot load onnxruntime-node: $(cat "$W/load.err")"; exit 1
fi

"$PY" "$HERE/selftest_models.py" build "$W" || { echo "FAIL building test models"; exit 1; }

# 1. decoder: raw_data files vs typed-field (float_data/int32_data/int64_data/...) files
for f in "$W"/in/*.pb; do
  k="$(basename "$f" .pb)"
  if m="$("$NODE" "$HERE/tensorproto.js" cmp "$W/in_typed/$k.pb" "$f" --rtol 0 --atol 0)"; then
    ok "decode raw==typed $k: $m"
  else
    fail "decode raw==typed $k: $m"
  fi
done

# 2. decode -> encode round trip, parsed back by onnx/numpy
mkdir -p "$W/rt_raw" "$W/rt_typed"
if "$NODE" -e '
  const tp = require(process.argv[1]); const fs = require("fs"); const path = require("path");
  const W = process.argv[2];
  for (const sub of ["in", "in_typed"]) for (const f of fs.readdirSync(path.join(W, sub))) {
    if (f === "bf16.pb") continue;
    const t = tp.readFile(path.join(W, sub, f));
    tp.writeFile(path.join(W, sub === "in" ? "rt_raw" : "rt_typed", f), t);
  }' "$HERE/tensorproto.js" "$W"; then
  "$PY" "$HERE/selftest_models.py" check "$W" rt_raw inputs.npz || nfail=$((nfail+1))
  "$PY" "$HERE/selftest_models.py" check "$W" rt_typed inputs.npz || nfail=$((nfail+1))
else
  fail "round-trip encode"
fi

# 3. ort_run.js on the basic model (named inputs, positional names from the .pb, typed-field inputs)
ins=()
for f in "$W"/in/*.pb; do
  k="$(basename "$f" .pb)"; [ "$k" = bf16 ] && continue
  case "$k" in a|x) ins+=(-i "$k=$f") ;; *) ins+=(-i "$f") ;; esac
done
if "$NODE" "$HERE/ort_run.js" "$W/basic.onnx" "${ins[@]}" -O "$W/ort_out" --threads 2; then
  ok "ort_run basic.onnx"
  "$PY" "$HERE/selftest_models.py" check "$W" ort_out expected.npz || nfail=$((nfail+1))
  for f in "$W"/expected/*.pb; do
    k="$(basename "$f")"
    if m="$("$NODE" "$HERE/tensorproto.js" cmp "$W/ort_out/$k" "$f" --rtol 0 --atol 0)"; then ok "cmp $k: $m"; else fail "cmp $k: $m"; fi
  done
else
  fail "ort_run basic.onnx"
fi
tins=()
for f in "$W"/in_typed/*.pb; do [ "$(basename "$f")" = bf16.pb ] || tins+=(-i "$f"); done
if "$NODE" "$HERE/ort_run.js" "$W/basic.onnx" "${tins[@]}" -O "$W/ort_out_typed" --no-opt --outputs sum,y,out_f16 \
   && [ "$(ls "$W/ort_out_typed" | tr '\n' ' ')" = "out_f16.pb sum.pb y.pb " ]; then
  r=0
  for k in sum y out_f16; do "$NODE" "$HERE/tensorproto.js" cmp "$W/ort_out_typed/$k.pb" "$W/expected/$k.pb" --rtol 0 --atol 0 >/dev/null || r=1; done
  [ $r = 0 ] && ok "ort_run typed inputs + --outputs + --no-opt" || fail "ort_run typed inputs: outputs differ"
else
  fail "ort_run typed inputs + --outputs"
fi

# 4. error handling: ORT refusing a model / bad input -> stderr message, exit 1
printf 'not an onnx model' > "$W/bad.onnx"
"$NODE" "$HERE/ort_run.js" "$W/bad.onnx" -O "$W/bad_out" 2>"$W/bad.err"; rc=$?
if [ $rc = 1 ] && [ -s "$W/bad.err" ]; then ok "ort_run refuses bad model (rc=1): $(head -c 150 "$W/bad.err" | tr '\n' ' ')"; else fail "ort_run bad model rc=$rc"; fi
bins=()
for f in "$W"/in/*.pb; do
  k="$(basename "$f" .pb)"; [ "$k" = bf16 ] && continue
  if [ "$k" = a ]; then bins+=(-i "a=$W/in/x.pb"); else bins+=(-i "$f"); fi
done
"$NODE" "$HERE/ort_run.js" "$W/basic.onnx" "${bins[@]}" -O "$W/bad_out" 2>"$W/bad2.err"; rc=$?
if [ $rc = 1 ] && [ -s "$W/bad2.err" ]; then ok "ort_run rejects wrong-typed input (rc=1): $(head -c 150 "$W/bad2.err" | tr '\n' ' ')"; else fail "ort_run wrong input rc=$rc"; fi

# 5. tensorproto.js cmp detects differences and honours tolerances
if "$NODE" "$HERE/tensorproto.js" cmp "$W/in/x.pb" "$W/in/w.pb" >/dev/null; then fail "cmp x vs w should differ"; else ok "cmp detects shape mismatch"; fi
"$NODE" -e '
  const tp = require(process.argv[1]); const W = process.argv[2];
  tp.writeFile(W + "/c1.pb", {name: "c", dims: [3], dataType: 1, data: new Float32Array([1, 2, NaN])});
  tp.writeFile(W + "/c2.pb", {name: "c", dims: [3], dataType: 1, data: new Float32Array([1.0005, 2, NaN])});
  tp.writeFile(W + "/i1.pb", {name: "i", dims: [2], dataType: 7, data: new BigInt64Array([1n, 2n])});
  tp.writeFile(W + "/i2.pb", {name: "i", dims: [2], dataType: 7, data: new BigInt64Array([1n, 3n])});
' "$HERE/tensorproto.js" "$W"
"$NODE" "$HERE/tensorproto.js" cmp "$W/c1.pb" "$W/c2.pb" --rtol 1e-3 >/dev/null && ok "cmp within rtol (NaN==NaN)" || fail "cmp within rtol"
"$NODE" "$HERE/tensorproto.js" cmp "$W/c1.pb" "$W/c2.pb" --rtol 1e-5 >/dev/null && fail "cmp outside rtol accepted" || ok "cmp outside rtol rejected"
"$NODE" "$HERE/tensorproto.js" cmp "$W/i1.pb" "$W/i2.pb" >/dev/null && fail "cmp int mismatch accepted" || ok "cmp int mismatch rejected"

# 6. generation loop on models with a known next token
while IFS='|' read -r model toks steps want; do
  got="$("$NODE" "$HERE/ort_generate.js" "$W/$model.onnx" --tokens "$toks" --steps "$steps")"
  if [ "$got" = "$want" ]; then ok "generate $model tokens=$toks steps=$steps -> $got"
  else fail "generate $model tokens=$toks steps=$steps: got '$got' want '$want'"; fi
done < "$W/gen_cases.txt"
got="$("$NODE" "$HERE/ort_generate.js" "$W/gen_next.onnx" --tokens 3 --steps 3 --T 8 --threads 2)"
[ "$got" = "4,5,6" ] && ok "generate --T 8 --threads 2" || fail "generate --T: got '$got'"

# 7. bench prints the JSON record
if out="$("$NODE" "$HERE/ort_bench.js" "$W/gen_next.onnx" --tokens 1,2,3 --threads 1 --reps 5 --warmup 1)" &&
   echo "$out" | "$NODE" -e '
     const j = JSON.parse(require("fs").readFileSync(0, "utf8"));
     const good = typeof j.median_ms === "number" && typeof j.min_ms === "number" && j.runs.length === 5 &&
       j.min_ms <= j.median_ms && j.peak_rss_kb > 0;
     process.exit(good ? 0 : 1);'; then
  ok "bench: $out"
else
  fail "bench: ${out:-<no output>}"
fi

if [ $nfail = 0 ]; then echo "ok selftest: all passed"; exit 0; fi
echo "FAIL selftest: $nfail failure(s)"; exit 1
