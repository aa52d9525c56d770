#!/usr/bin/env bash
# Builds the Java binding (build.sh) and runs its test on the demo snapshot and on bad
# input. Usage: bindings/java/test.sh [BUILD_DIR] (default build/release).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=$(cd "${1:-$repo/build/release}" && pwd)
jna=${JNA_JAR:-/usr/share/java/jna.jar}
bash "$here/build.sh" "$build"
out="$build/java"
rm -rf "$out/test-classes" && mkdir -p "$out/test-classes"
javac -Xlint:all -Werror -d "$out/test-classes" -cp "$jna:$out/preflight.jar" $(find "$here/test" -name '*.java')
java -ea -Djna.library.path="$build/bindings/c" -cp "$jna:$out/preflight.jar:$out/test-classes" \
  preflight.EngineTest "$repo/examples"
