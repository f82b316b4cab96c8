#!/usr/bin/env bash
# Builds and runs the native threading benchmark (libnd4j-ops/src/bench/cpp/omp_bench.cpp): the same
# kernel objects as libbnb4j.so, no JVM. Arguments go to omp_bench, e.g.
#   scripts/omp-bench.sh sweep avx512vbmi 2            1 vs 2 threads, n = 4K..1M, every kernel
#   scripts/omp-bench.sh region                        empty-region cost, idle workers' spin after a region
#   scripts/omp-bench.sh step avx2 10000000 20         step times (perf record, noisy neighbour)
# BNB4J_BENCH_GOMP=/path/to/libgomp.so.1 runs it on another OpenMP runtime (e.g. the one ND4J bundles).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="$root/libnd4j-ops/target/cmake-bench"
if [ ! -x "$build/omp_bench" ] || [ -n "$(find "$root/libnd4j-ops/src" "$root/libnd4j-ops/CMakeLists.txt" -newer "$build/omp_bench" -print -quit)" ]; then
  jdk="${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")}"
  cmake -S "$root/libnd4j-ops" -B "$build" -DCMAKE_BUILD_TYPE=Release -DBNB4J_JAVA_HOME="$jdk" >/dev/null
  cmake --build "$build" --target omp_bench --parallel 2 >/dev/null
fi
if [ -n "${BNB4J_BENCH_GOMP:-}" ]; then
  exec env LD_PRELOAD="$BNB4J_BENCH_GOMP" "$build/omp_bench" "$@"
fi
exec "$build/omp_bench" "$@"
