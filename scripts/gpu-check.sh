#!/usr/bin/env bash
# Builds the CUDA library, the GPU test runner and the GPU benchmark with CMake, then runs both and,
# when python3 has torch, PyTorch's fused AdamW on the same sizes. Needs only this repository, the
# CUDA toolkit (nvcc), a C++17 compiler with OpenMP and CMake >= 3.18: no Java, Maven or network
# (the JNI entry points are left out when no jni.h is found). Takes a few minutes.
#   scripts/gpu-check.sh                 build for the GPU's own architecture, test, benchmark
#   BNB4J_GPU_BUILD=/dir                 build directory (default: /tmp/bnb4j-gpu-build)
#   BNB4J_GPU_BENCH=0                    test only
#   BNB4J_CUDA_ARCHS="80-real;90-real"   architectures (default: the GPU's, else sm_80, sm_90 + PTX)
#   BNB4J_CMAKE_ARGS="..."               more cmake configure arguments (word-split)
# Exit status: 0 all passed; 1 a test failed; 77 no CUDA device (built, nothing run); else a build error.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${BNB4J_GPU_BUILD:-/tmp/bnb4j-gpu-build}"
step() { echo; echo "=== $*"; }

step "environment"
date -u
uname -srm
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,compute_cap,memory.total,driver_version --format=csv,noheader
command -v nvcc >/dev/null || { [ -x /usr/local/cuda/bin/nvcc ] && export PATH="/usr/local/cuda/bin:$PATH"; }
command -v nvcc >/dev/null || { echo "gpu-check: nvcc not found (put the CUDA toolkit's bin on PATH)"; exit 3; }
nvcc --version | tail -2
cmake --version | head -1
"${CXX:-c++}" --version | head -1
jobs="$(nproc 2>/dev/null || echo 4)"

# The GPU's architecture (e.g. 9.0 -> 90-real): one architecture compiles in half the time.
archs="${BNB4J_CUDA_ARCHS:-}"
if [ -z "$archs" ] && command -v nvidia-smi >/dev/null; then
  cap="$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d ' .')"
  [ -n "$cap" ] && archs="${cap}-real"
fi
archs="${archs:-80-real;90-real;90-virtual}"

step "configure ($build, CUDA architectures $archs)"
configure() {
  cmake -S "$root/libnd4j-ops" -B "$build" -DCMAKE_BUILD_TYPE=Release -DBNB4J_CUDA=ON \
    -DBNB4J_CUDA_ARCHS="$archs" -DBNB4J_OUTPUT_DIR="$build/out" ${BNB4J_CMAKE_ARGS:-}
}
if ! configure; then
  # The usual cause on a GPU machine: a host compiler newer than this nvcc officially supports.
  echo "gpu-check: configure failed; retrying once with nvcc -allow-unsupported-compiler"
  rm -rf "$build"
  CUDAFLAGS="${CUDAFLAGS:-} -allow-unsupported-compiler" configure || { echo "gpu-check: configure failed"; exit 3; }
fi
step "build (-j$jobs)"
start=$(date +%s)
cmake --build "$build" --parallel "$jobs" --target bnb4j bnb4j_cuda gpu_check gpu_bench || { echo "gpu-check: build failed"; exit 3; }
echo "build took $(( $(date +%s) - start )) s"

step "gpu_check: every CUDA kernel against the CPU library"
"$build/gpu_check"
rc=$?
echo "gpu_check exit status $rc"
[ "$rc" -eq 77 ] && { echo "gpu-check: no CUDA device here: built, nothing run"; exit 77; }

if [ "${BNB4J_GPU_BENCH:-1}" != "0" ]; then
  step "gpu_bench: bandwidth against a device-to-device copy (blocksize 256)"
  "$build/gpu_bench" 256 | tee "$build/gpu_bench.txt"
  step "PyTorch fused AdamW (fp32) on the same sizes, and the goals"
  if command -v python3 >/dev/null; then
    python3 "$root/scripts/gpu_bench_torch.py" "$build/gpu_bench.txt"
  else
    echo "python3 not found: no PyTorch comparison"
  fi
fi
step "done in ${SECONDS} s: gpu_check exit status $rc"
exit "$rc"
