#!/bin/sh
# tests/sanitize/run.sh: gptossc and its generated code under AddressSanitizer
# and UndefinedBehaviorSanitizer.  Zero sanitizer reports is the pass mark.
#
#   tests/sanitize/run.sh [-v] [--cases N]
#
# The Makefile builds in-tree only (relative paths), so the source tree is
# copied to build/asan/src (tracked files plus untracked, non-ignored ones;
# mtimes kept, so make rebuilds only what changed) and built there with
# ./configure --enable-debug (-O0 -g -fsanitize=address,undefined).  Then:
#
#   compiler   tests/compiler/run.sh of the copy: it runs the copy's ASan
#              gptossc over every pass/message/bad-input/run test
#   node       ~N (default 100) ONNX node tests of the GPT-OSS ops and N of
#              the other ops through `gptossc run` (libtcc in process, under
#              ASan), one check each
#   models     models/tiny/tiny.onnx and the nested-layout GPT-OSS graph:
#              compile (--main, --dump, --stats, --embed-weights)
#   generate   the tiny model's C + its --main driver built with
#              gcc -fsanitize=address,undefined -fno-sanitize-recover=all,
#              4 greedy steps, the same tokens as an -O2 build
#
# A check fails on any sanitizer report (ASan/UBSan log files, collected
# with log_path), a crash or a timeout.  Exit 1 of gptossc (a rejected or
# unsupported model) is not a sanitizer finding.  Test failures of the
# compiler suite itself are shown as notes (tests/compiler owns them).
# Known, unfixed findings are listed in tests/sanitize/KNOWN (XFAIL).
# Ends with "N passed, N failed".
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
B=$top/build/asan
S=$B/src
L=$B/logs
CC=${CC:-gcc}
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
NCASES=100
verbose=0
while [ $# -gt 0 ]; do
	case $1 in
	-v) verbose=1 ;;
	--cases) NCASES=$2; shift ;;
	*) echo "usage: tests/sanitize/run.sh [-v] [--cases N]" >&2; exit 2 ;;
	esac
	shift
done

passed=0 failed=0
finish() {
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit $?
}
ok() {
	passed=$((passed + 1))
	[ $verbose = 1 ] && echo "ok $1"
	return 0
}
bad() {
	failed=$((failed + 1))
	echo "FAIL $1"
}

mkdir -p "$B" "$L"
printf 'int main(void) { return 0; }\n' >"$B/probe.c"
if ! "$CC" -fsanitize=address,undefined -o "$B/probe" "$B/probe.c" >/dev/null 2>&1 || ! "$B/probe"; then
	echo "SKIP sanitize: $CC cannot build with -fsanitize=address,undefined"
	finish
fi

# ---- copy and build ---------------------------------------------------------
start=$(date +%s)
mkdir -p "$S"
(cd "$top" && { git ls-files; git ls-files -o --exclude-standard; } | sort -u |
	while IFS= read -r f; do [ -f "$f" ] && printf '%s\n' "$f"; done >"$B/files")
(cd "$top" && tar cf - -T "$B/files") | (cd "$S" && tar xf - -m 2>/dev/null; true)
# tar -m would reset mtimes: extract again keeping them (make needs them)
(cd "$top" && tar cf - -T "$B/files") | (cd "$S" && tar xf -)
if [ ! -f "$S/Makefile" ] || [ "$S/configure" -nt "$S/Makefile" ] || [ "$S/Makefile.in" -nt "$S/Makefile" ] ||
	! grep -q '^DEBUG = yes' "$S/Makefile"; then
	(cd "$S" && ./configure --enable-debug >"$B/configure.log" 2>&1) ||
		{ bad "build: configure --enable-debug: $(tail -1 "$B/configure.log")"; finish; }
fi
if ! (cd "$S" && make -j2 gptossc >"$B/make.log" 2>&1); then
	bad "build: make (ASan): $(grep -m1 -i error "$B/make.log" | cut -c1-200)"
	finish
fi
G=$S/gptossc
echo "built $G with ASan+UBSan ($(($(date +%s) - start))s)"

# Reports go to files: $L/asan.PID / $L/ubsan.PID.  LeakSanitizer is off:
# the compiler frees nothing by design (one compilation per process).
rm -rf "$L"/*
export ASAN_OPTIONS="detect_leaks=0:log_path=$L/asan:exitcode=86:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$L/ubsan:exitcode=86"
nreports=0
# new_reports: 0 if sanitizer reports appeared since the last call
# (moves them to $L/seen/, prints their first lines)
new_reports() {
	mkdir -p "$L/seen"
	found=1
	for r in "$L"/asan.* "$L"/ubsan.*; do
		[ -f "$r" ] || continue
		found=0
		nreports=$((nreports + 1))
		grep -E 'ERROR|runtime error|SUMMARY|^    #[0-3] ' "$r" | head -6 | sed 's/^/   /'
		mv "$r" "$L/seen/$(basename "$r").$nreports"
	done
	return $found
}
# Known, unfixed findings: tests/sanitize/KNOWN, one "KEY reason" a line.
# Their failure is XFAIL (not counted); once one passes it is a FAIL
# asking to remove it from KNOWN.
known() { [ -f "$here/KNOWN" ] && grep -q "^$1[[:space:]]" "$here/KNOWN"; }
# check KEY RC [LOG]: passes unless a sanitizer spoke (report files, or
# "runtime error"/"Sanitizer" lines in LOG), it crashed or it hung
check() {
	why=
	if new_reports; then
		why="sanitizer report (above; full logs in $L/seen)"
	elif [ -n "${3:-}" ] && grep -qE 'runtime error:|ERROR: (Address|Leak|Undefined)Sanitizer' "$3"; then
		why="sanitizer report: $(grep -m1 -E 'runtime error:|ERROR: [A-Za-z]*Sanitizer' "$3" | cut -c1-200)"
		grep -E '^ *#[0-3] ' "$3" | head -4 | sed 's/^/   /'
		nreports=$((nreports + 1))
	elif [ "$2" -eq 86 ] || [ "$2" -ge 124 ]; then
		why="exit $2 (crash, timeout or sanitizer abort)"
	fi
	if [ -z "$why" ]; then
		if known "$1"; then
			bad "$1: passes now: remove it from tests/sanitize/KNOWN"
		else
			ok "$1"
		fi
	elif known "$1"; then
		echo "XFAIL $1: $why"
	else
		bad "$1: $why"
	fi
}

# ---- compiler suite ---------------------------------------------------------
t0=$(date +%s)
sh "$S/tests/compiler/run.sh" >"$B/compiler.log" 2>&1
rc=$?
line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$B/compiler.log" | tail -1)
if new_reports; then
	bad "compiler suite under ASan: sanitizer report (above)"
elif [ -z "$line" ]; then
	bad "compiler suite under ASan: no result line (exit $rc): $(tail -2 "$B/compiler.log" | tr '\n' ' ')"
elif grep -qE 'crashed|timed out|exit 86|runtime error:|Sanitizer' "$B/compiler.log"; then
	bad "compiler suite under ASan: $(grep -E 'crashed|timed out|exit 86|runtime error:|Sanitizer' "$B/compiler.log" | head -3 | tr '\n' ' ' | cut -c1-300)"
else
	ok "compiler suite under ASan"
	echo "compiler suite under ASan: $line, no sanitizer reports ($(($(date +%s) - t0))s)"
	grep -E '^FAIL' "$B/compiler.log" | head -5 | sed 's/^/   note (not a sanitizer finding): /'
fi

# ---- node tests through `gptossc run` ----------------------------------------
t0=$(date +%s)
N=/work/shared/onnx-node-tests
if [ -d "$N" ]; then
	# the ops of the GPT-OSS graphs, plus shape/reduce neighbours
	ls "$N" | grep -E '^test_(matmul|gemm|gather|softmax|add|mul|sub|div|reshape|transpose|concat|slice|topk|cast|unsqueeze|squeeze|expand|where|reduce_(sum|mean|max)|rms|layer_norm|sigmoid|pow|sqrt|neg|exp|range|shape|split|einsum|trilu|cumsum|equal|less|greater|argmax|clip|tanh|erf|scatter|constant|identity|flatten|tile|pad)' \
		>"$B/cases.all"
	total=$(wc -l <"$B/cases.all")
	step=$((total / NCASES))
	[ $step -lt 1 ] && step=1
	awk -v s=$step 'NR % s == 0' "$B/cases.all" | head -"$NCASES" >"$B/cases"
	# and as many of the other ops' cases
	ls "$N" | grep -vxF -f "$B/cases.all" >"$B/cases.other"
	other=$(wc -l <"$B/cases.other")
	step=$((other / NCASES))
	[ $step -lt 1 ] && step=1
	awk -v s=$step 'NR % s == 0' "$B/cases.other" | head -"$NCASES" >>"$B/cases"
	total=$((total + other))
	nrun=0 nres=0
	while IFS= read -r c; do
		d=$N/$c
		[ -f "$d/model.onnx" ] || continue
		o=$B/node/$c
		mkdir -p "$o"
		set --
		for i in "$d"/test_data_set_0/input_*.pb; do
			[ -f "$i" ] && set -- "$@" -i "$i"
		done
		timeout 60 "$G" run "$d/model.onnx" "$@" -O "$o" --by-index >"$o/log" 2>&1
		rc=$?
		[ $rc -eq 0 ] && nres=$((nres + 1))
		nrun=$((nrun + 1))
		check "node/$c" $rc "$o/log"
	done <"$B/cases"
	echo "node tests under ASan: $nrun cases (sampled from $total), $nres ran to completion ($(($(date +%s) - t0))s)"
else
	echo "SKIP node tests: $N missing"
fi

# ---- models ------------------------------------------------------------------
t0=$(date +%s)
M=$B/models
mkdir -p "$M"
tiny=$top/models/tiny/tiny.onnx
if [ -f "$tiny" ]; then
	(cd "$M" && timeout 240 "$G" "$tiny" -o "$M/tiny.c" --main --stats >"$M/tiny.log" 2>&1)
	rc=$?
	check "models/tiny-main" $rc "$M/tiny.log"
	[ $rc -ne 0 ] && [ $rc -ne 86 ] && echo "   exit $rc: $(head -2 "$M/tiny.log" | tr '\n' ' ')"
	timeout 240 "$G" "$tiny" -o "$M/tiny_e.c" --embed-weights --static-arena -n tinye >"$M/tiny_e.log" 2>&1
	check "models/tiny-embed" $? "$M/tiny_e.log"
else
	bad "models: $tiny missing"
fi
if "$PY" "$top/models/gen_gptoss.py" --config tiny --layout nested --out "$M/nested.onnx" >"$M/gen.log" 2>&1; then
	timeout 240 "$G" "$M/nested.onnx" --dump -o "$M/nested.c" >"$M/nested.log" 2>&1
	check "models/nested" $? "$M/nested.log"
else
	echo "SKIP models: gen_gptoss.py --layout nested failed: $(tail -1 "$M/gen.log")"
fi
echo "models under ASan: $(($(date +%s) - t0))s"

# ---- the generated C under sanitizers ---------------------------------------
t0=$(date +%s)
if [ -f "$M/tiny.c" ] && [ -f "$M/tiny_main.c" ]; then
	prompt=$(cat "$top/models/tiny/prompt.txt" 2>/dev/null || echo 1,2,3)
	if "$CC" -std=c99 -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer \
		-o "$M/tiny_asan" "$M/tiny.c" "$M/tiny_main.c" -lm >"$M/cc.log" 2>&1; then
		(cd "$M" && timeout 120 ./tiny_asan tiny.bin --tokens "$prompt" --steps 4 --quiet >"$M/gen_asan.out" 2>"$M/gen_asan.err")
		rc=$?
		check "generate/tiny-4-steps" $rc "$M/gen_asan.err"
		[ $rc -ne 0 ] && echo "   exit $rc: $(head -3 "$M/gen_asan.err" | tr '\n' ' ')"
		# the same tokens as a plain optimised build
		if "$CC" -std=c99 -O2 -o "$M/tiny_o2" "$M/tiny.c" "$M/tiny_main.c" -lm >>"$M/cc.log" 2>&1; then
			(cd "$M" && ./tiny_o2 tiny.bin --tokens "$prompt" --steps 4 --quiet >"$M/gen_o2.out" 2>/dev/null)
			if [ -s "$M/gen_asan.out" ] && cmp -s "$M/gen_asan.out" "$M/gen_o2.out"; then
				ok "generate: sanitized tokens equal -O2 tokens ($(cat "$M/gen_o2.out"))"
			else
				bad "generate: sanitized [$(cat "$M/gen_asan.out")] vs -O2 [$(cat "$M/gen_o2.out")]"
			fi
		fi
	else
		bad "generate: $CC -fsanitize: $(grep -m1 error "$M/cc.log" | cut -c1-200)"
	fi
	if [ -f "$M/tiny_e.c" ]; then
		# the embedded-weights variant compiles warning-free under sanitizers too
		"$CC" -std=c99 -O0 -fsanitize=address,undefined -c -o "$M/tiny_e.o" "$M/tiny_e.c" >"$M/cc_e.log" 2>&1
		if [ $? -eq 0 ]; then ok "generate: tiny_e.c compiles"; else bad "generate: tiny_e.c: $(head -1 "$M/cc_e.log")"; fi
	fi
else
	bad "generate: no tiny.c/tiny_main.c (compile step failed)"
fi
echo "generated code under sanitizers: $(($(date +%s) - t0))s"
echo "sanitizer reports: $nreports; total $(($(date +%s) - start))s"
finish
