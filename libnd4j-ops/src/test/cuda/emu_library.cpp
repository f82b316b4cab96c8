// libbnb4j_cuda.so's sources compiled as C++ against the CPU emulation of CUDA (cuda_emu.h), for
// gpu_check_emu: the same files nvcc compiles, not a copy.
#include "../../main/cuda/runtime.cu"
#include "../../main/cuda/quant.cu"
#include "../../main/cuda/optim.cu"
