// How the kernels share work between threads (measurements behind every number: docs/PERFORMANCE.md).
//
// - One OpenMP region per call, and only when the call is big enough to pay for it: below
//   min_per_thread items per thread, threads cost more than they save (a region costs ~1-2 us when
//   the pool's threads are still spinning, tens of us when they sleep, and a scheduler time slice
//   when a thread is descheduled by another process).
// - Inside the region, chunks are claimed dynamically, so that a thread another process has taken
//   the core from does not hold up the call: every thread starts on its own contiguous range (the
//   same memory stream as a static split, so prefetching and the VBMI block pipeline keep working)
//   and, once done, takes the remaining chunks of the others' ranges.
// - Results never depend on which thread does a chunk: each item's result depends on its own inputs
//   only, and the reductions (checksum) are sums mod 2^32, exact in any order.
// - Only GOMP_parallel and omp_get_* are used: libbnb4j shares ND4J's bundled libgomp (the loader
//   initialises ND4J first), which may be older than the compiler's (it has GOMP_5.0.1, not 5.1).
#pragma once
#include <omp.h>
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include "bnb4j.h"

namespace bnb {

// Threads for `items` items of which each thread should get at least min_per_thread: 1 (no region)
// below 2 * min_per_thread, at most bnb_max_threads().
int threads_for_items(int64_t items, int64_t min_per_thread);

// The split a kernel asked for (elements per chunk, fewest elements per thread), or the
// override of bnb_set_parallel_split (tests, benchmarks) where one is set.
int64_t split_chunk(int64_t chunk_elems);
int64_t split_min_per_thread(int64_t min_elems);

// Benchmarks (omp_bench): on = regions at every size (bnb_set_parallel_split(0, 1)).
void set_force_parallel(int on);

namespace detail {
struct alignas(64) Range {
  std::atomic<int64_t> next;  // next chunk to claim
  int64_t end;                // one past the last chunk
};
}  // namespace detail

// Calls body(lo, hi) on disjoint [lo, hi) covering [0, items), where an item is item_elems elements
// (a block, or 1): chunks of about chunk_elems elements, on as many threads (up to bnb_max_threads())
// as get at least min_elems_per_thread elements each. A thread's own chunks come in order.
template <typename F>
void parallel_chunks(int64_t items, int64_t item_elems, int64_t chunk_elems, int64_t min_elems_per_thread, F&& body) {
  if (items <= 0) return;
  item_elems = std::max<int64_t>(item_elems, 1);
  const int64_t chunk = std::max<int64_t>(1, split_chunk(chunk_elems) / item_elems);
  const int64_t min_per_thread = std::max<int64_t>(1, split_min_per_thread(min_elems_per_thread) / item_elems);
  const int64_t chunks = (items + chunk - 1) / chunk;
  int t = threads_for_items(items, min_per_thread);
  if (t > chunks) t = (int)chunks;
  if (t <= 1) {
    body(0, items);
    return;
  }
  std::unique_ptr<detail::Range[]> ranges(new detail::Range[t]);
  for (int i = 0; i < t; ++i) {
    ranges[i].next.store(chunks * i / t, std::memory_order_relaxed);
    ranges[i].end = chunks * (i + 1) / t;
  }
  detail::Range* r = ranges.get();
#pragma omp parallel num_threads(t)
  {
    // Own range first, then the others' (also those of threads the region did not get).
    const int self = omp_get_thread_num();
    for (int k = 0; k < t; ++k) {
      detail::Range& g = r[(self + k) % t];
      for (;;) {
        if (g.next.load(std::memory_order_relaxed) >= g.end) break;
        const int64_t c = g.next.fetch_add(1, std::memory_order_relaxed);
        if (c >= g.end) break;
        body(c * chunk, std::min(items, (c + 1) * chunk));
      }
    }
  }
}

}  // namespace bnb
