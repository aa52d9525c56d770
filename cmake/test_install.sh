#!/usr/bin/env bash
# Installs the build tree into a scratch prefix and builds a consumer against it, outside
# the source tree, both ways: CMake (find_package(preflight CONFIG)) and pkg-config.
# Usage: test_install.sh BUILD_DIR EXAMPLES_DIR
set -euo pipefail
build=$(cd "$1" && pwd); examples=$(cd "$2" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >"$work/install.log"
cp -r "$here/consumer" "$work/src"
expect='"constraintName":"IT SOD-117"'

cmake -S "$work/src" -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$work/prefix" >"$work/configure.log" || { cat "$work/configure.log"; exit 1; }
cmake --build "$work/build" >"$work/build.log" || { cat "$work/build.log"; exit 1; }
"$work/build/consumer_cxx" "$examples/demo-snapshot" "$examples/request.json" | grep -q "$expect"
"$work/build/consumer_c" "$examples/demo-snapshot" "$examples/request.json" | grep -q "$expect"
echo "cmake consumer: ok"

export PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig"
cc -std=c99 -Wall -Werror "$work/src/consumer.c" $(pkg-config --cflags --libs preflight) -o "$work/consumer_pc"
LD_LIBRARY_PATH="$work/prefix/lib" "$work/consumer_pc" "$examples/demo-snapshot" "$examples/request.json" \
  | grep -q "$expect"
echo "pkg-config consumer: ok"
