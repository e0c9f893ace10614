#!/bin/sh
# tools/deps.sh: install what gptossc's build, demo and tests need, when
# missing: Debian packages (apt-get) and ONNX Runtime for node (npm, into
# build/npm).  Safe to run again: it only installs what is absent.
#   tools/deps.sh [--no-cross] [--no-ort]
set -e
cross=yes
ort=yes
for a; do
	case "$a" in
	--no-cross) cross=no ;;
	--no-ort) ort=no ;;
	esac
done
top=$(cd "$(dirname "$0")/.." && pwd)

pkgs="gcc make libc6-dev libprotobuf-c-dev protobuf-c-compiler libtcc-dev tcc libonnx-dev python3-onnx python3-numpy"
[ "$ort" = yes ] && pkgs="$pkgs nodejs npm python3-torch" # the test suite: ORT, and torch.onnx as a second exporter
[ "$cross" = yes ] && pkgs="$pkgs clang gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm"
missing=
for p in $pkgs; do
	# nodejs may come from elsewhere than Debian: accept a working node/npm
	case $p in
	nodejs) command -v node >/dev/null 2>&1 && continue ;;
	npm) command -v npm >/dev/null 2>&1 && continue ;;
	esac
	dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "deps: installing$missing"
	SUDO=
	[ "$(id -u)" = 0 ] || SUDO=sudo
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
fi
if [ "$ort" = yes ] && [ ! -f "$top/build/npm/node_modules/onnxruntime-node/package.json" ]; then
	echo "deps: installing onnxruntime-node@1.30.0 into build/npm"
	mkdir -p "$top/build/npm"
	# its install script downloads from an unreachable host; the bundled CPU binaries work
	(cd "$top/build/npm" && npm install --silent --no-audit --no-fund --ignore-scripts onnxruntime-node@1.30.0 >/dev/null)
fi
exit 0
