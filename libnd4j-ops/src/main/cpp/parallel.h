// How the kernels share work between threads (the measurements behind every number: docs/PERFORMANCE.md).
//
// - Work is split only when the call is big enough to pay for it: below min_per_thread elements per
//   thread, threads cost more than they save.
// - Chunks are claimed dynamically, so that a thread whose core another process has taken does not
//   hold up the call: every thread starts on its own contiguous range (the same memory stream as a
//   static split, so prefetching and the VBMI block pipeline keep working) and, once done, takes the
//   remaining chunks of the others' ranges.
// - The threads: by default those of the OpenMP runtime we share with ND4J (the loader makes sure
//   there is only one), because right after an ND4J op (which is how DL4J calls an updater: the
//   gradient was just written) ND4J's OpenMP threads are still spinning and join at once, whereas
//   any other thread would have to fight them for a core (measured 2x slower at 1M parameters).
//   But an OpenMP region waits for all of its threads, spinning: on a busy host where one of them
//   has been descheduled, a call then takes a whole scheduler time slice (measured 0.36 -> 8-12 ms
//   for a 1M-parameter step). The caller detects such a stall (it waited far longer than a chunk
//   for the others) and then runs the next calls on bnb4j's own small pool, which spins only
//   briefly, sleeps on a futex, and never waits for a thread that has not turned up (the caller
//   takes its chunks); OpenMP is tried again after a period that doubles while it keeps stalling.
//   BNB4J_THREADS=openmp|openmp-spin|pool fixes one choice (for comparisons).
// - Results never depend on which thread does a chunk: each item's result depends on its own inputs
//   only, and the reductions (checksum) are sums mod 2^32, exact in any order.
#pragma once
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <type_traits>
#include "bnb4j.h"

namespace bnb {

// Threads for `items` items of which each thread should get at least min_per_thread: 1 (no
// parallelism) below 2 * min_per_thread, at most bnb_max_threads().
int threads_for_items(int64_t items, int64_t min_per_thread);

// The split a kernel asked for (elements per chunk, fewest elements per thread), or the
// override of bnb_set_parallel_split (tests, benchmarks) where one is set.
int64_t split_chunk(int64_t chunk_elems);
int64_t split_min_per_thread(int64_t min_elems);

// Runs call(ctx, lo, hi) over chunks [lo, hi) of [0, chunks * chunk) ∩ [0, items) on `threads`
// threads (the caller included), each starting on its own contiguous range of chunks.
void run_chunks(int threads, int64_t items, int64_t chunk, void (*call)(void*, int64_t, int64_t), void* ctx);

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
  using Body = typename std::remove_reference<F>::type;
  run_chunks(t, items, chunk, [](void* ctx, int64_t lo, int64_t hi) { (*static_cast<Body*>(ctx))(lo, hi); },
             const_cast<void*>(static_cast<const void*>(&body)));
}

}  // namespace bnb
