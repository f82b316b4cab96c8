// Picks the widest instruction set this CPU supports, once; BNB4J_ISA=scalar|avx2|avx512|avx512vbmi
// (or bnb_select_isa) narrows it, e.g. to test every path on one machine.
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string>
#include "kernels.h"

namespace bnb {
namespace {

bool cpu_has_avx2() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
bool cpu_has_avx512() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
}

// Ice Lake / Zen 4 and later: byte permutes across a whole vector (vpermb, vpermi2b).
bool cpu_has_avx512vbmi() { return cpu_has_avx512() && __builtin_cpu_supports("avx512vbmi"); }

const IsaKernels* by_name(const char* name) {
  if (name == nullptr) return nullptr;
  if (std::strcmp(name, "scalar") == 0) return &kScalarKernels;
  if (std::strcmp(name, "avx2") == 0) return cpu_has_avx2() ? &kAvx2Kernels : nullptr;
  if (std::strcmp(name, "avx512") == 0) return cpu_has_avx512() ? &kAvx512Kernels : nullptr;
  if (std::strcmp(name, "avx512vbmi") == 0) return cpu_has_avx512vbmi() ? &kAvx512VbmiKernels : nullptr;
  return nullptr;
}

const IsaKernels* best() {
  const IsaKernels* forced = by_name(std::getenv("BNB4J_ISA"));
  if (forced != nullptr) return forced;
  if (cpu_has_avx512vbmi()) return &kAvx512VbmiKernels;
  if (cpu_has_avx512()) return &kAvx512Kernels;
  if (cpu_has_avx2()) return &kAvx2Kernels;
  return &kScalarKernels;
}

std::atomic<const IsaKernels*> g_active{nullptr};

}  // namespace

const IsaKernels& active_kernels() {
  const IsaKernels* k = g_active.load(std::memory_order_acquire);
  if (k == nullptr) {
    k = best();
    g_active.store(k, std::memory_order_release);
  }
  return *k;
}

}  // namespace bnb

extern "C" const char* bnb_active_isa() { return bnb::active_kernels().name; }

extern "C" const char* bnb_supported_isas() {
  static const std::string list = std::string("scalar") + (bnb::cpu_has_avx2() ? ",avx2" : "") +
                                  (bnb::cpu_has_avx512() ? ",avx512" : "") +
                                  (bnb::cpu_has_avx512vbmi() ? ",avx512vbmi" : "");
  return list.c_str();
}

extern "C" int32_t bnb_select_isa(const char* name) {
  const bnb::IsaKernels* k = bnb::by_name(name);
  if (k == nullptr) return 0;
  bnb::g_active.store(k, std::memory_order_release);
  return 1;
}
