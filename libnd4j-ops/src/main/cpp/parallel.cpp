#include "parallel.h"

namespace bnb {
namespace {
std::atomic<int64_t> g_chunk_override{0}, g_min_override{0};
}  // namespace

int64_t split_chunk(int64_t chunk_elems) {
  const int64_t o = g_chunk_override.load(std::memory_order_relaxed);
  return o > 0 ? o : chunk_elems;
}

int64_t split_min_per_thread(int64_t min_elems) {
  const int64_t o = g_min_override.load(std::memory_order_relaxed);
  return o > 0 ? o : min_elems;
}

void set_force_parallel(int on) { g_min_override.store(on ? 1 : 0, std::memory_order_relaxed); }

int threads_for_items(int64_t items, int64_t min_per_thread) {
  const int max = bnb_max_threads();
  if (max <= 1) return 1;
  if (min_per_thread < 1) min_per_thread = 1;
  const int64_t t = items / min_per_thread;
  return t < 2 ? 1 : t < max ? (int)t : max;
}

}  // namespace bnb

extern "C" void bnb_set_parallel_split(int64_t chunk_elems, int64_t min_elems_per_thread) {
  bnb::g_chunk_override.store(chunk_elems > 0 ? chunk_elems : 0, std::memory_order_relaxed);
  bnb::g_min_override.store(min_elems_per_thread > 0 ? min_elems_per_thread : 0, std::memory_order_relaxed);
}
