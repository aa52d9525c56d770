#!/usr/bin/env bash
# Installs the build tree into a scratch prefix and builds the embedding examples
# (examples/embed) against it, outside the source tree, both ways: CMake
# (find_package(preflight CONFIG)) and pkg-config. Usage: test_install.sh BUILD_DIR REPO
set -euo pipefail
build=$(cd "$1" && pwd); repo=$(cd "$2" && pwd)
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >"$work/install.log"
cp -r "$repo/examples/embed" "$work/src"
cd "$repo"  # the examples read examples/demo-snapshot
expect='"constraintName": *"IT SOD-117"'

cmake -S "$work/src" -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$work/prefix" >"$work/configure.log" || { cat "$work/configure.log"; exit 1; }
cmake --build "$work/build" >"$work/build.log" || { cat "$work/build.log"; exit 1; }
"$work/build/check_cxx" | grep -Eq "$expect"
"$work/build/check_c" | grep -Eq "$expect"
echo "cmake consumer: ok"

export PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig"
cc -std=c99 -Wall -Werror "$work/src/check.c" $(pkg-config --cflags --libs preflight) -o "$work/check_pc"
LD_LIBRARY_PATH="$work/prefix/lib" "$work/check_pc" | grep -Eq "$expect"
echo "pkg-config consumer: ok"
