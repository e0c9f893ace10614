#!/bin/sh
# tests/runtime/run.sh: compiled models under hostile run-time inputs.
#
#   tests/runtime/run.sh [-k]     -k: keep the work folder (build/runtime.XXXXXX)
#   GPTOSSC=path/to/gptossc CC=cc tests/runtime/run.sh
#
# Uses ./gptossc (builds nothing), /usr/bin/python3 with onnx and numpy, and a
# C compiler with -fsanitize=address,undefined.  Everything is written to a
# private folder under build/, removed at the end unless a case failed (or -k).
#
#   blob/NAME     harness.c blob: tiny_init's error codes for truncated,
#                 corrupted, foreign (models/gen_gptoss.py --seed 7, same
#                 size) and misaligned blobs, short arenas, NULL pointers,
#                 runs on contexts init refused, a read-only blob, two contexts
#   ids/NAME      harness.c ids: out-of-range and negative token ids
#   poison/KIND   harness.c poison: every float32 weight NaN, +Inf, -Inf, 3e38
#                 (the harness is built with ASan+UBSan, -fno-sanitize-recover:
#                 any report fails the mode)
#   nan/CASE      nan_cases.py: NaN/Inf activations through Softmax,
#                 LogSoftmax, TopK, ReduceMax/Min, ArgMax/Min, the RMSNorm
#                 chain and the MoE router, each compiled by gptossc and run
#                 by nanrun.c (ASan+UBSan), once with the scalar kernels and
#                 once (nan/CASE/simd) with AVX2/FMA or NEON where the machine
#                 has them.  Implementation-defined choices (where a NaN ranks,
#                 NaN or the limit for a +Inf row) print as NOTE lines.
#   diskfull/NAME gptossc under `ulimit -f` so that a write fails: exit 1 with
#                 a message naming the file, no model.c/.h/.bin or temporary
#                 left, the previous outputs and the user's files untouched
#
# Prints "PASS"/"FAIL"/"SKIP" per case, "NOTE" lines, and ends with
# "N passed, N failed"; exits 1 on failures.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
cd "$top" || exit 1
G=${GPTOSSC:-./gptossc}
CC=${CC:-cc}
PY=/usr/bin/python3
SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -g"
keep=0
case ${1:-} in
-k) keep=1 ;;
"") ;;
*) echo "usage: tests/runtime/run.sh [-k]" >&2; exit 2 ;;
esac
export ASAN_OPTIONS="detect_leaks=0:exitcode=86"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

passed=0 failed=0
pass() { passed=$((passed + 1)); echo "PASS $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1: $2"; }
finish() {
	if [ "$failed" -eq 0 ] && [ $keep = 0 ]; then
		rm -rf "$W"
	else
		echo "work folder kept: $W"
	fi
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit $?
}
oneline() { grep -m1 -E 'runtime error|ERROR: [A-Za-z]*Sanitizer|error|cannot' "$1" | cut -c1-200; }

mkdir -p build
W=$(mktemp -d "$top/build/runtime.XXXXXX") || exit 1
start=$(date +%s)

if [ ! -x "$G" ]; then
	fail "setup" "no $G (make first)"
	finish
fi
if ! "$PY" -c 'import onnx, numpy' 2>/dev/null; then
	fail "setup" "$PY cannot import onnx and numpy"
	finish
fi

# ---- the tiny model and the harness -------------------------------------------
mkdir -p "$W/tiny" "$W/other"
if ! "$G" models/tiny/tiny.onnx -n tiny -o "$W/tiny/m.c" >"$W/tiny/gptossc.log" 2>&1; then
	fail "tiny" "gptossc: $(head -1 "$W/tiny/gptossc.log")"
	finish
fi
# a blob of another model of the same size: the same graph, other weights
if ! "$PY" models/gen_gptoss.py --config tiny --layout flat --seed 7 --out "$W/other/other.onnx" >"$W/other/gen.log" 2>&1 ||
	! "$G" "$W/other/other.onnx" -n tiny -o "$W/other/m.c" >"$W/other/gptossc.log" 2>&1; then
	fail "tiny-seed7" "$(tail -1 "$W/other/gen.log") $(head -1 "$W/other/gptossc.log" 2>/dev/null)"
	finish
fi
if ! $CC $SAN -O1 -I"$W/tiny" -o "$W/tiny/harness" "$here/harness.c" "$W/tiny/m.c" -lm >"$W/tiny/cc.log" 2>&1; then
	fail "harness" "$CC: $(oneline "$W/tiny/cc.log")"
	finish
fi

# harness MODE PREFIX ARGS...: one PASS/FAIL line per case it printed; a crash
# or sanitizer abort is one more failure
harness() {
	mode=$1 prefix=$2
	shift 2
	log=$W/tiny/$prefix.out
	(cd "$W/tiny" && timeout 120 ./harness "$mode" "$@") >"$log" 2>"$log.err"
	rc=$?
	while IFS= read -r l; do
		case $l in
		"PASS "*) pass "$prefix/${l#PASS }" ;;
		"FAIL "*) n=${l#FAIL }; fail "$prefix/${n%%:*}" "${n#*: }" ;;
		esac
	done <"$log"
	if [ $rc -ne 0 ] && ! grep -q '^FAIL' "$log"; then
		fail "$prefix" "harness $mode exit $rc: $(oneline "$log.err")"
	fi
}
harness blob blob m.bin ../other/m.bin
harness ids ids m.bin all
for k in nan inf ninf big; do
	harness poison poison m.bin "$k"
done
echo "harness: $(($(date +%s) - start))s"

# ---- NaN/Inf activations ------------------------------------------------------
t0=$(date +%s)
N=$W/nan
mkdir -p "$N"
simd=
case $($CC -dumpmachine 2>/dev/null) in
aarch64*|arm64*) simd="-O2" ;;
x86_64*|i?86*) grep -qw avx2 /proc/cpuinfo 2>/dev/null && grep -qw fma /proc/cpuinfo 2>/dev/null && simd="-O2 -mavx2 -mfma" ;;
esac
# nanrun CASE VARIANT FLAGS...: build and run nanrun.c, check with nan_cases.py
nanrun() {
	c=$1 v=$2
	shift 2
	name=nan/$c${v:+/$v}
	out=$N/$c/out${v:+_$v}
	if ! $CC $SAN "$@" -I"$N/$c" -o "$out.exe" "$here/nanrun.c" "$N/$c/m.c" -lm >"$out.cc" 2>&1; then
		fail "$name" "$CC: $(oneline "$out.cc")"
		return
	fi
	(cd "$N/$c" && timeout 60 "$out.exe" m.bin) >"$out.txt" 2>"$out.err"
	rc=$?
	if [ $rc -ne 0 ]; then
		fail "$name" "nanrun exit $rc: $(oneline "$out.err")"
		return
	fi
	"$PY" "$here/nan_cases.py" check "$c" "$out.txt" >"$out.check" 2>&1
	rc=$?
	# NOTEs: the scalar build's, and the SIMD build's where they differ
	grep '^NOTE' "$out.check" >"$out.notes"
	[ -z "$v" ] && cp "$out.notes" "$N/$c/notes"
	if [ -z "$v" ] || ! cmp -s "$N/$c/notes" "$out.notes"; then
		sed "s|^NOTE $c:|NOTE $name:|" "$out.notes"
	fi
	if [ $rc -eq 0 ] && grep -q "^PASS $c\$" "$out.check"; then
		pass "$name"
	else
		fail "$name" "$(grep -v '^NOTE' "$out.check" | sed "s/^FAIL $c: //" | tr '\n' ' ' | cut -c1-600)"
	fi
}
if ! "$PY" "$here/nan_cases.py" gen "$N" >"$N/cases" 2>"$N/gen.err"; then
	fail "nan" "nan_cases.py gen: $(tail -1 "$N/gen.err")"
else
	for c in $(cat "$N/cases"); do
		if ! "$G" "$N/$c/model.onnx" -n m -o "$N/$c/m.c" >"$N/$c/gptossc.log" 2>&1; then
			fail "nan/$c" "gptossc: $(head -1 "$N/$c/gptossc.log")"
			continue
		fi
		# the outputs in graph order, for nanrun.c
		sed -n 's/^#define \(M_OUT_[A-Za-z0-9_]*\)_NUMEL .*/{ \1_NUMEL, \1_DTYPE },/p' "$N/$c/m.h" >"$N/$c/outs.h"
		nanrun "$c" "" -O1 -DRT_NO_SIMD
		if [ -n "$simd" ]; then
			nanrun "$c" simd $simd
		else
			echo "SKIP nan/$c/simd: no AVX2/FMA or NEON here"
		fi
	done
fi
echo "nan cases: $(($(date +%s) - t0))s"

# ---- a write fails: ulimit -f --------------------------------------------------
t0=$(date +%s)
D=$W/diskfull
mkdir -p "$D"
size() { wc -c <"$1" | tr -d ' '; }
# the model: small (its blob, 4.5 MB, is the largest output by far; tiny's
# 186 KB blob is smaller than its model.c with the KV-cache step program)
DM=$D/small.onnx
mkdir -p "$D/ref"
if ! $PY models/gen_gptoss.py --config small --layout flat-unique --out "$DM" >"$D/gen.log" 2>&1 ||
   ! "$G" "$DM" -n tiny -o "$D/ref/m.c" >"$D/ref.log" 2>&1; then
	fail diskfull "the small model did not build: $(tail -1 "$D/gen.log") $(tail -1 "$D/ref.log")"
	finish
fi
sc=$(size "$D/ref/m.c") sh_=$(size "$D/ref/m.h") sb=$(size "$D/ref/m.bin")
big=$sc
[ "$sh_" -gt "$big" ] && big=$sh_
lim=$(((big + 511) / 512)) # ulimit -f counts 512-byte blocks (POSIX)
# diskfull NAME BLOCKS WHAT [previous]: gptossc -o DIR/m.c with a file size
# limit of BLOCKS; WHAT is the file whose write must fail (its name in the
# message); "previous": DIR holds a previous compile's outputs first
diskfull() {
	name=diskfull/$1 d=$D/$1
	mkdir -p "$d"
	# the user's files: one gptossc would write only with --main, one never
	echo "user's own driver" >"$d/m_main.c"
	echo "notes" >"$d/notes.txt"
	[ "${4:-}" = previous ] && cp "$D/ref/m.c" "$D/ref/m.h" "$D/ref/m.bin" "$d/"
	(cd "$d" && ls -A | sort >"$D/$1.before" && cat $(cat "$D/$1.before") | cksum >"$D/$1.sum")
	sh -c "ulimit -f $2 && exec \"\$@\"" sh "$G" "$DM" -n tiny -o "$d/m.c" >"$D/$1.log" 2>&1
	rc=$?
	(cd "$d" && ls -A | sort >"$D/$1.after" && cat $(cat "$D/$1.after") | cksum >"$D/$1.sum2")
	if [ $rc -eq 0 ]; then
		fail "$name" "exit 0 with ulimit -f $2"
	elif [ $rc -ne 1 ]; then
		fail "$name" "exit $rc (killed by a signal?), not 1: $(head -1 "$D/$1.log")"
	elif ! grep -q "cannot write .*$3" "$D/$1.log"; then
		fail "$name" "message does not say that $3 could not be written: $(head -1 "$D/$1.log")"
	elif ! cmp -s "$D/$1.before" "$D/$1.after"; then
		fail "$name" "files before [$(tr '\n' ' ' <"$D/$1.before")] after [$(tr '\n' ' ' <"$D/$1.after")]"
	elif ! cmp -s "$D/$1.sum" "$D/$1.sum2"; then
		fail "$name" "a file that was there changed"
	else
		pass "$name"
	fi
}
if [ "$lim" -ge $(((sb + 511) / 512)) ]; then
	echo "SKIP diskfull/bin: m.bin ($sb bytes) is not the largest output (m.c $sc, m.h $sh_)"
else
	diskfull bin "$lim" 'm\.bin'
	diskfull bin_over_previous "$lim" 'm\.bin' previous
fi
diskfull c 8 'm\.c'
echo "diskfull (ulimit -f $lim; m.c $sc, m.h $sh_, m.bin $sb bytes): $(($(date +%s) - t0))s"
echo "total $(($(date +%s) - start))s"
finish
