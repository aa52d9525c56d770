#!/usr/bin/env bash
# Builds the Java binding with the JDK's own tools (javac, jar; no network build tool) and
# runs its test on the demo snapshot and on bad input. Usage: bindings/java/test.sh [BUILD_DIR]
# (default build/release; libpreflight.so is taken from BUILD_DIR/bindings/c).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=$(cd "${1:-$repo/build/release}" && pwd)
jna=${JNA_JAR:-/usr/share/java/jna.jar}
[ -f "$jna" ] || { echo "java: $jna missing (apt-get install libjna-java)" >&2; exit 1; }
out="$build/java"
rm -rf "$out" && mkdir -p "$out/classes" "$out/test-classes"
javac -Xlint:all -Werror -d "$out/classes" -cp "$jna" $(find "$here/src" -name '*.java')
jar --create --file "$out/preflight.jar" -C "$out/classes" .
javac -Xlint:all -Werror -d "$out/test-classes" -cp "$jna:$out/preflight.jar" $(find "$here/test" -name '*.java')
java -ea -Djna.library.path="$build/bindings/c" -cp "$jna:$out/preflight.jar:$out/test-classes" \
  preflight.EngineTest "$repo/examples"
