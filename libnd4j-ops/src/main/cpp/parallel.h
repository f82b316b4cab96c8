// How the kernels share work between threads (the measurements behind every number: docs/PERFORMANCE.md).
//
// - Work is split only when the call is big enough to pay for it: below min_per_thread elements per
//   thread, threads cost more than they save.
// - Chunks are claimed dynamically, so that a thread whose core another process has taken does not
//   hold up the call: every thread starts on its own contiguous range (the same memory stream as a
//   static split, so prefetching and the VBMI block pipeline keep working) and, once done, takes the
//   remaining chunks of the others' ranges.
// - The threads are bnb4j's own small pool (parallel.cpp), not OpenMP's: ND4J's libgomp, which we
//   share, spins its idle threads for milliseconds after every region and makes every region wait
//   for all of its threads; on a busy host a descheduled thread then stalls each call by a whole
//   scheduler time slice (measured: 0.36 ms -> 11 ms per 1M-parameter step). The pool's threads spin
//   only briefly and then sleep, and a call waits only for chunks that threads actually took, never
//   for a thread that has not turned up (the caller does that work itself). BNB4J_THREADS=openmp
//   selects an OpenMP region instead (for comparisons).
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
