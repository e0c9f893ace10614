#!/bin/sh
# tests/fuzz/run.sh: libFuzzer over gptossc's front end (load .. emit_c).
#
#   tests/fuzz/run.sh [--seconds N] [--runs N] [--no-fuzz]
#
#   1. builds build/fuzz/fuzz_frontend with clang -fsanitize=fuzzer,address,
#      undefined (every compiler/runtime object rebuilt into build/fuzz/obj);
#   2. replays tests/fuzz/regressions/* one by one: each must run clean.
#      Files named in tests/fuzz/regressions/KNOWN ("FILE reason" per line)
#      are known, unfixed bugs: their crash is XFAIL (not counted); once one
#      runs clean it is a FAIL telling you to remove it from KNOWN;
#   3. builds the seed corpus build/fuzz/corpus once (node-test models,
#      models/tiny, the nested GPT-OSS graph, structured mutants from
#      tests/fuzz/mutate.py, tests/fuzz/seeds/*);
#   4. fuzzes and prints executions, coverage (cov:, ft:) and crashes; a
#      crash's reproducer is copied to tests/fuzz/regressions/ and counts a
#      failure.  Default (`make check`): every input of the seed corpus once,
#      no mutations, so the check is deterministic (a random search would
#      fail CI at random); --runs N adds mutations up to N executions (seed
#      1); --seconds N (`make fuzz`) fuzzes for N seconds with a random
#      seed, restarting after crashes; --no-fuzz only replays regressions.
#
# Ends with "N passed, N failed".  Without clang's libFuzzer: SKIP.
# Environment: CLANG (default clang), FUZZ_FLAGS (extra libFuzzer flags).
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
B=$top/build/fuzz
O=$B/obj
CLANG=${CLANG:-clang}
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
seconds=0
runs=0
corpus_run=1
for a; do
	case $a in
	--seconds) shift_next=seconds ;;
	--runs) shift_next=runs ;;
	--no-fuzz) seconds=0 runs=0 corpus_run=0 ;;
	--seconds=*) seconds=${a#*=} ;;
	--runs=*) runs=${a#*=} ;;
	*)
		if [ "${shift_next:-}" = seconds ]; then
			seconds=$a
			shift_next=
		elif [ "${shift_next:-}" = runs ]; then
			runs=$a
			shift_next=
		else
			echo "usage: tests/fuzz/run.sh [--seconds N] [--runs N] [--no-fuzz]" >&2
			exit 2
		fi
		;;
	esac
done

passed=0 failed=0
finish() {
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit $?
}

# ---- toolchain ------------------------------------------------------------
mkdir -p "$B" "$O"
printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }\n' >"$B/probe.c"
if ! command -v "$CLANG" >/dev/null 2>&1 ||
	! "$CLANG" -fsanitize=fuzzer,address,undefined "$B/probe.c" -o "$B/probe" >/dev/null 2>&1; then
	echo "SKIP fuzz: clang with libFuzzer not available (apt-get install clang libclang-rt-14-dev)"
	finish
fi

# ---- build ----------------------------------------------------------------
if [ ! -f "$top/build/onnx.pb-c.c" ] || [ ! -f "$top/build/embedded.c" ]; then
	(cd "$top" && make >/dev/null) || { echo "FAIL build: make"; failed=$((failed + 1)); finish; }
fi
SAN="-fsanitize=address,undefined -fno-omit-frame-pointer"
CF="-g -O1 $SAN -fsanitize=fuzzer-no-link -I$top/build -I$top/compiler -I$top/runtime -w"
# newest header: a change to any of them rebuilds everything
hdr_newest=$(ls -t "$top"/compiler/gptossc.h "$top"/runtime/*.h "$top"/runtime/*.def "$top/build/onnx.pb-c.h" | head -1)
objs=
build_one() { # SRC OBJ EXTRA_FLAGS
	objs="$objs $2"
	if [ ! -f "$2" ] || [ "$1" -nt "$2" ] || [ "$hdr_newest" -nt "$2" ] || [ "$0" -nt "$2" ]; then
		# shellcheck disable=SC2086
		$CLANG -std=gnu11 $CF $3 -c -o "$2" "$1" || return 1
	fi
}
berr=0
for f in "$top"/compiler/*.c; do
	n=$(basename "$f" .c)
	case $n in
	main) build_one "$f" "$O/main.o" "-Dmain=gptossc_main" || berr=1 ;;
	*) build_one "$f" "$O/$n.o" "" || berr=1 ;;
	esac
done
for f in "$top"/runtime/*.c; do
	build_one "$f" "$O/rt_$(basename "$f" .c).o" "" || berr=1
done
build_one "$top/build/onnx.pb-c.c" "$O/onnx.pb-c.o" "" || berr=1
# embedded.c is big data only: no instrumentation needed
objs="$objs $O/embedded.o"
if [ ! -f "$O/embedded.o" ] || [ "$top/build/embedded.c" -nt "$O/embedded.o" ]; then
	$CLANG -c -o "$O/embedded.o" "$top/build/embedded.c" || berr=1
fi
build_one "$here/fuzz_frontend.c" "$O/fuzz_frontend.o" "-DGPTOSSC_TOP=\"$top\"" || berr=1
WRAP="-Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=free,--wrap=vasprintf,--wrap=open,--wrap=onnx__model_proto__unpack"
if [ $berr = 0 ]; then
	# shellcheck disable=SC2086
	$CLANG -g $SAN -fsanitize=fuzzer -o "$B/fuzz_frontend" $objs $WRAP -lprotobuf-c -pthread -ldl -lm || berr=1
fi
if [ $berr != 0 ]; then
	echo "FAIL build: fuzz_frontend"
	failed=$((failed + 1))
	finish
fi
echo "built $B/fuzz_frontend"

export ASAN_OPTIONS="detect_leaks=0:abort_on_error=0:allocator_may_return_null=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:${UBSAN_OPTIONS:-}"
FZ="$B/fuzz_frontend -close_fd_mask=2 -rss_limit_mb=2048 -timeout=10 -dict=$here/onnx.dict"

# ---- regressions ----------------------------------------------------------
R=$here/regressions
mkdir -p "$R"
known() { [ -f "$R/KNOWN" ] && grep -q "^$1[[:space:]]" "$R/KNOWN"; }
for f in "$R"/*; do
	[ -f "$f" ] || continue
	n=$(basename "$f")
	case $n in KNOWN | README*) continue ;; esac
	# shellcheck disable=SC2086
	FUZZ_NO_FILTER=1 $FZ -runs=1 "$f" >"$B/replay.log" 2>&1
	rc=$?
	if [ $rc -eq 0 ]; then
		if known "$n"; then
			echo "FAIL regression $n: runs clean now: remove it from tests/fuzz/regressions/KNOWN"
			failed=$((failed + 1))
		else
			passed=$((passed + 1))
		fi
	else
		why=$(grep -E 'ERROR: |runtime error|SUMMARY' "$B/replay.log" | head -1 | cut -c1-200)
		if known "$n"; then
			echo "XFAIL regression $n: $(grep "^$n[[:space:]]" "$R/KNOWN" | head -1 | cut -d' ' -f2- | cut -c1-120)"
		else
			echo "FAIL regression $n: $why"
			failed=$((failed + 1))
		fi
	fi
done

# ---- corpus ---------------------------------------------------------------
C=$B/corpus
if [ ! -f "$C/.done" ]; then
	mkdir -p "$C"
	for m in /work/shared/onnx-node-tests/*/model.onnx; do
		[ -f "$m" ] && cp "$m" "$C/node_$(basename "$(dirname "$m")").onnx"
	done
	[ -f "$top/models/tiny/tiny.onnx" ] && cp "$top/models/tiny/tiny.onnx" "$C/tiny.onnx"
	if "$PY" "$top/models/gen_gptoss.py" --config tiny --layout nested --out "$B/nested.onnx" >"$B/gen.log" 2>&1; then
		cp "$B/nested.onnx" "$C/nested.onnx"
	else
		echo "note: gen_gptoss.py --layout nested failed (see $B/gen.log)"
	fi
	"$PY" "$here/mutate.py" "$C" "$C" >"$B/mutate.log" 2>&1 || echo "note: mutate.py failed (see $B/mutate.log)"
	touch "$C/.done"
fi
for s in "$here"/seeds/*; do
	[ -f "$s" ] && cp "$s" "$C/seed_$(basename "$s")"
done
echo "corpus: $(ls "$C" | wc -l) files, $(du -sh "$C" | cut -f1)"

# ---- fuzz -----------------------------------------------------------------
# sig FILE: "KIND at FUNC FILE:LINE" of a crashing input (first frame in the
# compiler or runtime), used to report each distinct bug once
sig() {
	# shellcheck disable=SC2086
	FUZZ_NO_FILTER=1 $FZ -runs=1 "$1" >"$B/sig.log" 2>&1
	kind=$(grep -E 'ERROR: (AddressSanitizer|libFuzzer|LeakSanitizer)|runtime error:' "$B/sig.log" | head -1 |
		sed -e 's/.*ERROR: [A-Za-z]*: //' -e 's/.*runtime error: //' -e 's/ on address.*//' -e 's/ 0x[0-9a-f]*//g' | cut -c1-80)
	frame=$(grep -E "^ *#[0-9]+ .* in .* $top/(compiler|runtime)/" "$B/sig.log" | head -1 |
		sed -e "s|.* in \([^ ]*\) $top/\([^:]*:[0-9]*\).*|\1 \2|")
	[ -n "$kind" ] && echo "$kind at ${frame:-?}"
}
if [ "$seconds" -gt 0 ] || [ "$runs" -gt 0 ] || [ "$corpus_run" = 1 ]; then
	A=$B/artifacts
	mkdir -p "$A"
	rm -f "$A"/crash-* "$A"/leak-* "$A"/timeout-* "$A"/oom-* "$A"/slow-unit-*
	if [ "$seconds" -gt 0 ]; then
		# -fork=1: one worker process at a time, restarted after every crash,
		# so one run can find several bugs (the known ones keep recurring)
		# shellcheck disable=SC2086
		$FZ -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 -max_total_time="$seconds" \
			-artifact_prefix="$A/" -max_len=1048576 ${FUZZ_FLAGS:-} "$C" >"$B/fuzz.log" 2>&1
	else
		# deterministic: the same corpus, seed and count give the same inputs;
		# a scratch copy of the corpus, so the run does not grow the next one's
		# and addresses fixed (no ASLR) where setarch can: pointer comparisons feed the coverage
		NOASLR=
		setarch "$(uname -m)" -R true 2>/dev/null && NOASLR="setarch $(uname -m) -R"
		rm -rf "$B/corpus-run"
		cp -r "$C" "$B/corpus-run"
		# shellcheck disable=SC2086
		$NOASLR $FZ -seed=1 -runs="$runs" -artifact_prefix="$A/" -max_len=1048576 ${FUZZ_FLAGS:-} "$B/corpus-run" \
			>"$B/fuzz.log" 2>&1
	fi
	rc=$?
	last=$(grep -E '^#[0-9]+' "$B/fuzz.log" | tail -1)
	execs=$(printf '%s\n' "$last" | sed -n 's/^#\([0-9]*\).*/\1/p')
	cov=$(printf '%s\n' "$last" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
	ft=$(printf '%s\n' "$last" | sed -n 's/.*ft: \([0-9]*\).*/\1/p')
	corp=$(printf '%s\n' "$last" | sed -n 's/.*corp: \([0-9]*\).*/\1/p')
	# signatures of the regressions we already have
	: >"$B/known.sigs"
	for f in "$R"/*; do
		case $(basename "$f") in KNOWN | README*) continue ;; esac
		[ -f "$f" ] && sig "$f" >>"$B/known.sigs"
	done
	nart=0 nnew=0
	for a in "$A"/crash-* "$A"/timeout-* "$A"/oom-* "$A"/leak-*; do
		[ -f "$a" ] || continue
		nart=$((nart + 1))
		[ $nart -gt 40 ] && continue # replaying is slow: the rest next run
		s=$(sig "$a")
		if [ -z "$s" ]; then
			case $(basename "$a") in
			crash-*) continue ;; # does not reproduce alone
			*) s="$(basename "$a" | cut -d- -f1) (not reproduced in one run)" ;;
			esac
		fi
		grep -qxF "$s" "$B/known.sigs" && continue
		echo "$s" >>"$B/known.sigs"
		nnew=$((nnew + 1))
		dest=$R/$(basename "$a").onnx
		cp "$a" "$dest"
		echo "FAIL fuzz: new bug: $s"
		echo "   reproducer $dest"
		grep -E '^ *#[0-9]+ ' "$B/sig.log" | grep -E "$top/(compiler|runtime)|fuzz_frontend" | head -6 |
			sed -e 's/^ */   /' -e 's/ (BuildId.*//'
		failed=$((failed + 1))
	done
	how="seed 1, $runs runs"
	[ "$runs" = 0 ] && how="the seed corpus once, no mutations"
	[ "$seconds" -gt 0 ] && how="${seconds}s"
	echo "fuzz: $how, executions ${execs:-?}, cov: ${cov:-?}, ft: ${ft:-?}, corpus ${corp:-?}, crash artifacts $nart, new bugs $nnew (log $B/fuzz.log)"
	if [ $nnew -eq 0 ]; then
		if [ $rc -eq 0 ] || [ $nart -gt 0 ]; then
			passed=$((passed + 1))
		else
			echo "FAIL fuzz: libFuzzer exited $rc; tail of $B/fuzz.log:"
			tail -5 "$B/fuzz.log" | sed 's/^/   /'
			failed=$((failed + 1))
		fi
	fi
fi
finish
