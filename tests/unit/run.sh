#!/bin/sh
# tests/unit/run.sh: kernel unit tests.
#
#   tests/unit/run.sh [--quick] [NAME...]     (NAME: test_matmul, ...)
#
# Every tests/unit/test_*.c (or the ones named) includes its runtime file and
# checks the kernels against its own reference.  Each is built and run
# twice: with -DRT_NO_SIMD (the scalar kernels, the reference) and with the
# SIMD flags of this machine (-mavx2 -mfma on x86 with AVX2/FMA, the
# default NEON on aarch64); the SIMD half is skipped, with a message, on a
# machine without them.  If tcc is installed the scalar build is also
# compiled with tcc, since the generated code is compiled by libtcc.
#
#   CC          the compiler (default cc)
#   RUN         a runner for cross builds, e.g. CC="aarch64-linux-gnu-gcc
#               -static" RUN=qemu-aarch64 tests/unit/run.sh
#
# Prints each program's "N passed, N failed", then a total; exits non-zero
# if anything failed or did not build.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
cc=${CC:-cc}
run=${RUN:-}
quick=
if [ "${1:-}" = "--quick" ]; then quick=--quick; shift; fi
# SIMD flags for this target
arch=$($cc -dumpmachine 2>/dev/null)
out=$top/build/unit/${arch:-host}
mkdir -p "$out"
simd=
case "$arch" in
aarch64*|arm64*) simd="-O2" ;;
x86_64*|i?86*)
	if [ -z "$run" ] && ! grep -qw avx2 /proc/cpuinfo 2>/dev/null; then
		simd=
	elif [ -z "$run" ] && ! grep -qw fma /proc/cpuinfo 2>/dev/null; then
		simd=
	else
		simd="-O2 -mavx2 -mfma"
	fi ;;
esac

if [ $# -eq 0 ]; then
	set --
	for f in "$here"/test_*.c; do [ -f "$f" ] && set -- "$@" "$(basename "$f" .c)"; done
fi

pass=0 fail=0 bad=0
one() { # name variant flags...
	name=$1 variant=$2
	shift 2
	bin=$out/$name-$variant
	if ! "$@" -o "$bin" "$here/$name.c" -lm >"$bin.log" 2>&1; then
		echo "$name [$variant]: build failed:"
		sed 's/^/  /' "$bin.log" | head -20
		bad=$((bad + 1))
		return
	fi
	if [ -s "$bin.log" ]; then
		echo "$name [$variant]: warnings:"
		sed 's/^/  /' "$bin.log" | head -20
		bad=$((bad + 1))
	fi
	$run "$bin" $quick >"$bin.out" 2>&1
	rc=$?
	grep -v '^  ' "$bin.out" | grep -v ' passed, .* failed$' | sed "s/^/$name [$variant]: /"
	line=$(grep ' passed, .* failed$' "$bin.out" | tail -1)
	echo "$name [$variant]: ${line:-crashed (exit $rc)}"
	p=$(echo "$line" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
	f=$(echo "$line" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
	pass=$((pass + ${p:-0}))
	fail=$((fail + ${f:-0}))
	if [ "$rc" -ne 0 ] && [ "${f:-0}" -eq 0 ]; then bad=$((bad + 1)); fi
}

warn="-std=c99 -Wall -Wextra -I$top/runtime"
for name; do
	if [ ! -f "$here/$name.c" ]; then
		echo "$name: no such test"
		bad=$((bad + 1))
		continue
	fi
	one "$name" ref $cc $warn -O2 -DRT_NO_SIMD
	if [ -n "$simd" ]; then
		one "$name" simd $cc $warn $simd
	else
		echo "$name [simd]: skipped (no AVX2/FMA or NEON on this machine)"
	fi
	if [ -z "$run" ] && command -v tcc >/dev/null 2>&1; then
		one "$name" tcc tcc -I"$top/runtime" -DRT_NO_SIMD
	fi
done
echo "unit: $pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$bad" -eq 0 ]
