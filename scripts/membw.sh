#!/usr/bin/env bash
# Memory bandwidth outside the JVM: OpenMP copy and STREAM triad (the C source UpdaterBench also
# compiles on the fly). Usage: scripts/membw.sh [n_floats] [reps] [threads]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${TMPDIR:-/tmp}/bnb4j-membw-$(id -u)"
mkdir -p "$out"
cc -O3 -fopenmp "$root/examples/src/main/resources/org/bnb4j/examples/bench/membw.c" -o "$out/membw"
exec "$out/membw" "$@"
