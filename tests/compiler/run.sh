#!/bin/sh
# tests/compiler/run.sh: tests of the compiler's passes, messages and outputs.
#
#   tests/compiler/run.sh            run every test (uses ./gptossc, builds nothing)
#   tests/compiler/run.sh --update   rewrite tests/compiler/golden/*.dump from ./gptossc
#                                    (review the diff by eye before committing)
#   tests/compiler/run.sh -v         also print passing tests
#   GPTOSSC=path/to/gptossc tests/compiler/run.sh   test another build
#
# The models come from tests/compiler/make_models.py, written to
# build/compiler-tests/m (never into git).  The suites:
#   golden    golden.txt: --dump / --dump-after=PASS / --stats output vs golden/NAME.dump
#   run       every model with NAME.out<i>.pb: `gptossc run` vs numpy's values
#   cnames    odd value names give distinct valid C identifiers; model.c compiles
#   bad       bad-inputs.txt: exit status, message, no files left behind
#   determinism, safety: byte-identical outputs; failed compiles touch nothing
#
# Prints "FAIL ..." per failure, "SKIP ..." for tests whose ops gptossc does
# not support yet, "XFAIL ..." for known compiler bugs (listed, not counted),
# and ends with "N passed, N failed"; exits 1 on failures.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
G=${GPTOSSC:-$top/gptossc}
T=$top/build/compiler-tests
M=$T/m
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
update=0
verbose=0
for a; do
	case $a in
	--update) update=1 ;;
	-v) verbose=1 ;;
	*) echo "usage: tests/compiler/run.sh [--update] [-v]" >&2; exit 2 ;;
	esac
done

passed=0 failed=0 skipped=0 xfailed=0
pass() { # NAME FLAGS
	passed=$((passed + 1))
	case $2 in
	*known-bad*) echo "XPASS $1: works now; drop its known-bad flag" ;;
	*) [ $verbose = 1 ] && echo "ok $1" ;;
	esac
	return 0
}
fail() { # NAME FLAGS REASON
	case $2 in
	*known-bad*) xfailed=$((xfailed + 1)); echo "XFAIL $1: $3" ;;
	*) failed=$((failed + 1)); echo "FAIL $1: $3" ;;
	esac
}
skip() {
	skipped=$((skipped + 1))
	echo "SKIP $1"
}
trim() { printf '%s' "$1" | sed 's/^[[:space:]]*//; s/[[:space:]]*$//'; }
oneline() { tr '\n' ' ' <"$1" | sed 's/  */ /g; s/ $//' | cut -c1-300; }

if [ ! -x "$G" ]; then
	echo "FAIL setup: $G not found (run make first)"
	echo "0 passed, 1 failed"
	exit 1
fi
rm -rf "$T"
mkdir -p "$T"
if ! "$PY" "$here/make_models.py" "$M" >"$T/make.log" 2>&1; then
	echo "FAIL setup: make_models.py: $(oneline "$T/make.log")"
	echo "0 passed, 1 failed"
	exit 1
fi

# gp ARGS...: ./gptossc in the models' folder; rc, $T/out, $T/err
gp() {
	# (no exec: the subshell reports a crash, to /dev/null; rc says it)
	(cd "$M" && timeout 30 "$G" "$@" >"$T/out" 2>"$T/err"; exit $?) 2>/dev/null
	rc=$?
}
# the ops gptossc reported unsupported in $T/err, space separated
unsupported() {
	sed -n 's/^  \([A-Za-z0-9_.:]*\) (opset [0-9-]*), first at node.*/\1/p' "$T/err" | tr '\n' ' ' | sed 's/ $//'
}
# "exit N: first lines of the message", or how it crashed
what() {
	if [ "$rc" -eq 124 ]; then
		echo "timed out (30 s)"
	elif [ "$rc" -gt 128 ]; then
		echo "crashed (signal $((rc - 128)))"
	else
		echo "exit $rc: $(oneline "$T/err")"
	fi
}

# ---------------------------------------------------------------- golden
mkdir -p "$here/golden"
while IFS='|' read -r name flags args; do
	name=$(trim "$name")
	case $name in '' | '#'*) continue ;; esac
	flags=$(trim "$flags")
	t="golden $name"
	gold=$here/golden/$name.dump
	# shellcheck disable=SC2086
	gp $args
	u=$(unsupported)
	if [ -n "$u" ]; then
		skip "$t: $u unsupported"
		continue
	fi
	if [ $update = 1 ]; then
		case $flags in
		*known-bad*) ;;
		*)
			if [ $rc -eq 0 ]; then
				cmp -s "$T/out" "$gold" || { cp "$T/out" "$gold" && echo "updated golden/$name.dump"; }
			fi
			;;
		esac
	fi
	if [ $rc -ne 0 ]; then
		fail "$t" "$flags" "$(what)"
	elif [ ! -f "$gold" ]; then
		fail "$t" "$flags" "no golden/$name.dump (run.sh --update writes it)"
	elif ! cmp -s "$T/out" "$gold"; then
		fail "$t" "$flags" "output differs from golden/$name.dump: $(diff "$gold" "$T/out" | grep '^[<>]' | head -4 | tr '\n' ' ' | cut -c1-300)"
	else
		pass "$t" "$flags"
	fi
done <"$here/golden.txt"

# ---------------------------------------------------------------- run
# Every model with expected outputs NAME.out<i>.pb runs on NAME.in<i>.pb.
# Known compiler bugs: inline_unnamed (unnamed nodes in a function body),
# outputs_dup and outputs_input (an output listed twice, an input that is
# an output: the same C parameter name twice in <p>_run).
run_known_bad=""
for e in "$M"/*.out0.pb; do
	[ -f "$e" ] || continue
	m=$(basename "$e" .out0.pb)
	t="run $m"
	case " $run_known_bad " in *" $m "*) rflags=known-bad ;; *) rflags=- ;; esac
	o=$T/run/$m
	mkdir -p "$o"
	set --
	for i in "$M/$m".in*.pb; do [ -f "$i" ] && set -- "$@" -i "$i"; done
	gp run "$m.onnx" "$@" -O "$o" --by-index
	u=$(unsupported)
	if [ -n "$u" ]; then
		skip "$t: $u unsupported"
		continue
	fi
	if [ $rc -ne 0 ]; then
		fail "$t" "$rflags" "$(what)"
		continue
	fi
	bad=
	for x in "$M/$m".out*.pb; do
		k=${x#"$M/$m".out}
		k=${k%.pb}
		if ! node "$top/tests/ort/tensorproto.js" cmp "$o/output_$k.pb" "$x" --rtol 1e-4 --atol 1e-6 >"$T/cmp" 2>&1; then
			bad="$bad output $k: $(oneline "$T/cmp" | cut -c1-120);"
		fi
	done
	if [ -n "$bad" ]; then fail "$t" "$rflags" "wrong values:$bad"; else pass "$t" "$rflags"; fi
done

# ---------------------------------------------------------------- attention
# attn.c's fused attention (one rt_attn_chain call) gives the bits of the
# unfused calls (--no-chains): with libtcc (the scalar kernels) and with cc
# (the machine's SIMD kernels)
acc=$(command -v "${CC:-cc}" >/dev/null 2>&1 && echo "${CC:-cc} -O2")
case $(uname -m) in
x86_64 | amd64) [ -n "$acc" ] && grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo && acc="$acc -mavx2 -mfma" ;;
esac
for m in attn_sink attn_lone; do
	for c in tcc ${acc:+cc}; do
		t="attention $m $c: fused = unfused bits"
		o=$T/attn/$m-$c
		mkdir -p "$o"
		set --
		for i in "$M/$m".in*.pb; do set -- "$@" -i "$i"; done
		[ $c = cc ] && set -- "$@" --cc "$acc"
		gp run "$m.onnx" "$@" -O "$o/fused" --by-index
		r1=$rc
		gp run "$m.onnx" "$@" -O "$o/unfused" --by-index --no-chains
		if [ $r1 -ne 0 ] || [ $rc -ne 0 ]; then
			fail "$t" - "$(what)"
		elif ! (cd "$M" && "$G" "$m.onnx" --dump | grep -q "^AttnChain"); then
			fail "$t" - "no AttnChain in the dump"
		elif ! diff -r "$o/fused" "$o/unfused" >/dev/null; then
			fail "$t" - "the outputs differ"
		else
			pass "$t" -
		fi
	done
done

# ---------------------------------------------------------------- cnames
# The run function's parameters (the input and output names) must be
# distinct valid C identifiers that are not keywords, the header's macros
# must be distinct, and model.c must compile.
keywords=" auto break case char const continue default do double else enum extern float for goto if inline int long register restrict return short signed sizeof static struct switch typedef union unsigned void volatile while _Bool _Complex _Imaginary "
CC=${CC:-cc}
command -v "$CC" >/dev/null 2>&1 || CC=
check_cnames() { # MODEL FLAGS
	t="cnames $1"
	d=$T/cnames/$1
	mkdir -p "$d"
	gp "$1.onnx" -n m -o "$d/m.c"
	if [ $rc -ne 0 ]; then
		fail "$t" "$2" "$(what)"
		return
	fi
	why=
	params=$(sed -n 's/^int m_run(m_ctx \*c, \(.*\));$/\1/p' "$d/m.h" | tr ',' '\n' | sed 's/.*[ *]//')
	[ -n "$params" ] || why="$why no m_run prototype in m.h;"
	for p in $params; do
		case $p in
		[A-Za-z]*) ;;
		*) why="$why parameter '$p' does not start with a letter;" ;;
		esac
		case $p in *[!A-Za-z0-9_]*) why="$why parameter '$p' is not an identifier;" ;; esac
		case $keywords in *" $p "*) why="$why parameter '$p' is a C keyword;" ;; esac
	done
	dup=$(printf '%s\n' $params c | sort | uniq -d | tr '\n' ' ')
	[ -n "$dup" ] && why="$why parameters not distinct: $dup;"
	dup=$(sed -n 's/^#define \([A-Za-z0-9_]*\).*/\1/p' "$d/m.h" | sort | uniq -d | tr '\n' ' ')
	[ -n "$dup" ] && why="$why macros defined twice in m.h: $dup;"
	if [ -n "$CC" ] && ! (cd "$d" && "$CC" -std=c99 -fsyntax-only m.c) >"$T/cc" 2>&1; then
		why="$why m.c does not compile: $(grep -m2 error "$T/cc" | tr '\n' ' ' | cut -c1-200);"
	fi
	if [ -n "$why" ]; then fail "$t" "$2" "$why"; else pass "$t" "$2"; fi
}
check_cnames cnames -
check_cnames cnames_wrapper -
check_cnames cnames_case -

# ---------------------------------------------------------------- simplify: calls
# Identity, and Dropout whose mask nobody reads, are free: simplify_dce keeps
# Relu, Abs and at most one copy into the output.
t="calls simplify_dce"
gp simplify_dce.onnx --stats
n=$(sed -n 's/^kernel calls: //p' "$T/out")
if [ $rc -ne 0 ] || [ -z "$n" ]; then
	fail "$t" - "$(what)"
elif [ "$n" -gt 3 ]; then
	fail "$t" - "$n kernel calls, expected at most 3 (Relu, Abs, a copy to the output; Dropout with an unused mask should be a view)"
else
	pass "$t" -
fi

# ---------------------------------------------------------------- bad inputs
while IFS='|' read -r name status flags args expect; do
	name=$(trim "$name")
	case $name in '' | '#'*) continue ;; esac
	status=$(trim "$status")
	flags=$(trim "$flags")
	expect=$(trim "$expect")
	t="bad $name"
	o=$T/bad/$name
	mkdir -p "$o"
	args=$(printf '%s' "$args" | sed "s|@O@|$o|g")
	expect=$(printf '%s' "$expect" | sed "s|@O@|$o|g")
	# shellcheck disable=SC2086
	gp $args
	u=$(unsupported)
	case $expect in *unsupported*) u= ;; esac
	if [ -n "$u" ]; then
		skip "$t: $u unsupported"
		continue
	fi
	cat "$T/err" "$T/out" >"$T/all"
	why=
	[ "$rc" -ne "$status" ] && why="exit $rc, expected $status;"
	rest=$expect
	while [ -n "$rest" ]; do
		s=${rest%% && *}
		if [ "$s" = "$rest" ]; then rest=; else rest=${rest#* && }; fi
		grep -qF -e "$s" "$T/all" || why="$why no \"$s\" in the message;"
	done
	left=$(ls -A "$o")
	if [ "$status" -ne 0 ] || [ "$rc" -ne 0 ]; then
		[ -n "$left" ] && why="$why files left in the output folder: $(echo $left);"
	else
		case $args in
		*"-o $o/m.c"*)
			[ "$left" = "$(printf 'm.bin\nm.c\nm.h')" ] || why="$why output folder holds '$(echo $left)', expected m.bin m.c m.h;"
			;;
		esac
	fi
	if [ -n "$why" ]; then
		fail "$t" "$flags" "$why got: $(oneline "$T/all")"
	else
		pass "$t" "$flags"
	fi
done <"$here/bad-inputs.txt"

# ---------------------------------------------------------------- determinism
# The same model compiled twice (by relative and by absolute path, from
# different folders, to different folders, same -n) gives identical files.
for m in good inline_nested fold_mask simplify_dedupe ext_ok; do
	t="determinism $m"
	d1=$T/det/$m/1
	d2=$T/det/$m/2
	mkdir -p "$d1" "$d2"
	gp "$m.onnx" -n det -o "$d1/m.c"
	rc1=$rc
	(cd "$T" && timeout 30 "$G" "$M/$m.onnx" -n det -o "$d2/m.c" >/dev/null 2>&1; exit $?) 2>/dev/null
	rc2=$?
	u=$(unsupported)
	if [ -n "$u" ]; then skip "$t: $u unsupported"; continue; fi
	if [ $rc1 -ne 0 ] || [ $rc2 -ne 0 ]; then
		fail "$t" - "exit $rc1 / $rc2: $(oneline "$T/err")"
		continue
	fi
	why=
	for x in m.c m.h m.bin; do
		cmp -s "$d1/$x" "$d2/$x" || why="$why $x differs;"
	done
	if [ -n "$why" ]; then fail "$t" - "$why"; else pass "$t" -; fi
done

# ---------------------------------------------------------------- output safety
# A failed compile leaves existing outputs at the -o path untouched.
for c in "bad_broadcast.onnx" "good.onnx -n 9bad" "bad_truncated.onnx"; do
	t="safety keeps old outputs ($c)"
	d=$T/safe/$(echo "$c" | tr ' ./=' '____')
	mkdir -p "$d"
	for x in c h bin; do echo "old m.$x" >"$d/m.$x"; done
	# shellcheck disable=SC2086
	gp $c -o "$d/m.c"
	why=
	[ $rc -eq 0 ] && why="exit 0;"
	for x in c h bin; do
		[ "$(cat "$d/m.$x" 2>/dev/null)" = "old m.$x" ] || why="$why m.$x changed;"
	done
	[ "$(ls -A "$d" | wc -l)" -eq 3 ] || why="$why new files: $(ls -A "$d" | tr '\n' ' ');"
	if [ -n "$why" ]; then fail "$t" - "$why"; else pass "$t" -; fi
done
# gptossc never writes over its input model: victim.bin with -o victim.c
# would write victim.bin; self.c with -o self.c would write self.c.
for c in "victim.bin victim.c" "self.c self.c"; do
	set -- $c
	t="safety keeps the input model ($1 -o $2)"
	d=$T/safe/self_$1
	mkdir -p "$d"
	cp "$M/good.onnx" "$d/$1"
	(cd "$d" && timeout 30 "$G" "$1" -o "$2" >"$T/out" 2>"$T/err"; exit $?) 2>/dev/null
	rc=$?
	why=
	cmp -s "$d/$1" "$M/good.onnx" || why="the model $1 was overwritten;"
	[ $rc -eq 0 ] && why="$why exit 0 (expected a refusal naming the model);"
	if [ -n "$why" ]; then fail "$t" - "$why"; else pass "$t" -; fi
done

# --weights: the formats each mode stores (--stats), and a blob of one mode
# is refused by a model.c of another (the graph hash covers the mode)
tiny=$top/models/tiny/tiny.onnx
for w in auto f32 bf16 q8; do
	d=$T/weights/$w
	mkdir -p "$d"
	t="weights $w"
	if ! "$G" "$tiny" --weights "$w" --stats -o "$d/m.c" >"$d/stats" 2>&1; then
		fail "$t" - "gptossc failed: $(head -2 "$d/stats")"
		continue
	fi
	fmts=$(sed -n 's/^  \(mxfp4\|q8\|bf16\|f32\) .*/\1/p' "$d/stats" | sort | tr '\n' ' ')
	case $w in
	auto) want="bf16 f32 mxfp4 " ;;
	f32) want="f32 " ;;
	bf16) want="bf16 f32 " ;;
	q8) want="f32 mxfp4 q8 " ;;
	esac
	if [ "$fmts" = "$want" ]; then pass "$t" -; else fail "$t" - "stores [$fmts], expected [$want]"; fi
	sed -n 's/^#define P_GRAPH_HASH \(.*\)ULL.*/\1/p;s/^#define M_GRAPH_HASH \(.*\)ULL.*/\1/p' "$d/m.h" >"$d/hash"
done
t="weights: each mode its own graph hash"
if [ "$(cat "$T"/weights/*/hash | sort -u | wc -l)" -eq 4 ]; then pass "$t" -; else fail "$t" - "$(cat "$T"/weights/*/hash | tr '\n' ' ')"; fi
t="weights: q8 blob smaller than auto's"
if [ "$(wc -c <"$T/weights/q8/m.bin")" -lt "$(wc -c <"$T/weights/auto/m.bin")" ]; then pass "$t" -; else fail "$t" - "q8 $(wc -c <"$T/weights/q8/m.bin") bytes"; fi
t="weights: an unknown format is refused"
if "$G" "$tiny" --weights q4 -o "$T/weights/bad.c" >"$T/out" 2>&1; then
	fail "$t" - "exit 0"
elif grep -q "not 'q4'" "$T/out" && [ ! -e "$T/weights/bad.c" ]; then
	pass "$t" -
else
	fail "$t" - "$(head -2 "$T/out")"
fi

[ $skipped -gt 0 ] || [ $xfailed -gt 0 ] && echo "($skipped skipped, $xfailed known compiler bugs: XFAIL)"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
