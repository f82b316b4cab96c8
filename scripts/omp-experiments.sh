#!/usr/bin/env bash
# The threading experiments behind docs/PERFORMANCE.md, with the native harness only (no JVM), so
# they also run on a machine without Maven/ND4J. Compares two omp_bench builds: OLD (static split, one
# contiguous run of blocks per thread, regions from 64K elements) and NEW (parallel.h), on 2 cores of
# the machine (taskset), quiet and beside a process spinning one of those cores, and on all cores.
#   scripts/omp-experiments.sh OLD_BINARY NEW_BINARY OUT_DIR [CORES]
# Build the binaries with scripts/omp-bench.sh (or -DBNB4J_BENCH_STATIC=ON to run them elsewhere).
# CORES: the two cores for the 2-core runs (default "2,3").
set -u
old="$1"; new="$2"; out="$3"; cores="${4:-2,3}"
mkdir -p "$out"
t2="taskset -c $cores"
start=$(date +%s)
log() { echo "== $* (t=$(( $(date +%s) - start ))s)"; }

{
  log machine
  nproc; lscpu | grep -E 'Model name|^CPU\(s\)|Thread|Socket|NUMA node0|L3|Flags' | cut -c1-200
  uname -r
  "$new" isas
} > "$out/machine.txt" 2>&1

# 1. The cost of an empty parallel region and how long idle workers spin after one.
{
  for policy in "" passive; do
    log "region, 2 cores, OMP_WAIT_POLICY=${policy:-unset}"
    OMP_NUM_THREADS=2 OMP_WAIT_POLICY=$policy $t2 "$new" region
  done
  log "region, all cores"
  "$new" region
} > "$out/region.txt" 2>&1

# 2. Quiet, 2 cores: every kernel, OLD vs NEW, each ISA (twice, interleaved).
{
  for isa in avx512vbmi avx2 avx512 scalar; do
    n=10000000; [ "$isa" = scalar ] && n=2000000
    for rep in 1 2; do
      for b in old new; do
        log "quiet 2 cores $isa $b"
        OMP_NUM_THREADS=2 $t2 "${!b}" step "$isa" "$n" 10
      done
    done
  done
} > "$out/quiet-2core.txt" 2>&1

# 3. Where a region pays: 1 vs 2 threads, regions forced at every size (NEW), warm pool.
{
  for isa in avx512vbmi avx2; do
    log "sweep 2 cores $isa"
    OMP_NUM_THREADS=2 $t2 "$new" sweep "$isa" 2 4096 16384 65536 131072 262144 524288 1048576
  done
} > "$out/sweep-2core.txt" 2>&1

# 4. Noisy neighbour on the same 2 cores: OLD vs NEW, spin (default) vs passive waiting, small to large.
{
  for isa in avx512vbmi avx2; do
    for n in 131072 1000000 10000000; do
      reps=$(( n > 5000000 ? 20 : n > 500000 ? 60 : 200 ))
      for rep in 1 2; do
        for b in old new; do
          for policy in "" passive; do
            log "noisy 2 cores $isa n=$n $b OMP_WAIT_POLICY=${policy:-unset}"
            BNB4J_BENCH_NOISY=1 BNB4J_BENCH_KERNELS=adam8bit,lion8bit,adam32,copy OMP_NUM_THREADS=2 OMP_WAIT_POLICY=$policy \
              $t2 "${!b}" step "$isa" "$n" "$reps"
          done
        done
      done
    done
  done
} > "$out/noisy-2core.txt" 2>&1

# 5. The same quiet, for the ratios (adam8bit/lion8bit/adam32/copy at the same sizes).
{
  for isa in avx512vbmi avx2; do
    for n in 131072 1000000 10000000; do
      reps=$(( n > 5000000 ? 20 : n > 500000 ? 60 : 200 ))
      for b in old new; do
        for policy in "" passive; do
          log "quiet 2 cores $isa n=$n $b OMP_WAIT_POLICY=${policy:-unset}"
          BNB4J_BENCH_KERNELS=adam8bit,lion8bit,adam32,copy OMP_NUM_THREADS=2 OMP_WAIT_POLICY=$policy $t2 "${!b}" step "$isa" "$n" "$reps"
        done
      done
    done
  done
} > "$out/quiet-2core-small.txt" 2>&1

# 6. Chunk size under the neighbour (NEW): static-equivalent (one chunk per thread) vs 8K/32K/128K elements.
{
  n=10000000
  for chunk in $((n / 2)) 8192 32768 131072; do
    for rep in 1 2; do
      log "noisy 2 cores avx512vbmi chunk=$chunk"
      BNB4J_BENCH_CHUNK=$chunk BNB4J_BENCH_NOISY=1 BNB4J_BENCH_KERNELS=adam8bit,lion8bit OMP_NUM_THREADS=2 $t2 "$new" step avx512vbmi $n 20
      log "quiet 2 cores avx512vbmi chunk=$chunk"
      BNB4J_BENCH_CHUNK=$chunk BNB4J_BENCH_KERNELS=adam8bit,lion8bit OMP_NUM_THREADS=2 $t2 "$new" step avx512vbmi $n 20
    done
  done
} > "$out/chunks-2core.txt" 2>&1

# 7. All cores: quiet, one spinner, as many spinners as a quarter of the cores.
{
  all=$(nproc)
  for n in 10000000 50000000; do
    for k in 0 1 $(( all / 4 )); do
      for b in old new; do
        log "all $all cores n=$n spinners=$k $b"
        BNB4J_BENCH_NOISY=$k BNB4J_BENCH_KERNELS=adam8bit,lion8bit,adam32,copy "${!b}" step avx512vbmi $n 10
      done
    done
  done
} > "$out/all-cores.txt" 2>&1
log done > "$out/done.txt"
