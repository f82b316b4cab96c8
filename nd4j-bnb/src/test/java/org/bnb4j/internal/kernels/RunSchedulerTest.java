package org.bnb4j.internal.kernels;

import org.junit.jupiter.api.Test;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RunSchedulerTest {

    /** Every block is covered by exactly one run, runs hold whole runs of blocksPerRun (the last may be shorter). */
    @Test
    void everyBlockOnceInRunsOfTheGivenLength() {
        long[] sizes = {1, 2, 7, 63, 64, 65, 1000, 4099, 100_003};
        int[] perRun = {1, 3, 16, 4096};
        for (int helpers : new int[] {0, 1, 3}) {
            for (long nb : sizes) {
                for (int pr : perRun) {
                    AtomicIntegerArray seen = new AtomicIntegerArray((int) nb);
                    RunScheduler.forRuns(nb, pr, helpers, (b0, b1) -> {
                        assertTrue(b0 % pr == 0 && b1 > b0 && (b1 - b0 == pr || b1 == nb), b0 + ".." + b1);
                        for (long b = b0; b < b1; b++) seen.incrementAndGet((int) b);
                    });
                    for (int b = 0; b < nb; b++) assertEquals(1, seen.get(b), "block " + b + " of " + nb + ", " + pr + " per run");
                }
            }
        }
    }

    @Test
    void noBlocksNoCalls() {
        AtomicLong calls = new AtomicLong();
        RunScheduler.forRuns(0, 4, 2, (b0, b1) -> calls.incrementAndGet());
        assertEquals(0, calls.get());
        assertThrows(IllegalArgumentException.class, () -> RunScheduler.forRuns(10, 0, (b0, b1) -> { }));
    }

    /** A helper that never gets to run (every pool thread taken) does not hold the call: the caller does all. */
    @Test
    void callerFinishesAloneWhenThePoolIsBusy() throws Exception {
        ForkJoinPool pool = ForkJoinPool.commonPool();
        int threads = Math.max(1, pool.getParallelism());
        CountDownLatch started = new CountDownLatch(threads), release = new CountDownLatch(1);
        for (int i = 0; i < threads; i++) {
            pool.execute(() -> {
                started.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
        }
        try {
            assertTrue(started.await(30, TimeUnit.SECONDS), "pool threads did not start");
            Thread caller = Thread.currentThread();
            AtomicLong onCaller = new AtomicLong(), total = new AtomicLong();
            RunScheduler.forRuns(10_000, 2, (b0, b1) -> {
                total.addAndGet(b1 - b0);
                if (Thread.currentThread() == caller) onCaller.addAndGet(b1 - b0);
            });
            assertEquals(10_000, total.get());
            // (unless the pool added a compensating thread, which could then run the helper)
            if (pool.getPoolSize() <= threads) assertEquals(10_000, onCaller.get());
            // and the helpers nobody started do not pile up in the pool's queue, one per call
            for (int i = 0; i < 1000; i++) RunScheduler.forRuns(64, 1, (b0, b1) -> total.addAndGet(b1 - b0));
            assertEquals(10_000 + 64_000, total.get());
            assertEquals(0, pool.getQueuedSubmissionCount(), "helpers left queued");
        } finally {
            release.countDown();
        }
    }

    /** A failing run's exception reaches the caller (the same object), after every claimed chunk has ended. */
    @Test
    void failureIsRethrownOnTheCaller() {
        IllegalStateException boom = new IllegalStateException("boom");
        AtomicLong inFlight = new AtomicLong();
        for (int helpers : new int[] {0, 1, 3}) {
            IllegalStateException thrown = assertThrows(IllegalStateException.class, () ->
                    RunScheduler.forRuns(50_000, 1, helpers, (b0, b1) -> {
                        inFlight.incrementAndGet();
                        try {
                            if (b0 == 1234) throw boom;
                        } finally {
                            inFlight.decrementAndGet();
                        }
                    }));
            assertSame(boom, thrown);
            assertEquals(0, inFlight.get(), "a run was still going when the call returned");
        }
        AssertionError err = new AssertionError("err");
        assertSame(err, assertThrows(AssertionError.class, () -> RunScheduler.forRuns(100, 1, 1, (b0, b1) -> {
            if (b0 == 99) throw err;
        })));
    }

    /** A caller that is the only thread of its pool runs everything and leaves no helper in its queue. */
    @Test
    void poolThreadCallerLeavesNothingQueued() throws Exception {
        ForkJoinPool single = new ForkJoinPool(1);
        try {
            long[] result = single.submit(() -> {
                long[] r = new long[2];
                AtomicLong total = new AtomicLong();
                for (int i = 0; i < 1000; i++) RunScheduler.forRuns(100, 1, 1, (b0, b1) -> total.addAndGet(b1 - b0));
                r[0] = total.get();
                r[1] = java.util.concurrent.ForkJoinTask.getQueuedTaskCount();
                return r;
            }).get(60, TimeUnit.SECONDS);
            assertEquals(100_000, result[0]);
            assertEquals(0, result[1], "helpers left in the caller's queue");
        } finally {
            single.shutdownNow();
        }
    }

    /** Called from a pool thread (a parallel stream around the kernel), nested calls complete. */
    @Test
    void nestedInsideThePool() {
        AtomicLong total = new AtomicLong();
        java.util.stream.IntStream.range(0, 8).parallel().forEach(i ->
                RunScheduler.forRuns(5_000, 3, (b0, b1) -> total.addAndGet(b1 - b0)));
        assertEquals(8 * 5_000, total.get());
    }
}
