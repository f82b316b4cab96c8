// Portable kernels: the reference search, used where no SIMD path is available and as the
// in-library cross-check of the table-driven SIMD paths. The per-element functions are element.h's,
// the ones the CUDA kernels run.
#include "kernels.h"
#include "optim.h"

namespace bnb {
namespace {

float absmax_scalar(const float* x, int64_t n) {
  float m = 0.0f;
  for (int64_t i = 0; i < n; ++i) m = absmax_fold(m, x[i]);
  return m;
}

void encode_scalar(const Codebook& cb, const float* x, int64_t n, float absmax, uint8_t* out) {
  float inv;
  Norm mode = norm_mode(absmax, &inv);
  for (int64_t i = 0; i < n; ++i) {
    out[i] = (uint8_t)search_reference(cb.values, normalise(x[i], mode, inv));
  }
}

void decode_scalar(const Codebook& cb, const uint8_t* codes, int64_t n, float absmax, float* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = decode_value(cb.values, codes[i], absmax);
}

}  // namespace

const IsaKernels kScalarKernels = {"scalar", absmax_scalar, encode_scalar, decode_scalar, optim_blocks_scalar, nullptr, nullptr};

}  // namespace bnb
