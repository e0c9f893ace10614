#!/bin/sh
# tests/kvcache/run.sh: the incremental entry point NAME_step (compiler/kvcache.c).
#
# - tiny (layouts flat, flat-unique, nested, equinox; gcc and tcc) and small
#   (flat-unique, equinox; gcc), with hidden-state and block-debug outputs:
#   tests/kvcache/harness.c checks every output of every step against the
#   full window's row, through steps, skipped outputs, prefill_v and a
#   rewind, that the cache is read, and the misuse error codes.
# - the same models exported by torch.onnx (models/torch_gptoss.py: matmul
#   attention, masked_fill, indexing): full window vs the numpy reference,
#   then the harness.
# - graphs.py's MatMul/Transpose attention (as torch-style exporters write
#   it): derived and checked the same way; without a mask, with a leaky
#   mask, and for a graph that is no language model, --kv-cache refuses and
#   names the node; without --kv-cache the model still compiles, with a note.
# - generation, tiny, small and torch tiny: 64 greedy steps of the --main driver with
#   the cache (the window slides) give the tokens of its full-window loop and
#   of the same loop over ONNX Runtime.
# Ends with "N passed, N failed".
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
PY=/usr/bin/python3
out=build/kvcache
rm -rf "$out"
mkdir -p "$out"
pass=0
fail=0
ok() { echo "ok   $*"; pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }
WARN="-Wall -Wextra -Werror"
SIMD=
case $(uname -m) in
x86_64 | amd64) grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo && SIMD="-mavx2 -mfma" ;;
esac

# harness DIR CC LABEL [OPTION]: DIR/m.onnx compiled (-n P, with OPTION), the harness built with CC and run
harness() {
	d=$1 cc=$2 label=$3 opt=${4:-}
	# shellcheck disable=SC2086
	if ! ./gptossc --kv-cache $opt "$d/m.onnx" -o "$d/m.c" -n P > "$d/gptossc.log" 2>&1; then
		bad "$label: gptossc --kv-cache failed: $(head -3 "$d/gptossc.log")"
		return
	fi
	$PY tests/kvcache/spec.py "$d/m.h" > "$d/spec.h" 2> "$d/spec.log" || { bad "$label: spec.py: $(tail -1 "$d/spec.log")"; return; }
	tok=$(sed -n 's/^int P_step(P_ctx \*c, void \*state, int64_t pos, const \([a-z0-9_]*\) \*token.*/\1/p' "$d/m.h")
	cflags="-O2 $SIMD $WARN" # gcc: the machine's SIMD kernels; tcc: the scalar ones
	[ "$cc" = tcc ] && cflags="-Wall -Werror"
	if ! $cc $cflags -c -o "$d/m-$cc.o" "$d/m.c" > "$d/cc-$cc.log" 2>&1 ||
	   ! $cc -O2 -I"$d" -Itests/kvcache -DTOK="$tok" -o "$d/harness-$cc" tests/kvcache/harness.c "$d/m-$cc.o" -lm -lpthread >> "$d/cc-$cc.log" 2>&1; then
		bad "$label: build with $cc: $(head -5 "$d/cc-$cc.log")"
		return
	fi
	# every kernel computes an element the same way whatever the rows, so a
	# step gives the window's bits: worst difference exactly 0 (the harness's
	# own bar is the issue's 1e-5)
	if "$d/harness-$cc" "$d/m.bin" > "$d/harness-$cc.log" 2>&1 &&
		[ "$(sed -n 's/^# worst relative difference \([^,]*\),.*/\1/p' "$d/harness-$cc.log")" = 0 ]; then
		ok "$label: $(grep -c '^ok' "$d/harness-$cc.log") checks ($(grep '^#' "$d/harness-$cc.log" | sed 's/^# //'))"
	else
		bad "$label:"
		sed 's/^/     /' "$d/harness-$cc.log" | grep -v '^     ok' | head -8
	fi
}

# digest LOG: the harness's digest of every window's outputs
digest() { sed -n 's/.*digest \([0-9a-f]*\).*/\1/p' "$1"; }

for cfg in tiny small; do
	layouts="flat flat-unique nested equinox"
	[ $cfg = small ] && layouts="flat-unique equinox"
	for layout in $layouts; do
		d=$out/$cfg-$layout
		mkdir -p "$d"
		if ! $PY models/gen_gptoss.py --config $cfg --layout $layout --out "$d/m.onnx" --emit-hidden-states \
			--emit-block-debug > "$d/gen.log" 2>&1; then
			bad "$cfg/$layout: generator failed: $(tail -2 "$d/gen.log")"
			continue
		fi
		harness "$d" gcc "$cfg/$layout gcc"
		[ $cfg = tiny ] && command -v tcc >/dev/null && harness "$d" tcc "$cfg/$layout tcc"
	done
	# the lossy q8 weights (layout 1 linears, q8 decoding): steps still equal the window bit for bit
	q=$out/$cfg-q8
	mkdir -p "$q" && ln -sf "../$cfg-flat-unique/m.onnx" "$q/m.onnx" && ln -sf "../$cfg-flat-unique/m.onnx.data" "$q/m.onnx.data"
	harness "$q" gcc "$cfg/flat-unique --weights q8 gcc" "--weights q8"
	# without the elementwise chains, the sink softmax (compiler/chain.c) and the fused
	# attention (compiler/attn.c, which takes in the sink softmaxes): the same bits
	nc=$out/$cfg-nochains
	mkdir -p "$nc" && ln -sf "../$cfg-flat-unique/m.onnx" "$nc/m.onnx" && ln -sf "../$cfg-flat-unique/m.onnx.data" "$nc/m.onnx.data"
	harness "$nc" gcc "$cfg/flat-unique --no-chains gcc" "--no-chains"
	d1=$(digest "$out/$cfg-flat-unique/harness-gcc.log")
	d2=$(digest "$nc/harness-gcc.log")
	n1=$(grep -c 'rt_ew_chain(t, p)' "$out/$cfg-flat-unique/m.c")
	n2=$(grep -c 'rt_attn_chain(t, p)' "$out/$cfg-flat-unique/m.c")
	if [ -n "$d1" ] && [ "$d1" = "$d2" ] && [ "$n1" -gt 0 ] && [ "$n2" -gt 0 ] &&
	   ! grep -q 'rt_ew_chain(t, p)\|rt_sink_softmax(t, p)\|rt_attn_chain(t, p)' "$nc/m.c"; then
		ok "$cfg: $n1 elementwise chains and $n2 fused attentions give the unfused graph's bits (digest $d1)"
	else
		bad "$cfg: with chains [$d1] ($n1 chains, $n2 fused attentions), without [$d2]"
	fi
	# and with tcc (the scalar kernels)
	if [ $cfg = tiny ] && command -v tcc >/dev/null; then
		harness "$nc" tcc "$cfg/flat-unique --no-chains tcc" "--no-chains"
		d1=$(digest "$out/$cfg-flat-unique/harness-tcc.log")
		d2=$(digest "$nc/harness-tcc.log")
		if [ -n "$d1" ] && [ "$d1" = "$d2" ]; then
			ok "$cfg tcc: the chains and fused attentions give the unfused graph's bits (digest $d1)"
		else
			bad "$cfg tcc: with chains [$d1], without [$d2]"
		fi
	fi
	# two threads (the pool, calls split in column ranges): the same bits as one thread,
	# with gcc (spinning pool) and tcc (the mutex-only pool)
	t=$out/$cfg-threads
	mkdir -p "$t" && ln -sf "../$cfg-flat-unique/m.onnx" "$t/m.onnx" && ln -sf "../$cfg-flat-unique/m.onnx.data" "$t/m.onnx.data"
	ccs=gcc
	[ $cfg = tiny ] && command -v tcc >/dev/null && ccs="gcc tcc"
	for cc in $ccs; do
		harness "$t" $cc "$cfg/flat-unique --threads 2 $cc" "--threads 2"
		d1=$(digest "$out/$cfg-flat-unique/harness-$cc.log")
		d2=$(digest "$t/harness-$cc.log")
		if [ -n "$d1" ] && [ "$d1" = "$d2" ] && [ "$(grep -c '_parallel(c, ' "$t/m.c")" -gt 0 ]; then
			ok "$cfg --threads 2 $cc: every window's outputs are the 1-thread build's bits ($(grep -c '_parallel(c, ' "$t/m.c") parallel groups, digest $d2)"
		else
			bad "$cfg --threads 2 $cc: digest [$d2] differs from the 1-thread build's [$d1], or no parallel group"
		fi
	done
done

# the same model exported by torch.onnx (models/torch_gptoss.py): its full window against the numpy
# reference, its steps against its full window
if $PY -c "import torch" 2>/dev/null; then
	for cfg in tiny small; do
		d=$out/torch-$cfg
		mkdir -p "$d"
		if ! $PY models/torch_gptoss.py --config $cfg --out "$d/m.onnx" > "$d/gen.log" 2>&1; then
			bad "torch $cfg: export failed: $(tail -2 "$d/gen.log")"
			continue
		fi
		T=$($PY -c "import sys; sys.path.insert(0,'models'); import configs; print(configs.CONFIGS['$cfg']['T'])")
		V=$($PY -c "import sys; sys.path.insert(0,'models'); import configs; print(configs.CONFIGS['$cfg']['V'])")
		toks=$($PY -c "import random; r=random.Random(1); print(','.join(str(r.randrange($V)) for _ in range($T)))")
		$PY models/reference.py --config $cfg --tokens "$toks" --out "$d/ref" > /dev/null 2>&1
		$PY -c "
import numpy as np
from onnx import numpy_helper
open('$d/in_0.pb', 'wb').write(numpy_helper.from_array(np.array([$toks], dtype=np.int64), 'in_0').SerializeToString())"
		if ./gptossc run "$d/m.onnx" -i "$d/in_0.pb" -O "$d/got" > "$d/run.log" 2>&1 &&
		   r=$($PY -c "
import numpy as np, onnx
from onnx import numpy_helper
ld = lambda p: numpy_helper.to_array(onnx.load_tensor(p)).astype(np.float64)
print('%.3g' % np.max(np.abs(ld('$d/ref/v_0.pb') - ld('$d/got/v_0.pb'))))") &&
		   $PY -c "import sys; sys.exit(not float('$r') <= 1e-4)"; then
			ok "torch $cfg: full-window logits equal the numpy reference (max|diff| $r, bar 1e-4)"
		else
			bad "torch $cfg: full window vs numpy reference: ${r:-failed} $(tail -2 "$d/run.log")"
		fi
		harness "$d" gcc "torch $cfg gcc"
		[ $cfg = tiny ] && command -v tcc >/dev/null && harness "$d" tcc "torch $cfg tcc"
	done
else
	bad "torch.onnx: python3-torch is not installed (tools/deps.sh installs it)"
fi

# other exporters' attention, and refusals
g=$out/graphs
if $PY tests/kvcache/graphs.py "$g" > "$out/graphs.log" 2>&1; then
	mkdir -p "$g/causal"
	cp "$g/causal.onnx" "$g/causal/m.onnx"
	harness "$g/causal" gcc "MatMul/Transpose attention with a causal mask"
	for m in nomask leaky; do
		if ./gptossc --kv-cache "$g/$m.onnx" -o "$g/$m.c" > "$g/$m.log" 2>&1; then
			bad "$m: --kv-cache accepted a graph where a query sees later positions"
		elif grep -q "node 'softmax' (Softmax): Softmax over keys that no causal mask hides" "$g/$m.log" &&
		     [ ! -e "$g/$m.c" ] && [ ! -e "$g/$m.h" ]; then
			ok "$m: --kv-cache refused, naming the node, no output left: $(cat "$g/$m.log")"
		else
			bad "$m: refused without naming the node, or left output: $(cat "$g/$m.log")"
		fi
		if ./gptossc "$g/$m.onnx" -o "$g/$m.c" > "$g/$m-auto.log" 2>&1 && grep -q "_HAS_STEP 0" "$g/$m.h" &&
		   grep -q "note: no incremental entry point.*node 'softmax'" "$g/$m-auto.log"; then
			ok "$m: without --kv-cache it compiles with HAS_STEP 0 and a note"
		else
			bad "$m: default mode: $(cat "$g/$m-auto.log")"
		fi
	done
	if ./gptossc --kv-cache "$g/notlm.onnx" -o "$g/notlm.c" > "$g/notlm.log" 2>&1; then
		bad "notlm: --kv-cache accepted a graph without token ids"
	elif grep -q "not a language model" "$g/notlm.log"; then
		ok "notlm: --kv-cache refused: $(cat "$g/notlm.log")"
	else
		bad "notlm: $(cat "$g/notlm.log")"
	fi
	if ./gptossc --no-kv-cache "$g/causal.onnx" -o "$g/off.c" > "$g/off.log" 2>&1 && grep -q "_HAS_STEP 0" "$g/off.h" &&
	   ! grep -q "_step" "$g/off.c" && [ ! -s "$g/off.log" ]; then
		ok "--no-kv-cache: no step code, no note"
	else
		bad "--no-kv-cache: $(cat "$g/off.log")"
	fi
else
	bad "graphs.py failed: $(tail -3 "$out/graphs.log")"
fi

# generation: incremental == full window == ONNX Runtime's loop, 64 steps (the window slides)
export ORT_NODE_MODULES="${ORT_NODE_MODULES:-$top/build/npm/node_modules}"
d=$out/gen
mkdir -p "$d"
prompt=$(cat models/tiny/prompt.txt)
for cfg in tiny small torch-tiny; do
	m=$out/$cfg-flat-unique/m.onnx
	[ $cfg = torch-tiny ] && m=$out/torch-tiny/m.onnx
	[ -f "$m" ] || continue
	if ! ./gptossc "$m" -o "$d/$cfg.c" --main > "$d/$cfg.log" 2>&1; then
		bad "generation $cfg: gptossc failed: $(tail -3 "$d/$cfg.log")"
		continue
	fi
	ort=$(node tests/ort/ort_generate.js "$m" --tokens "$prompt" --steps 64 2> "$d/$cfg-ort.err")
	[ -n "$ort" ] || bad "generation $cfg: ONNX Runtime's loop failed: $(tail -2 "$d/$cfg-ort.err")"
	ccs="gcc tcc"
	[ $cfg = small ] && ccs=gcc
	for cc in $ccs; do
		command -v $cc >/dev/null || continue
		if ! $cc -O2 -Wall -Wextra -o "$d/$cfg-$cc" "$d/$cfg.c" "$d/${cfg}_main.c" -lm >> "$d/$cfg.log" 2>&1; then
			bad "generation $cfg ($cc): build failed: $(tail -3 "$d/$cfg.log")"
			continue
		fi
		kv=$("$d/$cfg-$cc" "$d/$cfg.bin" --tokens "$prompt" --steps 64 2> "$d/$cfg-kv-$cc.err")
		full=$("$d/$cfg-$cc" "$d/$cfg.bin" --tokens "$prompt" --steps 64 --full 2> "$d/$cfg-full-$cc.err")
		if [ -n "$kv" ] && [ "$kv" = "$full" ] && [ "$kv" = "$ort" ] && grep -q "incremental" "$d/$cfg-kv-$cc.err"; then
			ok "generation $cfg ($cc): 64 tokens with the KV cache = full-window loop = ONNX Runtime's loop ($(sed 's/.*(//; s/).*//' "$d/$cfg-kv-$cc.err"))"
		else
			bad "generation $cfg ($cc): KV [$kv] full [$full] ORT [$ort]"
		fi
	done
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
