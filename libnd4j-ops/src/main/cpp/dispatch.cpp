// Picks the widest instruction set this CPU supports, once; BNB4J_ISA=scalar|avx2|avx512|avx512vbmi
// (or bnb_select_isa) narrows it, e.g. to test every path on one machine. Everything about the ISAs
// is in one table (kIsas): their kernels (whose names are the names accepted here), the CPU check of
// each, and their order from narrowest to widest.
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
bool always() { return true; }

struct Isa {
  const IsaKernels* kernels;
  bool (*supported)();
};
// Narrowest first.
const Isa kIsas[] = {
    {&kScalarKernels, always},
    {&kAvx2Kernels, cpu_has_avx2},
    {&kAvx512Kernels, cpu_has_avx512},
    {&kAvx512VbmiKernels, cpu_has_avx512vbmi},
};

// The kernels named `name` if this CPU supports them, else null.
const IsaKernels* by_name(const char* name) {
  if (name == nullptr) return nullptr;
  for (const Isa& isa : kIsas)
    if (std::strcmp(name, isa.kernels->name) == 0) return isa.supported() ? isa.kernels : nullptr;
  return nullptr;
}

const IsaKernels* best() {
  const IsaKernels* forced = by_name(std::getenv("BNB4J_ISA"));
  if (forced != nullptr) return forced;
  const IsaKernels* widest = nullptr;
  for (const Isa& isa : kIsas)
    if (isa.supported()) widest = isa.kernels;
  return widest;
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
  static const std::string list = [] {
    std::string l;
    for (const bnb::Isa& isa : bnb::kIsas)
      if (isa.supported()) l += (l.empty() ? "" : ",") + std::string(isa.kernels->name);
    return l;
  }();
  return list.c_str();
}

extern "C" int32_t bnb_select_isa(const char* name) {
  const bnb::IsaKernels* k = bnb::by_name(name);
  if (k == nullptr) return 0;
  bnb::g_active.store(k, std::memory_order_release);
  return 1;
}
