// Pieces shared by host code and (later) a CUDA port: the per-element functions of the optimizer
// rules and of the state byte rules are marked BNB_HD, which makes them __host__ __device__ under nvcc.
#pragma once
#include <cstdint>
#include <cstring>

#if defined(__CUDACC__)
#define BNB_HD __host__ __device__
#else
#define BNB_HD
#endif

namespace bnb {

BNB_HD inline uint32_t f2u(float f) { uint32_t u; std::memcpy(&u, &f, 4); return u; }
BNB_HD inline float u2f(uint32_t u) { float f; std::memcpy(&f, &u, 4); return f; }

}  // namespace bnb
