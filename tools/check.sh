#!/bin/sh
# tools/check.sh: the whole test suite from a fresh clone: installs what is
# missing, configures, builds, and runs `make check`.
set -e
cd "$(dirname "$0")/.."
sh tools/deps.sh
[ -f Makefile ] || ./configure
make
make check
