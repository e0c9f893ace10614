#!/bin/sh
# tools/demo.sh: build gptossc, compile the bundled tiny GPT-OSS graph to C,
# build it with cc and generate tokens (installs what is missing first).
#   tools/demo.sh [--steps N] [--tokens 1,2,3]
set -e
cd "$(dirname "$0")/.."
sh tools/deps.sh --no-cross --no-ort
[ -f Makefile ] || ./configure
make
mkdir -p build/demo
./gptossc models/tiny/tiny.onnx -o build/demo/tiny.c --main --stats
simd=
grep -q avx2 /proc/cpuinfo 2>/dev/null && simd="-mavx2 -mfma"
cc -std=c99 -O2 $simd -Wall -Wextra -o build/demo/tiny build/demo/tiny.c build/demo/tiny_main.c -lm
echo "prompt: $(cat models/tiny/prompt.txt)"
echo "generated:"
build/demo/tiny build/demo/tiny.bin --tokens "$(cat models/tiny/prompt.txt)" --steps 16 "$@"
