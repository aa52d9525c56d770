#!/usr/bin/env bash
# Configures and builds Preflight in $BUILD_DIR (default build/release; Ninja, ccache).
# Extra arguments go to the CMake configure step. Quick when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."
# ccache: paths under the checkout hash as relative ones, so a fresh clone anywhere reuses the
# cache that earlier builds on this machine filled (CI clones into a new folder).
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
PY=$(command -v python3)
PY=$("$PY" -c 'import sys; print(sys.executable)')
BUILD_DIR=${BUILD_DIR:-build/release}
mkdir -p "$BUILD_DIR"
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DPython_EXECUTABLE="$PY" "$@" >"$BUILD_DIR/configure.log" 2>&1 || { cat "$BUILD_DIR/configure.log"; exit 1; }
cmake --build "$BUILD_DIR" -j"$(nproc)"
