#!/usr/bin/env bash
# Builds the Java binding with the JDK's own tools (javac, jar; no network build tool):
# BUILD_DIR/java/preflight.jar (default BUILD_DIR build/release). It needs jna.jar
# (apt-get install libjna-java) at run time too, and libpreflight.so from BUILD_DIR/bindings/c.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=$(cd "${1:-$repo/build/release}" && pwd)
jna=${JNA_JAR:-/usr/share/java/jna.jar}
[ -f "$jna" ] || { echo "java: $jna missing (apt-get install libjna-java)" >&2; exit 1; }
out="$build/java"
# Up to date: nothing to do (the README's example and the test both ask for the jar).
if [ -f "$out/preflight.jar" ] && [ -z "$(find "$here/src" "$0" -newer "$out/preflight.jar" -print -quit)" ]; then
  exit 0
fi
rm -rf "$out/classes" && mkdir -p "$out/classes"
javac -Xlint:all -Werror -d "$out/classes" -cp "$jna" $(find "$here/src" -name '*.java')
jar --create --file "$out/preflight.jar" -C "$out/classes" .
