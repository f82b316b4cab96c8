package org.bnb4j.internal.kernels;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * Parallel loop of the vectorised Java kernels over runs of whole blocks: the caller and up to
 * {@code parallelism} helper tasks (on the common {@link ForkJoinPool}, or on the caller's own pool when
 * it is a pool thread) claim chunks of runs from one counter, and the caller waits only for chunks that
 * were claimed. A thread that gets no core (a busy
 * host, or on a machine with few cores libnd4j's OpenMP workers, which spin for milliseconds after each
 * ND4J op with libgomp's default wait policy) delays the chunk it holds and nothing else: a helper that
 * has not started by the time every chunk is claimed finds none and returns. A parallel stream splits
 * the range into four leaves per pool thread up front, and its caller then waits for the leaf such a
 * thread took, at that thread's speed (docs/PORTABLE.md, "Scheduling the runs").
 */
public final class RunScheduler {
    /** Chunks per thread, enough for the caller to take over most of a late helper's share. */
    private static final int CHUNKS_PER_THREAD = 16;
    /** Most runs per chunk: a chunk of 16 runs of 4096 elements is ~0.1 ms of the Adam step. */
    private static final int MAX_RUNS_PER_CHUNK = 16;

    /** The work of runs [firstBlock, endBlock) of whole blocks. */
    public interface RunBody {
        void run(long firstBlock, long endBlock);
    }

    private RunScheduler() {
    }

    /** Calls body once per run of {@code blocksPerRun} blocks (the last may be shorter) of {@code numBlocks}. */
    public static void forRuns(long numBlocks, int blocksPerRun, RunBody body) {
        forRuns(numBlocks, blocksPerRun, ForkJoinPool.getCommonPoolParallelism(), body);
    }

    /** As {@link #forRuns(long, int, RunBody)} with at most {@code helpers} pool threads beside the caller. */
    static void forRuns(long numBlocks, int blocksPerRun, int helpers, RunBody body) {
        if (numBlocks <= 0) return;
        if (blocksPerRun < 1) throw new IllegalArgumentException("blocksPerRun must be >= 1, got " + blocksPerRun);
        long runs = (numBlocks + blocksPerRun - 1) / blocksPerRun;
        long runsPerChunk = Math.max(1, Math.min(MAX_RUNS_PER_CHUNK, runs / (CHUNKS_PER_THREAD * (helpers + 1L))));
        Job job = new Job(numBlocks, blocksPerRun, runsPerChunk * blocksPerRun, body);
        if (helpers <= 0 || job.chunks == 1) {
            job.work();
        } else {
            // fork(): into the caller's own queue when it is a pool thread, else the common pool's
            ForkJoinTask<?>[] tasks = new ForkJoinTask<?>[(int) Math.min(helpers, job.chunks - 1)];
            for (int i = 0; i < tasks.length; i++) tasks[i] = ForkJoinTask.adapt(job::work).fork();
            job.work();
            // Helpers nobody started are taken back: otherwise a caller that is itself a pool thread, or
            // one whose pool is kept busy, would leave one queued task (holding the call's buffers) per call.
            for (int i = tasks.length - 1; i >= 0; i--) tasks[i].tryUnfork();
            job.await();
        }
        job.rethrow();
    }

    /** One call's chunks: a claim counter, a done counter, the first failure. */
    private static final class Job {
        /** Spins before the waiting caller parks: a claimed chunk usually ends within tens of microseconds. */
        private static final long SPIN_NANOS = 50_000;

        final long numBlocks, blocksPerRun, blocksPerChunk, chunks;
        final RunBody body;
        final AtomicLong next = new AtomicLong(), done = new AtomicLong();
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final Thread caller = Thread.currentThread();

        Job(long numBlocks, long blocksPerRun, long blocksPerChunk, RunBody body) {
            this.numBlocks = numBlocks;
            this.blocksPerRun = blocksPerRun;
            this.blocksPerChunk = blocksPerChunk;
            this.chunks = (numBlocks + blocksPerChunk - 1) / blocksPerChunk;
            this.body = body;
        }

        /** Claims and runs chunks until none is left; after a failure the rest are only counted. */
        void work() {
            for (long c; (c = next.getAndIncrement()) < chunks; ) {
                if (failure.get() == null) {
                    try {
                        long end = Math.min(numBlocks, (c + 1) * blocksPerChunk);
                        for (long b = c * blocksPerChunk; b < end; b += blocksPerRun) body.run(b, Math.min(end, b + blocksPerRun));
                    } catch (Throwable t) {
                        failure.compareAndSet(null, t);
                    }
                }
                // the body's writes happen-before this increment, and the caller reads done before returning
                if (done.incrementAndGet() == chunks && Thread.currentThread() != caller) LockSupport.unpark(caller);
            }
        }

        /** The caller, after its last claim: waits for the chunks still held by helpers. */
        void await() {
            long spinUntil = System.nanoTime() + SPIN_NANOS;
            while (done.get() < chunks) {
                if (System.nanoTime() < spinUntil) Thread.onSpinWait();
                else LockSupport.parkNanos(this, 200_000);   // timed: an unpark before the park is not lost either way
            }
        }

        void rethrow() {
            Throwable t = failure.get();
            if (t == null) return;
            if (t instanceof RuntimeException) throw (RuntimeException) t;
            if (t instanceof Error) throw (Error) t;
            throw new IllegalStateException(t);
        }
    }
}
