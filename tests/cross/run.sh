#!/bin/sh
# tests/cross/run.sh: the generated C on other targets and without a libc.
#
#   (a) aarch64 (NEON path): gptossc --main driver and a logits harness built
#       with aarch64-linux-gnu-gcc -O2 -static, run under qemu-aarch64; tokens
#       equal to the host (x86 AVX2) build, logits within 1e-4; the KV cache's
#       steps (tests/kvcache/harness.c, --kv-cache -n P, default and q8
#       weights) bit-identical to the full window's rows (worst difference 0)
#       with the NEON kernels
#   (b) tests/unit kernel tests built for aarch64 and run under qemu-aarch64
#   (c) Cortex-M7: examples/firmware (--embed-weights --static-arena) under
#       qemu-system-arm -M mps2-an500; tokens equal to the host build;
#       footprint (text/data/bss) and instructions per token
#   (d) -ffreestanding: m.c compiles with -std=c99 -ffreestanding -Wall
#       -Wextra -Werror (host gcc/clang, with and without AVX2, aarch64,
#       Cortex-M7) and its undefined symbols are only mem* and libm (and
#       libgcc helpers on ARM)
#   (e) reproducibility: two compilations give byte-identical files
#   (f) `gptossc run` with no C compiler on PATH (libtcc only)
#
# Model: models/tiny/tiny.onnx (CROSS_MODEL=... to override); while it does
# not compile, a stand-in built by tests/cross/small_model.py.
# Missing tools print "SKIP ..." lines.  Ends with "N passed, N failed".
# Work files and the measured footprint: build/cross/ (footprint.txt).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
G=$top/gptossc
W=$top/build/cross
rm -rf "$W"
mkdir -p "$W"
STEPS=${CROSS_STEPS:-8}
PROMPT=$(tr -d ' \n' < models/tiny/prompt.txt 2>/dev/null)
[ -n "$PROMPT" ] || PROMPT=1,2,3,4,5
QEMU_TIMEOUT=${CROSS_TIMEOUT:-900}
AARCH_SYSROOT=/usr/aarch64-linux-gnu
M7="-mcpu=cortex-m7 -mthumb -mfloat-abi=hard -mfpu=fpv5-d16"
pass=0
fail=0
ok() { echo "PASS $*"; pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }
skip() { echo "SKIP $*"; }
have() { command -v "$1" >/dev/null 2>&1; }
showlog() { sed 's/^/     /' "$1" | tail -"${2:-8}"; }
fp() { echo "$*" >> "$W/footprint.txt"; }

# cmp_logits A B: B is the reference; |a-b| <= 1e-4 * max(1, |b|) on every line
cmp_logits() {
	[ -s "$1" ] && [ -s "$2" ] || { echo "empty logits file"; return 1; }
	[ "$(wc -l < "$1")" -eq "$(wc -l < "$2")" ] || { echo "line counts differ"; return 1; }
	paste "$1" "$2" | awk '{ d = $1 - $2; if (d < 0) d = -d; m = $2 < 0 ? -$2 : $2; if (m < 1) m = 1
		if (d > 1e-4 * m || $1 != $1 + 0 && $1 != $2) nbad++; if (d > max) max = d }
		END { printf "%d values, max |diff| %.3g, %d over 1e-4\n", NR, max, nbad; exit nbad > 0 }'
}

[ -x "$G" ] || { bad "no $G (run make)"; echo "$pass passed, $fail failed"; exit 1; }

# ---- the model ----
MODEL=${CROSS_MODEL:-models/tiny/tiny.onnx}
mkdir -p "$W/probe"
if ! "$G" "$MODEL" -o "$W/probe/m.c" > "$W/probe.log" 2>&1; then
	skip "tiny: $MODEL does not compile yet ($(tail -1 "$W/probe.log")); using the stand-in tests/cross/small_model.py"
	if /usr/bin/python3 tests/cross/small_model.py "$W/small.onnx" > "$W/small.log" 2>&1; then
		MODEL=$W/small.onnx
	else
		bad "stand-in model: $(tail -1 "$W/small.log")"
		echo "$pass passed, $fail failed"
		exit 1
	fi
fi
case $MODEL in /*) ;; *) MODEL=$top/$MODEL ;; esac
echo "model $MODEL, prompt $PROMPT, $STEPS steps"
fp "model: $MODEL"
mkdir -p "$W/gen"
if ! "$G" "$MODEL" -o "$W/gen/m.c" -n m --main > "$W/gen.log" 2>&1; then
	bad "gptossc $MODEL --main: $(tail -1 "$W/gen.log")"
	echo "$pass passed, $fail failed"
	exit 1
fi
ARENA=$(sed -n 's/^#define M_ARENA_BYTES \([0-9]*\).*/\1/p' "$W/gen/m.h")
BLOB=$(sed -n 's/^#define M_BLOB_BYTES \([0-9]*\).*/\1/p' "$W/gen/m.h")
fp "arena_bytes: $ARENA"
fp "blob_bytes: $BLOB"

# ---- host reference build (x86: AVX2+FMA when the CPU has them) ----
HCC=${CC:-cc}
HFLAGS=-O2
case $(uname -m) in
x86_64 | amd64)
	grep -qw avx2 /proc/cpuinfo 2>/dev/null && grep -qw fma /proc/cpuinfo 2>/dev/null && HFLAGS="-O2 -mavx2 -mfma" ;;
esac
mkdir -p "$W/host"
host_tokens=
if $HCC $HFLAGS -I"$W/gen" "$W/gen/m.c" "$W/gen/m_main.c" -o "$W/host/gen" -lm > "$W/host/build.log" 2>&1 &&
	$HCC $HFLAGS -I"$W/gen" "$W/gen/m.c" tests/cross/logits.c -o "$W/host/logits" -lm >> "$W/host/build.log" 2>&1; then
	host_tokens=$("$W/host/gen" "$W/gen/m.bin" --tokens "$PROMPT" --steps "$STEPS" --quiet 2> "$W/host/run.log" | head -1)
	"$W/host/logits" "$W/gen/m.bin" "$PROMPT" > "$W/host/logits.txt" 2>> "$W/host/run.log"
fi
if [ -n "$host_tokens" ] && [ -s "$W/host/logits.txt" ]; then
	ok "host build ($HCC $HFLAGS): tokens $host_tokens"
else
	bad "host build ($HCC $HFLAGS) failed"
	showlog "$W/host/build.log"
	showlog "$W/host/run.log"
fi
fp "host ($HCC $HFLAGS) tokens: $host_tokens"
$HCC $HFLAGS -I"$W/gen" -c "$W/gen/m.c" -o "$W/host/m.o" 2>/dev/null &&
	fp "host m.o ($HCC $HFLAGS) text/data/bss: $(size "$W/host/m.o" 2>/dev/null | awk 'NR==2 { print $1 "/" $2 "/" $3 }')"

# ---- (a) aarch64 under qemu-aarch64 ----
if have aarch64-linux-gnu-gcc && have qemu-aarch64; then
	A="aarch64-linux-gnu-gcc -O2 -static"
	RUNA="qemu-aarch64 -L $AARCH_SYSROOT"
	d=$W/aarch64
	mkdir -p "$d"
	if aarch64-linux-gnu-gcc -O2 -E -dM -I"$W/gen" "$W/gen/m.c" 2>/dev/null | grep -q '^#define RT_NEON 1'; then
		ok "aarch64: RT_NEON is on (__ARM_NEON && __aarch64__)"
	else
		bad "aarch64: RT_NEON is not defined under aarch64-linux-gnu-gcc -O2"
	fi
	if $A -I"$W/gen" "$W/gen/m.c" "$W/gen/m_main.c" -o "$d/gen" -lm > "$d/build.log" 2>&1 &&
		$A -I"$W/gen" "$W/gen/m.c" tests/cross/logits.c -o "$d/logits" -lm >> "$d/build.log" 2>&1; then
		t=$($RUNA "$d/gen" "$W/gen/m.bin" --tokens "$PROMPT" --steps "$STEPS" --quiet 2> "$d/run.log" | head -1)
		if [ -n "$t" ] && [ "$t" = "$host_tokens" ]; then
			ok "aarch64: qemu-aarch64 tokens equal the host's ($t)"
		else
			bad "aarch64: tokens '$t', host '$host_tokens'"
			showlog "$d/run.log"
		fi
		$RUNA "$d/logits" "$W/gen/m.bin" "$PROMPT" > "$d/logits.txt" 2>> "$d/run.log"
		if r=$(cmp_logits "$d/logits.txt" "$W/host/logits.txt"); then
			ok "aarch64: logits row equals the host's within 1e-4 ($r)"
		else
			bad "aarch64: logits differ from the host's: $r"
		fi
		aarch64-linux-gnu-gcc -O2 -I"$W/gen" -c "$W/gen/m.c" -o "$d/m.o" 2>> "$d/build.log" &&
			fp "aarch64 m.o (gcc -O2) text/data/bss: $(aarch64-linux-gnu-size "$d/m.o" | awk 'NR==2 { print $1 "/" $2 "/" $3 }')"
	else
		bad "aarch64: build failed"
		showlog "$d/build.log"
	fi
	# the steps of the KV cache against the full window, with the NEON kernels,
	# the weights as stored by default and as --weights q8 (harness.c at -O2
	# -fno-tree-vectorize: aarch64 gcc 12's vectorizer crashes on it)
	for wf in auto q8; do
		kd=$d/kv-$wf
		mkdir -p "$kd"
		if [ "$MODEL" = "$W/small.onnx" ]; then
			skip "aarch64: KV-cache harness: the stand-in model is no language model"
			break
		fi
		if "$G" --kv-cache --weights=$wf "$MODEL" -o "$kd/m.c" -n P > "$kd/build.log" 2>&1 &&
			/usr/bin/python3 tests/kvcache/spec.py "$kd/m.h" > "$kd/spec.h" 2>> "$kd/build.log" &&
			tok=$(sed -n 's/^int P_step(P_ctx \*c, void \*state, int64_t pos, const \([a-z0-9_]*\) \*token.*/\1/p' "$kd/m.h") &&
			aarch64-linux-gnu-gcc -O2 -Wall -Wextra -Werror -c "$kd/m.c" -o "$kd/m.o" >> "$kd/build.log" 2>&1 &&
			$A -O2 -fno-tree-vectorize -I"$kd" -Itests/kvcache -DTOK="$tok" tests/kvcache/harness.c "$kd/m.o" \
				-o "$kd/harness" -lm >> "$kd/build.log" 2>&1; then
			$RUNA "$kd/harness" "$kd/m.bin" > "$kd/run.log" 2>&1
			rc=$?
			w=$(sed -n 's/^# worst relative difference \([^,]*\),.*/\1/p' "$kd/run.log")
			if [ $rc -eq 0 ] && [ "$w" = 0 ]; then
				ok "aarch64 --weights=$wf: KV-cache steps bit-identical to the full window ($(grep -c '^ok' "$kd/run.log") harness checks, worst difference 0)"
			else
				bad "aarch64 --weights=$wf: KV-cache harness exit $rc, worst difference '$w' (0 expected)"
				grep -v '^ok' "$kd/run.log" | head -5 | sed 's/^/     /'
			fi
		else
			bad "aarch64 --weights=$wf: KV-cache harness build failed"
			showlog "$kd/build.log"
		fi
	done
else
	skip "aarch64: aarch64-linux-gnu-gcc or qemu-aarch64 not found"
fi

# ---- (b) unit tests for aarch64 ----
if ! have aarch64-linux-gnu-gcc || ! have qemu-aarch64; then
	skip "aarch64 unit tests: aarch64-linux-gnu-gcc or qemu-aarch64 not found"
elif [ -n "${CROSS_SKIP_UNIT:-}" ]; then
	skip "aarch64 unit tests: CROSS_SKIP_UNIT is set"
elif [ ! -d tests/unit ] || [ -z "$(ls tests/unit/test_*.c 2>/dev/null)" ]; then
	skip "aarch64 unit tests: no tests/unit/test_*.c yet"
elif [ -f tests/unit/run.sh ] && grep -q 'RUN' tests/unit/run.sh && grep -q 'CC' tests/unit/run.sh; then
	# tests/unit/run.sh takes the compiler and a runner from the environment
	# (--quick: under qemu the full sets take minutes; CROSS_UNIT_FULL=1 for all)
	q=--quick
	[ -n "${CROSS_UNIT_FULL:-}" ] && q=
	CC="aarch64-linux-gnu-gcc -static" RUN="qemu-aarch64 -L $AARCH_SYSROOT" \
		sh tests/unit/run.sh $q > "$W/unit-aarch64.log" 2>&1
	urc=$?
	line=$(grep -E '^(unit: )?[0-9]+ passed, [0-9]+ failed$' "$W/unit-aarch64.log" | tail -1)
	case $line in
	"" ) bad "aarch64 unit tests: tests/unit/run.sh printed no result line"; showlog "$W/unit-aarch64.log" ;;
	*" 0 failed")
		if [ $urc -eq 0 ]; then
			ok "aarch64 unit tests (tests/unit/run.sh $q, CC=aarch64-linux-gnu-gcc RUN=qemu-aarch64): $line"
		else
			bad "aarch64 unit tests: $line but exit $urc (build failure or warnings)"
			grep -E 'build failed|warnings|crashed' "$W/unit-aarch64.log" | head -10 | sed 's/^/     /'
		fi ;;
	*) bad "aarch64 unit tests: $line"; grep '^FAIL' "$W/unit-aarch64.log" | head -10 | sed 's/^/     /' ;;
	esac
else
	# no CC/RUN hooks: build each test_*.c against the runtime ourselves
	mkdir -p "$W/unit"
	up=0
	uf=
	for f in tests/unit/test_*.c; do
		b=$(basename "$f" .c)
		if aarch64-linux-gnu-gcc -O2 -static -Iruntime -Itests/unit "$f" -o "$W/unit/$b" -lm > "$W/unit/$b.log" 2>&1 &&
			(cd tests/unit && qemu-aarch64 -L "$AARCH_SYSROOT" "$W/unit/$b") >> "$W/unit/$b.log" 2>&1; then
			up=$((up + 1))
		else
			uf="$uf $b"
		fi
	done
	if [ -z "$uf" ]; then ok "aarch64 unit tests: $up programs"; else bad "aarch64 unit tests failing:$uf (logs in $W/unit)"; fi
fi

# ---- (c) Cortex-M7 firmware under qemu-system-arm ----
if have arm-none-eabi-gcc && have qemu-system-arm; then
	d=$W/m7
	mkdir -p "$d"
	if make -C examples/firmware MODEL="$MODEL" GPTOSSC="$G" GEN="$d/gen" OUT="$d/build" \
		STEPS="$STEPS" PROMPT="$PROMPT" > "$d/build.log" 2>&1; then
		if grep -q 'warning:' "$d/build.log"; then
			bad "cortex-m7: warnings in the firmware build"
			grep 'warning:' "$d/build.log" | head -5 | sed 's/^/     /'
		else
			ok "cortex-m7: firmware builds warning-free (arm-none-eabi-gcc $M7 -O2)"
		fi
		start=$(date +%s)
		timeout "$QEMU_TIMEOUT" qemu-system-arm -M mps2-an500 -display none -monitor none -serial null \
			-chardev stdio,id=semi -semihosting-config enable=on,target=native,chardev=semi \
			-icount shift=0 -kernel "$d/build/fw.elf" > "$d/run.out" 2> "$d/run.err"
		rc=$?
		secs=$(($(date +%s) - start))
		t=$(head -1 "$d/run.out")
		if [ $rc -eq 0 ] && [ -n "$t" ] && [ "$t" = "$host_tokens" ]; then
			ok "cortex-m7: qemu mps2-an500 tokens equal the host's ($t, ${secs}s)"
		else
			bad "cortex-m7: exit $rc, tokens '$t', host '$host_tokens'"
			showlog "$d/run.out"
			showlog "$d/run.err"
		fi
		ticks=$(sed -n 's/.*timer_ticks_per_token \([0-9]*\).*/\1/p' "$d/run.out")
		cyc=$(sed -n 's/.*dwt_cycles_per_token \([0-9]*\).*/\1/p' "$d/run.out")
		fp "cortex-m7 fw.elf text/data/bss: $(arm-none-eabi-size "$d/build/fw.elf" | awk 'NR==2 { print $1 "/" $2 "/" $3 }')"
		fp "cortex-m7 model.o (code only) text/data/bss: $(arm-none-eabi-size "$d/build/model.o" | awk 'NR==2 { print $1 "/" $2 "/" $3 }')"
		fp "cortex-m7 model_blob.o text/data/bss: $(arm-none-eabi-size "$d/build/model_blob.o" | awk 'NR==2 { print $1 "/" $2 "/" $3 }')"
		[ -n "$ticks" ] && fp "cortex-m7 instructions per token (qemu -icount shift=0, timer ticks x40): $((ticks * 40))"
		su=$(sed -n 's/.*stack_used \([0-9]*\).*/\1/p' "$d/run.out")
		ss=$(sed -n 's/.*stack_size \([0-9]*\).*/\1/p' "$d/run.out")
		if [ -n "$su" ] && [ -n "$ss" ] && [ "$su" -lt "$ss" ]; then
			ok "cortex-m7: stack high-water mark $su of $ss bytes"
		else
			bad "cortex-m7: stack overflow or no stack report (used '$su' of '$ss')"
		fi
		fp "cortex-m7 stack used (painted high-water mark): $su of $ss"
		fp "cortex-m7 deepest model frame (gcc -fstack-usage): $(arm-none-eabi-gcc $M7 -O2 -I"$d/gen" -fstack-usage -c "$d/gen/model.c" -o "$d/su.o" && cd "$d" && sort -t '	' -k2 -n -r su.su | head -1 | awk -F '	' '{ split($1, a, ":"); print $2 " bytes in " a[4] }')"
		[ -n "$cyc" ] && fp "cortex-m7 DWT cycles per token (0 = not modelled by qemu): $cyc"
		fp "cortex-m7 qemu wall time for $STEPS tokens: ${secs}s"
		kvline=$(grep '^# kv cache:' "$d/run.out")
		# the same firmware with the full window per token (FWDEFS=-DFW_FULL=1)
		if make -C examples/firmware MODEL="$MODEL" GPTOSSC="$G" GEN="$d/gen" OUT="$d/build-full" \
			STEPS="$STEPS" PROMPT="$PROMPT" FWDEFS=-DFW_FULL=1 > "$d/build-full.log" 2>&1 &&
		   timeout "$QEMU_TIMEOUT" qemu-system-arm -M mps2-an500 -display none -monitor none -serial null \
			-chardev stdio,id=semi -semihosting-config enable=on,target=native,chardev=semi \
			-icount shift=0 -kernel "$d/build-full/fw.elf" > "$d/run-full.out" 2> "$d/run-full.err" &&
		   [ "$(head -1 "$d/run-full.out")" = "$host_tokens" ] && [ -n "$kvline" ]; then
			fullline=$(grep '^# full window:' "$d/run-full.out")
			kvl=$(printf '%s' "$kvline" | sed -n 's/.*later_token_ticks \([0-9]*\).*/\1/p')
			kvf=$(printf '%s' "$kvline" | sed -n 's/.*first_token_ticks \([0-9]*\).*/\1/p')
			fl=$(printf '%s' "$fullline" | sed -n 's/.*later_token_ticks \([0-9]*\).*/\1/p')
			ok "cortex-m7: the KV cache and the full window give the same tokens; instructions per later token $((kvl * 40)) vs $((fl * 40))"
			fp "cortex-m7 KV cache: instructions for the first token (prefill of the prompt) $((kvf * 40)), per later token $((kvl * 40)), state $(printf '%s' "$kvline" | sed -n 's/.*state_bytes \([0-9]*\).*/\1/p') bytes"
			fp "cortex-m7 full window: instructions per later token $((fl * 40))"
		else
			bad "cortex-m7: the full-window firmware (or the KV-cache report) failed: $(head -1 "$d/run-full.out" 2>/dev/null) vs $host_tokens"
			showlog "$d/build-full.log"
		fi
	else
		bad "cortex-m7: firmware build failed"
		showlog "$d/build.log" 12
	fi
else
	skip "cortex-m7: arm-none-eabi-gcc or qemu-system-arm not found"
fi

# the CMake variant of the same firmware (examples/firmware/CMakeLists.txt)
if have arm-none-eabi-gcc && have qemu-system-arm && have cmake; then
	d=$W/m7-cmake
	if cmake -S examples/firmware -B "$d" -DCMAKE_TOOLCHAIN_FILE="$top/examples/firmware/arm-none-eabi.cmake" \
		-DGPTOSSC="$G" -DGPTOSSC_MODEL="$MODEL" -DFW_STEPS="$STEPS" -DFW_PROMPT="$PROMPT" > "$W/m7-cmake.log" 2>&1 &&
		cmake --build "$d" >> "$W/m7-cmake.log" 2>&1; then
		t=$(cd "$d" && timeout "$QEMU_TIMEOUT" qemu-system-arm -M mps2-an500 -display none -monitor none -serial null \
			-chardev stdio,id=semi -semihosting-config enable=on,target=native,chardev=semi \
			-icount shift=0 -kernel fw.elf 2>> "$W/m7-cmake.log" | head -1)
		if [ -n "$t" ] && [ "$t" = "$host_tokens" ]; then
			ok "cortex-m7 (CMake build): tokens equal the host's"
		else
			bad "cortex-m7 (CMake build): tokens '$t', host '$host_tokens'"
		fi
	else
		bad "cortex-m7: CMake build failed"
		showlog "$W/m7-cmake.log"
	fi
else
	skip "cortex-m7 CMake build: arm-none-eabi-gcc, qemu-system-arm or cmake not found"
fi

# ---- (d) -ffreestanding, undefined symbols ----
# C99 <math.h> functions (f and l variants), mem*, and the compiler's own
# runtime (libgcc: __aeabi_*, __*di3 ...) which every freestanding gcc needs.
MATHRE='(acos|asin|atan|atan2|cos|sin|tan|cosh|sinh|tanh|acosh|asinh|atanh|exp|exp2|expm1|log|log10|log1p|log2|logb|pow|sqrt|cbrt|hypot|erf|erfc|tgamma|lgamma|ceil|floor|trunc|round|lround|llround|rint|lrint|llrint|nearbyint|fmod|remainder|remquo|copysign|nan|nextafter|fdim|fmax|fmin|fma|fabs|frexp|ldexp|modf|scalbn|scalbln|ilogb)[fl]?'
OKRE="^(mem(cpy|set|move)|$MATHRE|__aeabi_[a-z0-9_]+|__[a-z]+[sdt][if][0-9]?)\$"
freestanding() { # LABEL CC NM FLAGS...
	label=$1 fcc=$2 fnm=$3
	shift 3
	if ! have "$fcc"; then skip "freestanding $label: $fcc not found"; return; fi
	o=$W/free-$label.o
	if ! $fcc -std=c99 -ffreestanding -Wall -Wextra -Werror "$@" -I"$W/gen" -c "$W/gen/m.c" -o "$o" > "$W/free-$label.log" 2>&1; then
		bad "freestanding $label: $fcc -std=c99 -ffreestanding -Wall -Wextra -Werror $* fails"
		showlog "$W/free-$label.log"
		return
	fi
	und=$($fnm -u "$o" | awk '{ print $NF }' | sort -u | tr '\n' ' ')
	extra=$(for s in $und; do echo "$s"; done | grep -Ev "$OKRE" | tr '\n' ' ')
	if [ -z "$extra" ]; then
		ok "freestanding $label: -Werror clean; undefined: ${und:-none}"
	else
		bad "freestanding $label: undefined symbols beyond mem*/libm: $extra"
	fi
}
freestanding gcc-O2 gcc nm -O2
case $(uname -m) in x86_64 | amd64) freestanding gcc-avx2 gcc nm -O2 -mavx2 -mfma ;; esac
freestanding clang-O2 clang nm -O2
case $(uname -m) in x86_64 | amd64) freestanding clang-avx2 clang nm -O2 -mavx2 -mfma ;; esac
freestanding aarch64 aarch64-linux-gnu-gcc aarch64-linux-gnu-nm -O2
freestanding cortex-m7 arm-none-eabi-gcc arm-none-eabi-nm -O2 $M7

# ---- (e) reproducibility ----
for i in 1 2; do
	mkdir -p "$W/repro$i"
	"$G" "$MODEL" -o "$W/repro$i/m.c" -n m --main --embed-weights --static-arena > "$W/repro$i.log" 2>&1
done
diffs=
for f in m.c m.h m.bin m_main.c m_blob.c; do
	[ -f "$W/repro1/$f" ] || { diffs="$diffs $f(missing)"; continue; }
	cmp -s "$W/repro1/$f" "$W/repro2/$f" || diffs="$diffs $f"
done
if [ -z "$diffs" ]; then ok "reproducible: two compilations give identical m.c m.h m.bin m_main.c m_blob.c"; else bad "not reproducible:$diffs"; fi
if cmp -s "$W/repro1/m.bin" "$W/gen/m.bin"; then
	ok "reproducible: the blob does not depend on --main/--embed-weights/--static-arena"
else
	bad "m.bin differs between option sets"
fi

# ---- (f) gptossc run with no C compiler on PATH ----
case_dir=/work/shared/onnx-node-tests/test_add
if [ ! -d "$case_dir" ]; then
	skip "no-cc run: $case_dir not found"
elif ! have node; then
	skip "no-cc run: node not found (needed for tensorproto.js cmp)"
else
	nb=$W/nocc-bin
	mkdir -p "$nb"
	for tool in node; do ln -sf "$(command -v $tool)" "$nb/$tool"; done
	found=
	for c in cc gcc clang tcc c99 c89; do PATH=$nb command -v $c >/dev/null 2>&1 && found="$found $c"; done
	rm -rf "$W/nocc-out"
	if [ -n "$found" ]; then
		bad "no-cc run: compilers still on the restricted PATH:$found"
	elif env PATH="$nb" "$G" run "$case_dir/model.onnx" -i "$case_dir/test_data_set_0/input_0.pb" \
		-i "$case_dir/test_data_set_0/input_1.pb" -O "$W/nocc-out" --by-index > "$W/nocc.log" 2>&1 &&
		env PATH="$nb" node tests/ort/tensorproto.js cmp "$W/nocc-out/output_0.pb" \
			"$case_dir/test_data_set_0/output_0.pb" >> "$W/nocc.log" 2>&1; then
		ok "no-cc run: gptossc run test_add with PATH=$nb (only node) matches output_0.pb"
	else
		bad "no-cc run: gptossc run with no compiler on PATH failed"
		showlog "$W/nocc.log"
	fi
fi

echo "footprint (build/cross/footprint.txt):"
sed 's/^/  /' "$W/footprint.txt"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
