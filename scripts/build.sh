#!/usr/bin/env bash
# Configures and builds Preflight in build/release (Ninja, ccache). Extra arguments go to
# the CMake configure step. Quick when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=$(command -v python3)
PY=$("$PY" -c 'import sys; print(sys.executable)')
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DPython_EXECUTABLE="$PY" "$@" >build/configure.log 2>&1 || { cat build/configure.log; exit 1; }
cmake --build build/release -j"$(nproc)"
