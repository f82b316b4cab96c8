package org.bnb4j.distributed;

import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.parallelism.ParallelWrapper;
import org.deeplearning4j.parallelism.factory.TrainerContext;
import org.deeplearning4j.parallelism.trainer.DefaultTrainer;
import org.deeplearning4j.parallelism.trainer.SymmetricTrainer;
import org.deeplearning4j.parallelism.trainer.Trainer;
import org.nd4j.linalg.dataset.api.DataSet;
import org.nd4j.linalg.dataset.api.MultiDataSet;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;

/**
 * ParallelWrapper's trainers (DefaultTrainer for AVERAGING, SymmetricTrainer for SHARED_GRADIENTS and
 * CUSTOM) with one change: no worker receives data before every worker has built its replica.
 *
 * <p>In DL4J 1.0.0-M2.1 worker 0 trains on the root model itself, and workers 1.. copy the root's
 * parameters and updater state in their own threads when they start, while the main thread already
 * feeds worker 0. A replica can therefore copy the root in the middle of worker 0's first step of a
 * fit(): a torn copy (for 8-bit state, scales and codes of different steps, which the next step
 * rejects) or the state after worker 0's step instead of before. Waiting for all replicas makes
 * every worker start from the same root state.
 */
final class ReplicaBarrier implements TrainerContext {
    private final boolean symmetric;
    private final int workers;
    private volatile CountDownLatch ready;
    private final AtomicReference<Throwable> failure = new AtomicReference<>();

    ReplicaBarrier(boolean symmetric, int workers) {
        this.symmetric = symmetric;
        this.workers = workers;
    }

    @Override
    public void init(Model model, Object... args) {
        // once per fit(): ParallelWrapper builds a new set of trainers each time
        ready = new CountDownLatch(workers);
        failure.set(null);
    }

    @Override
    public Trainer create(String uuid, int threadId, Model model, int rootDevice, boolean useMDS, ParallelWrapper wrapper,
                          WorkspaceMode mode, int averagingFrequency) {
        if (ready == null) init(model);
        Trainer t = symmetric ? new Symmetric(this, model, uuid, threadId, mode, wrapper, useMDS)
                : new Averaging(this, model, uuid, threadId, mode, wrapper, useMDS, averagingFrequency);
        ((Thread) t).setName((symmetric ? "SymmetricTrainer" : "DefaultTrainer") + " (8-bit) thread " + threadId);
        ((Thread) t).setDaemon(true);
        return t;
    }

    @Override
    public void finalizeRound(Model originalModel, Model... models) {
    }

    @Override
    public void finalizeTraining(Model originalModel, Model... models) {
    }

    /** Blocks until every worker of this fit() has its replica (or one failed to build it). */
    void awaitReplicas() {
        CountDownLatch latch = ready;
        try {
            while (!latch.await(50, TimeUnit.MILLISECONDS)) {
                Throwable t = failure.get();
                if (t != null) throw new IllegalStateException("a ParallelWrapper worker failed while building its replica", t);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the workers' replicas", e);
        }
    }

    void replicaReady() {
        ready.countDown();
    }

    void failed(Throwable t) {
        failure.compareAndSet(null, t);
    }

    /**
     * DefaultTrainer.run() records only Exceptions for waitTillRunning(), so a worker that died of an
     * Error (an OutOfMemoryError in a step, an AssertionError in a listener) left fit() waiting forever:
     * the Error is recorded as this exception instead, and fit() throws it.
     */
    static RuntimeException workerError(int threadId, Error e) {
        return new IllegalStateException("ParallelWrapper worker " + threadId + " stopped with " + e, e);
    }

    /**
     * Waits until a worker's one-slot queue has room, as DefaultTrainer's blocking put does, but throws
     * when the worker has failed: a dead worker never takes its data, and with averagingFrequency > 1
     * ParallelWrapper feeds it again before it asks whether it failed (the put then blocks forever).
     */
    static void awaitRoom(BlockingQueue<?> queue, Supplier<Exception> failure) {
        while (true) {
            Exception e = failure.get();
            if (e != null) throw new IllegalStateException("a ParallelWrapper worker failed: " + e.getMessage(), e);
            if (queue == null || queue.remainingCapacity() > 0) return;
            LockSupport.parkNanos(200_000L);
        }
    }

    static final class Averaging extends DefaultTrainer {
        private final ReplicaBarrier barrier;

        Averaging(ReplicaBarrier barrier, Model model, String uuid, int threadId, WorkspaceMode mode, ParallelWrapper wrapper,
                  boolean useMDS, int averagingFrequency) {
            super();
            this.barrier = barrier;
            this.originalModel = model;
            this.replicatedModel = model;
            this.threadId = threadId;
            this.workspaceMode = mode;
            this.parallelWrapper = wrapper;
            this.useMDS = useMDS;
            this.uuid = uuid + "_thread_" + threadId;
            this.averagingFrequency = averagingFrequency;
        }

        @Override
        protected void postInit() {
            super.postInit();
            barrier.replicaReady();
        }

        @Override
        public void run() {
            try {
                super.run();
            } catch (RuntimeException e) {
                barrier.failed(e);
                throw e;
            } catch (Error e) {
                barrier.failed(e);
                if (thrownException == null) thrownException = workerError(threadId, e);
                throw e;
            }
        }

        @Override
        public void feedDataSet(DataSet dataSet, long etlTime) {
            barrier.awaitReplicas();
            awaitRoom(queue, () -> thrownException);
            super.feedDataSet(dataSet, etlTime);
        }

        @Override
        public void feedMultiDataSet(MultiDataSet dataSet, long etlTime) {
            barrier.awaitReplicas();
            awaitRoom(queueMDS, () -> thrownException);
            super.feedMultiDataSet(dataSet, etlTime);
        }
    }

    static final class Symmetric extends SymmetricTrainer {
        private final ReplicaBarrier barrier;

        Symmetric(ReplicaBarrier barrier, Model model, String uuid, int threadId, WorkspaceMode mode, ParallelWrapper wrapper, boolean useMDS) {
            super(model, uuid, threadId, mode, wrapper, useMDS);
            this.barrier = barrier;
        }

        @Override
        protected void postInit() {
            super.postInit();
            barrier.replicaReady();
        }

        @Override
        public void run() {
            try {
                super.run();
            } catch (RuntimeException e) {
                barrier.failed(e);
                throw e;
            } catch (Error e) {
                barrier.failed(e);
                if (thrownException == null) thrownException = workerError(threadId, e);
                throw e;
            }
        }

        @Override
        public void feedDataSet(DataSet dataSet, long etlTime) {
            barrier.awaitReplicas();
            awaitRoom(queue, () -> thrownException);
            super.feedDataSet(dataSet, etlTime);
        }

        @Override
        public void feedMultiDataSet(MultiDataSet dataSet, long etlTime) {
            barrier.awaitReplicas();
            awaitRoom(queueMDS, () -> thrownException);
            super.feedMultiDataSet(dataSet, etlTime);
        }
    }
}
