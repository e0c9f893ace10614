#!/bin/sh
# tests/bench/run.sh: gptossc vs ONNX Runtime speed, memory and bandwidth (`make bench`).
#
#   sh tests/bench/run.sh [--configs "tiny small"] [--threads "1 2"] [--reps N] [--rounds N]
#                         [--warmup N] [--model FILE.onnx] [--steps N] [--bw-mb MB] [--no-ort]
#
#   --configs   models/configs.py names; 20b-2layer only when asked for (it is generated on
#               demand into build/bench/, 11 GB, ~3 minutes, and adds the decode measurement)
#   --threads   ORT intra-op thread counts (one table row each)
#   --reps      timed runs per process (default 10; 5 for 20b-2layer)
#   --rounds    processes per engine, alternating ORT and gptossc (default 3, also for 20b-2layer)
#   --warmup    untimed runs per process before the timed ones (default 2; 1 for 20b-2layer)
#   --model     also bench this ONNX file (one int32/int64 token input); repeatable
#   --steps     generated tokens for the decode measurement (default 4; keep 3 + steps <= T so
#               every KV-cache token is a step, not a sliding window)
#   --bw-mb     buffer of the bandwidth probe (default 512)
#   --weights   gptossc --weights FMT (default auto; q8 is lossy, see the README)
#   --no-ort    gptossc only
#   --decode    also measure decode throughput for configs other than 20b-2layer
# Environment: CC (default cc), BENCH_CFLAGS (default "-O2 -march=native"), ORT_NODE_MODULES,
# BENCH_TIMEOUT (seconds one process may take before it counts as hung; default 1800, 20b 7200),
# BENCH_SETTLE (seconds of pause before each timed process; default 20 for 20b-2layer, else 0).
#
# Writes build/bench/raw.jsonl (every measurement) and build/bench/results.md (the table).
# The exit status reflects errors only (a model failing to generate, compile, build or run),
# never timings; the last line is "N passed, N failed" over the (config, threads) cases.
cd "$(dirname "$0")/../.." || exit 1
top=$(pwd)
configs="tiny small"
threads="1 2"
reps= rounds= warmup= steps=4 bw_mb=512 use_ort=1 models= decode_all=0 weights=auto
while [ $# -gt 0 ]; do
	case $1 in
	--configs) configs=$2; shift 2 ;;
	--threads) threads=$2; shift 2 ;;
	--reps) reps=$2; shift 2 ;;
	--rounds) rounds=$2; shift 2 ;;
	--warmup) warmup=$2; shift 2 ;;
	--steps) steps=$2; shift 2 ;;
	--bw-mb) bw_mb=$2; shift 2 ;;
	--model) models="$models $2"; shift 2 ;;
	--no-ort) use_ort=0; shift ;;
	--weights) weights=$2; shift 2 ;;
	--decode) decode_all=1; shift ;;
	-h|--help) sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "run.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
	esac
done

PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
CC=${CC:-cc}
BENCH_CFLAGS=${BENCH_CFLAGS:--O2 -march=native}
export ORT_NODE_MODULES="${ORT_NODE_MODULES:-$top/build/npm/node_modules}"
out=build/bench
raw=$out/raw.jsonl
mkdir -p "$out" || exit 1
: >"$raw"
passed=0
failed=0

rec() { printf '%s\n' "$1" >>"$raw"; }
info() { rec "{\"kind\": \"info\", \"key\": \"$1\", \"value\": \"$2\"}"; }
# one-line JSON string (quotes, backslashes and control characters removed)
jstr() { printf '%s' "$1" | tr '\n\t"\\' '    ' | cut -c1-300; }
fail() { # config threads what detail
	echo "FAIL $1 (threads $2): $3: $4"
	rec "{\"kind\": \"fail\", \"config\": \"$1\", \"threads\": $2, \"what\": \"$3\", \"detail\": \"$(jstr "$4")\"}"
}
# last line of stdout if it is a JSON object, else empty
lastjson() { tail -n 1 "$1" | grep '^{.*}$'; }
tmo() { # run with a hang guard when timeout(1) exists
	if command -v timeout >/dev/null 2>&1; then timeout "$limit" "$@"; else "$@"; fi
}

[ -x ./gptossc ] || make -s gptossc || { echo "run.sh: cannot build gptossc"; echo "0 passed, 1 failed"; exit 1; }

info git "$(git rev-parse --short HEAD 2>/dev/null)$(git diff --quiet HEAD -- compiler runtime templates 2>/dev/null || echo '+dirty')"
info cc "$CC $BENCH_CFLAGS"
info bw_mb "$bw_mb"
ortv=$(node -e "try{const p=require('path');const d=process.env.ORT_NODE_MODULES;console.log(require(p.join(d,'onnxruntime-node','package.json')).version)}catch(e){console.log('?')}" 2>/dev/null)
info ort_version "${ortv:-?}"
gthreads=0
./gptossc --help 2>&1 | grep -q -- '--threads' && gthreads=1
info gptossc_threads "$gthreads"
info weights "$weights"

# --- memory bandwidth -------------------------------------------------------------------
bw1=
if $CC $BENCH_CFLAGS -pthread -o "$out/bandwidth" tests/bench/bandwidth.c; then
	for t in 1 2; do
		j=$("$out/bandwidth" --mb "$bw_mb" --passes 6 --threads $t | tail -n 1)
		case $j in
		'{'*) rec "{\"kind\": \"bw\", \"threads\": $t, \"data\": $j}"
		      echo "bandwidth ($t thread): $j"
		      [ $t = 1 ] && bw1=$(printf '%s' "$j" | sed 's/.*"gbps": \([0-9.]*\).*/\1/') ;;
		*) echo "bandwidth probe failed" ;;
		esac
	done
else
	echo "bandwidth probe did not compile"
fi

# settle: before each timed process of a big model, a pause (BENCH_SETTLE seconds, default 20 for
# 20b-2layer, 0 otherwise): after ONNX Runtime's 20 GB process the kernel reclaims memory for
# several seconds and whatever runs next is slowed (measured: 1015, 717, 696 ... 605 ms)
settle() {
	if [ "${big:-0}" = 1 ]; then sleep "${BENCH_SETTLE:-20}"; else sleep "${BENCH_SETTLE:-0}"; fi
}

# --- one model --------------------------------------------------------------------------
# gen_model CONFIG -> $onnx (generated on demand, flat-unique layout)
gen_model() {
	onnx=$out/$1.onnx
	[ -s "$onnx" ] && [ -s "$onnx.data" ] && return 0
	echo "generating $onnx (flat-unique)"
	rm -rf "$out/gen" "$onnx" "$onnx.data" && mkdir -p "$out/gen" || return 1
	# generated aside and moved when complete, so an interrupted run leaves no half model
	$PY models/gen_gptoss.py --config "$1" --layout flat-unique --out "$out/gen/$1.onnx" >"$out/$1.gen.log" 2>&1 &&
		mv "$out/gen/$1.onnx.data" "$onnx.data" && mv "$out/gen/$1.onnx" "$onnx" ||
		{ tail -n 3 "$out/$1.gen.log"; rm -rf "$out/gen"; return 1; }
	rm -rf "$out/gen"
}

# gen_wrapper DIR: DIR/bench_model.h maps the generated DIR/m.h (prefix bm) onto BM_* names
gen_wrapper() {
	h=$1/m.h
	{
		echo '/* generated by tests/bench/run.sh */'
		echo '#include "m.h"'
		echo '#define BM_CTX bm_ctx'
		echo '#define BM_INIT bm_init'
		echo '#define BM_RUN_V bm_run_v'
		for io in IN OUT; do
			n=$(grep -E "^#define BM_${io}_[A-Za-z0-9_]+_NUMEL " "$h" | awk '{print $2}' | tr '\n' ',' | sed 's/,$//')
			d=$(grep -E "^#define BM_${io}_[A-Za-z0-9_]+_DTYPE " "$h" | awk '{print $2}' | tr '\n' ',' | sed 's/,$//')
			echo "#define BM_${io}_NUMELS { $n }"
			echo "#define BM_${io}_DTYPES { $d }"
		done
	} >"$1/bench_model.h"
}

# build_model NAME ONNX DIR [gptossc options]: compile to DIR/bench (and DIR/m with --main)
build_model() {
	src=$2 bdir_=$3 # (not dir: sh functions share the caller's variables)
	shift 3
	mkdir -p "$bdir_" && rm -f "$bdir_/bench" "$bdir_/m"
	if ! ./gptossc "$src" -o "$bdir_/m.c" -n bm "$@" >"$bdir_/gptossc.log" 2>&1; then
		err=$(grep -v '^ ' "$bdir_/gptossc.log" | tail -n 1)
		echo "gptossc $src failed:"
		tail -n 15 "$bdir_/gptossc.log" | sed 's/^/    /'
		builderr="$err"
		return 1
	fi
	gen_wrapper "$bdir_"
	# shellcheck disable=SC2086
	if ! $CC $BENCH_CFLAGS -std=c11 -pthread -Wall -Wextra -I"$bdir_" -o "$bdir_/bench" \
		tests/bench/bench_main.c "$bdir_/m.c" -lm >"$bdir_/cc.log" 2>&1; then
		tail -n 15 "$bdir_/cc.log" | sed 's/^/    /'
		builderr="cc failed (see $bdir_/cc.log)"
		return 1
	fi
	if [ -f "$bdir_/m_main.c" ]; then
		# shellcheck disable=SC2086
		$CC $BENCH_CFLAGS -std=c11 -pthread -I"$bdir_" -o "$bdir_/m" "$bdir_/m.c" "$bdir_/m_main.c" -lm \
			>>"$bdir_/cc.log" 2>&1 || { builderr="cc of the --main driver failed"; return 1; }
	fi
	# the blob just written (3.3 GB at 20b-2layer) goes to disk now, not in the kernel's
	# writeback half a minute later, in the middle of the timed runs
	sync
	return 0
}

# bench_case NAME ONNX: every thread count, alternating ORT and gptossc
bench_case() {
	name=$1 onnx=$2
	big=0
	[ "$name" = 20b-2layer ] && big=1
	r_reps=${reps:-$([ $big = 1 ] && echo 5 || echo 10)}
	r_rounds=${rounds:-3}
	r_warm=${warmup:-$([ $big = 1 ] && echo 1 || echo 2)}
	limit=${BENCH_TIMEOUT:-$([ $big = 1 ] && echo 7200 || echo 1800)}
	info rounds "$r_rounds"
	info reps "$r_reps"
	info warmup "$r_warm"
	mmap=
	[ $big = 1 ] && mmap=--mmap
	decode=$big
	[ $decode_all = 1 ] && decode=1
	extra="--weights $weights"
	[ $decode = 1 ] && extra="$extra --main"
	dir=$out/$name
	T= flops_per_run= token_bytes= blob=
	builderr=
	built=1
	if [ "$gthreads" = 0 ]; then
		echo "== $name: compiling"
		build_model "$name" "$onnx" "$dir" $extra || built=0
	fi
	for th in $threads; do
		bdir=$dir
		gth=1
		ok=1
		if [ "$gthreads" = 1 ]; then
			bdir=$dir/t$th
			gth=$th
			built=1
			echo "== $name: compiling for $th threads"
			build_model "$name" "$onnx" "$bdir" --threads "$th" $extra || built=0
		fi
		if [ $built = 0 ]; then
			fail "$name" "$th" build "$builderr"
			ok=0
		else
			blob=$(sed -n 's/^#define BM_BLOB_BYTES \([0-9]*\).*/\1/p' "$bdir/m.h")
		fi
		# FLOPs and per-token bytes for the synthetic configs (model_stats.py); T from the header otherwise
		case $name in
		tiny|small|20b-2layer)
			eval "$($PY tests/bench/model_stats.py --config "$name" --blob-bytes "${blob:-0}" --sh)" ;;
		*)
			T=$(sed -n 's/^#define BM_IN_[A-Za-z0-9_]*_NUMEL \([0-9]*\).*/\1/p' "$bdir/m.h" 2>/dev/null | head -n 1)
			flops_per_run=0 token_bytes= ;;
		esac
		toks=$(seq -s, 1 "${T:-8}")
		r=1
		while [ $r -le "$r_rounds" ]; do
			if [ $use_ort = 1 ]; then
				settle
				if tmo node tests/ort/ort_bench.js "$onnx" --tokens "$toks" --threads "$th" --reps "$r_reps" \
					--warmup "$r_warm" >"$dir/ort.out" 2>"$dir/ort.err" && j=$(lastjson "$dir/ort.out"); then
					rec "{\"kind\": \"ort\", \"config\": \"$name\", \"threads\": $th, \"round\": $r, \"data\": $j}"
					printf '%s t%s r%s ORT     %s\n' "$name" "$th" "$r" "$(printf '%s' "$j" | sed 's/, *"runs": *\[[^]]*\]//')"
				else
					fail "$name" "$th" ort "$(tail -n 2 "$dir/ort.err")"
					ok=0
					break
				fi
			fi
			if [ $built = 1 ]; then
				settle
				if tmo "$bdir/bench" "$bdir/m.bin" --tokens "$toks" --reps "$r_reps" --warmup "$r_warm" \
					--flops "${flops_per_run:-0}" $mmap >"$dir/gp.out" 2>"$dir/gp.err" && j=$(lastjson "$dir/gp.out"); then
					rec "{\"kind\": \"gptossc\", \"config\": \"$name\", \"threads\": $th, \"gthreads\": $gth, \"round\": $r, \"data\": $j}"
					printf '%s t%s r%s gptossc %s\n' "$name" "$th" "$r" "$(printf '%s' "$j" | sed 's/, *"runs": *\[[^]]*\]//')"
				else
					fail "$name" "$th" gptossc "$(tail -n 2 "$dir/gp.err")"
					ok=0
					built=0
				fi
			fi
			[ $use_ort = 0 ] && [ $built = 0 ] && break
			r=$((r + 1))
		done
		if [ $ok = 1 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
	done
	# decode throughput with the --main driver: a 3-token prompt, then steps tokens, with the
	# KV cache (when the model has NAME_step) and with the full window per token
	if [ $decode = 1 ] && [ -x "$bdir/m" ]; then
		modes=full
		grep -q '_HAS_STEP 1' "$bdir/m.h" && modes="kv full"
		for mode in $modes; do
			echo "== $name: decode ($mode), $steps steps"
			flag=
			[ $mode = full ] && flag=--full
			# three runs, the median (the machine is noisy)
			: >"$dir/decode-$mode.err"
			okd=1
			for rep in 1 2 3; do
				tmo "$bdir/m" "$bdir/m.bin" --tokens 1,2,3 --steps "$steps" $flag >"$dir/decode-$mode.out" 2>>"$dir/decode-$mode.err" || okd=0
			done
			if [ $okd = 1 ]; then
				ms=$(sed -n 's/.* then \([0-9.]*\) ms per token.*/\1/p' "$dir/decode-$mode.err" | sort -n | sed -n 2p)
				first=$(sed -n 's/.*first token \([0-9.]*\) ms.*/\1/p' "$dir/decode-$mode.err" | sort -n | sed -n 2p)
				rec "{\"kind\": \"decode\", \"config\": \"$name\", \"mode\": \"$mode\", \"steps\": $steps, \"ms_per_token\": ${ms:-null}, \"first_ms\": ${first:-null}, \"token_bytes\": ${token_bytes:-null}, \"blob_bytes\": ${blob:-null}}"
				echo "decode ($mode): first token ${first:-?} ms, then ${ms:-?} ms per token (tokens $(cat "$dir/decode-$mode.out"))"
				passed=$((passed + 1))
			else
				fail "$name" 1 "decode-$mode" "$(tail -n 2 "$dir/decode-$mode.err")"
				failed=$((failed + 1))
			fi
		done
		# the KV cache must not change the tokens
		if [ -f "$dir/decode-kv.out" ] && ! cmp -s "$dir/decode-kv.out" "$dir/decode-full.out"; then
			fail "$name" 1 decode-tokens "KV-cache tokens $(cat "$dir/decode-kv.out") differ from full-window tokens $(cat "$dir/decode-full.out")"
			failed=$((failed + 1))
		fi
	fi
}

for cfg in $configs; do
	case $cfg in
	tiny|small|20b-2layer) ;;
	*) echo "run.sh: unknown config '$cfg'"; failed=$((failed + 1)); continue ;;
	esac
	if ! gen_model "$cfg"; then
		for th in $threads; do fail "$cfg" "$th" generate "gen_gptoss.py failed (see $out/$cfg.gen.log)"; done
		failed=$((failed + 1))
		continue
	fi
	bench_case "$cfg" "$onnx"
done
for m in $models; do
	if [ -s "$m" ]; then
		bench_case "$(basename "$m" .onnx)" "$m"
	else
		echo "run.sh: no model $m"
		failed=$((failed + 1))
	fi
done

echo
$PY tests/bench/report.py "$raw" "$out/results.md" || echo "report.py failed"
echo "(table written to $out/results.md, raw data to $raw)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
