package org.bnb4j.distributed;


import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.deeplearning4j.optimize.solvers.accumulation.EncodedGradientsAccumulator;
import org.deeplearning4j.parallelism.ParallelWrapper;
import org.deeplearning4j.parallelism.factory.DefaultTrainerContext;
import org.deeplearning4j.parallelism.factory.SymmetricTrainerContext;
import org.nd4j.common.function.Supplier;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.dataset.api.iterator.MultiDataSetIterator;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.util.AtomicThrowable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;

/**
 * A drop-in for DL4J's {@link ParallelWrapper} (1.0.0-M2.1) that trains networks with the 8-bit
 * updaters of bnb4j (and any other updater) in every training mode:
 * <ul>
 * <li>AVERAGING with {@code averageUpdaters(true)}: parameters are averaged by ParallelWrapper as
 *   before; updater state by {@link UpdaterStateAveraging} (8-bit state dequantized, averaged in float,
 *   requantized into every worker; other state averaged by value, as DL4J does) instead of DL4J's
 *   plain average of the state array, which turns packed 8-bit state into garbage.</li>
 * <li>Across fit() calls the root model keeps its updater state. In M2.1 each trainer ends with
 *   {@code model.clear()}, which for a MultiLayerNetwork also drops its Solver and with it the updater,
 *   so the next fit() (and any later {@code model.fit}) starts from a zeroed updater state, for DL4J's
 *   own Adam too. This wrapper copies the root's state before the trainers stop and puts it back.</li>
 * <li>No worker receives data before all replicas are built ({@link ReplicaBarrier}): in M2.1 a replica
 *   copies the root while worker 0 may already be stepping it.</li>
 * </ul>
 * SHARED_GRADIENTS and CUSTOM keep DL4J's behaviour (each worker keeps its own updater state; nothing
 * is averaged) with the last two fixes.
 *
 * <pre>{@code
 * ParallelWrapper pw = new ParallelWrapper8bit.Builder<>(net).workers(2).averagingFrequency(1)
 *         .averageUpdaters(true).build();
 * pw.fit(iterator);
 * }</pre>
 */
public class ParallelWrapper8bit extends ParallelWrapper {
    private static final Logger log = LoggerFactory.getLogger(ParallelWrapper8bit.class);

    private final FitCounter fitCounter = new FitCounter();
    private boolean averageUpdaterState;
    private Supplier<INDArray> userUpdaterParamsSupplier;
    private long lastAveragedRound = -1;
    private long averagingRounds, averagingNanos;
    private UpdaterStateAveraging.Stats lastStats;
    /**
     * The root's updater state view when fit() began. Worker 0 steps it in place; when that worker dies,
     * its trainer's model.clear() has already dropped a MultiLayerNetwork's updater, and this reference
     * is how the state is recovered. Cleared when fit() returns.
     */
    private INDArray rootStateAtFit;
    /**
     * Set when a worker died while the others exchanged gradients (SHARED_GRADIENTS, CUSTOM): DL4J's
     * accumulator keeps its barrier counts and failure flag across fit() calls (reset() clears neither),
     * so it cannot run another fit(); later calls are refused, naming this failure.
     */
    private Throwable accumulatorFailure;

    protected ParallelWrapper8bit(Model model, int workers, int prefetchSize) {
        super(model, workers, prefetchSize);
    }

    /** True when this wrapper averages updater state (the builder's averageUpdaters). */
    @Override
    public boolean isAverageUpdaters() {
        return averageUpdaterState;
    }

    /** Number of updater-state averaging rounds run so far (all fit() calls). */
    public long getUpdaterAveragingRounds() {
        return averagingRounds;
    }

    /** Total wall time of those rounds, in nanoseconds. */
    public long getUpdaterAveragingNanos() {
        return averagingNanos;
    }

    /** What the last averaging round averaged, or null before the first. */
    public UpdaterStateAveraging.Stats getLastAveragingStats() {
        return lastStats;
    }

    @Override
    public synchronized void fit(DataSetIterator source) {
        guardedFit(() -> super.fit(source));
    }

    @Override
    public synchronized void fit(MultiDataSetIterator source) {
        guardedFit(() -> super.fit(source));
    }

    private void guardedFit(Runnable fit) {
        if (accumulatorFailure != null) {
            throw new IllegalStateException("ParallelWrapper8bit: an earlier fit() failed while the workers were exchanging "
                    + "gradients (" + accumulatorFailure + "), and DL4J's gradients accumulator cannot be used again after "
                    + "that; build a new wrapper for the model (it keeps its parameters and updater state)", accumulatorFailure);
        }
        beforeFit();
        try {
            fit.run();
        } catch (RuntimeException | Error e) {
            closeAfterFailure(e);
            throw e;
        } finally {
            rootStateAtFit = null;
        }
    }

    /**
     * A fit() that failed (a worker's exception) skips ParallelWrapper's close(): its trainers, the dead
     * one with its exception included, stayed, and every later fit() threw the old exception again. They
     * are stopped here, without averaging the failed round, and the root model keeps its updater state.
     */
    private void closeAfterFailure(Throwable failure) {
        if (zoo == null) return;
        releaseWorkersWaitingFor(failure);
        try {
            INDArray rootState = rootUpdaterStateCopy();
            if (rootState == null && rootStateAtFit != null) {
                try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
                    rootState = rootStateAtFit.dup();
                }
            }
            super.close();
            if (rootState != null) restoreRootUpdaterState(rootState);
        } catch (Exception | Error e) {
            failure.addSuppressed(e);
        }
    }

    /**
     * SHARED_GRADIENTS and CUSTOM: the workers meet at the accumulator's barrier every iteration. One that
     * died never arrives, so the others wait there forever, and ParallelWrapper's close() waits for them:
     * fit() never returned (DL4J's own wrapper returns by leaving them waiting, for good). The barrier's
     * wait loop ends when the accumulator's failure flag is set (what it does itself when encoding
     * fails): it is set here to the worker's failure. The flag is a protected field with no setter in
     * M2.1, hence the reflection; the wrapper is then done (see accumulatorFailure).
     */
    private void releaseWorkersWaitingFor(Throwable failure) {
        if (!(gradientsAccumulator instanceof EncodedGradientsAccumulator)) return;
        accumulatorFailure = failure;
        try {
            Field f = EncodedGradientsAccumulator.class.getDeclaredField("throwable");
            f.setAccessible(true);
            ((AtomicThrowable) f.get(gradientsAccumulator)).setIfFirst(failure);
        } catch (ReflectiveOperationException | RuntimeException e) {
            failure.addSuppressed(e);
        }
    }

    private void beforeFit() {
        // setListeners(null, ...) clears the list: make sure the step counter is (still) in it
        if (!listeners.contains(fitCounter)) listeners.add(fitCounter);
        fitCounter.reset();
        lastAveragedRound = iterationsCounter.get();
        rootStateAtFit = rootStateView();
    }

    /**
     * Runs at the start of every round of ParallelWrapper's fit loop (it is called as the
     * updaterParamsSupplier), i.e. after the previous round's parameter averaging and before any
     * worker steps again; the last round of a fit() is averaged in {@link #close()}.
     */
    private INDArray roundHook() {
        averageUpdatersIfDue();
        return userUpdaterParamsSupplier == null ? null : userUpdaterParamsSupplier.get();
    }

    private void averageUpdatersIfDue() {
        long round = iterationsCounter.get();
        if (!averageUpdaterState || zoo == null || round == lastAveragedRound || averagingFrequency <= 0
                || round % averagingFrequency != 0 || !zoo[0].averagingRequired()) {
            return;
        }
        lastAveragedRound = round;
        List<Model> stepped = new ArrayList<>();
        for (int i = 0; i < zoo.length; i++) {
            Model m = zoo[i] == null ? null : zoo[i].getModel();
            if (m != null && fitCounter.steps(m) > 0) stepped.add(m);
        }
        fitCounter.reset();
        if (stepped.size() < 2) return;
        long t0 = System.nanoTime();
        lastStats = UpdaterStateAveraging.average(stepped);
        averagingNanos += System.nanoTime() - t0;
        averagingRounds++;
        if (reportScore) log.info("Updater state averaged over {} workers in {} ms: {}", stepped.size(), (System.nanoTime() - t0) / 1e6, lastStats);
    }

    /**
     * Called by ParallelWrapper at the end of every fit() (and by users): averages the last round
     * if due, and keeps the root model's updater state across the trainers' shutdown.
     */
    @Override
    public void close() throws Exception {
        INDArray rootState = null;
        if (zoo != null) {
            averageUpdatersIfDue();
            rootState = rootUpdaterStateCopy();
        }
        super.close();
        if (rootState != null) restoreRootUpdaterState(rootState);
    }

    private INDArray rootUpdaterStateCopy() {
        INDArray view = rootStateView();
        if (view == null) return null;
        Nd4j.getExecutioner().commit();
        try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            return view.dup();   // dup keeps every bit (packed 8-bit words included)
        }
    }

    private INDArray rootStateView() {
        if (model instanceof MultiLayerNetwork) {
            MultiLayerNetwork n = (MultiLayerNetwork) model;
            return n.getUpdater(false) == null ? null : n.getUpdater(false).getStateViewArray();
        }
        if (model instanceof ComputationGraph) {
            ComputationGraph g = (ComputationGraph) model;
            return g.getUpdater(false) == null ? null : g.getUpdater(false).getStateViewArray();
        }
        return null;
    }

    private void restoreRootUpdaterState(INDArray saved) {
        // after model.clear() a MultiLayerNetwork has no Solver: getUpdater() builds a new updater (zeroed state)
        if (model instanceof MultiLayerNetwork) {
            MultiLayerNetwork n = (MultiLayerNetwork) model;
            INDArray view = n.getUpdater().getStateViewArray();
            if (view != saved && view != null) n.getUpdater().setStateViewArray(n, saved, false);
        } else if (model instanceof ComputationGraph) {
            ComputationGraph g = (ComputationGraph) model;
            if (g.getUpdater().getStateViewArray() != null) g.getUpdater().setStateViewArray(saved);
        }
    }

    /**
     * {@link ParallelWrapper.Builder} for {@link ParallelWrapper8bit}: the same settings (all of
     * ParallelWrapper's builder methods), build() returns the drop-in.
     */
    public static class Builder<T extends Model> extends ParallelWrapper.Builder<T> {
        public Builder(T model) {
            super(model);
        }

        @Override
        public ParallelWrapper8bit build() {
            // ParallelWrapper's own build() sets up the mode (trainer context, gradients accumulator) and
            // moves the model's listeners to the wrapper; its settings are then taken over
            ParallelWrapper base = super.build();
            if (base.getExecutorService() != null) base.getExecutorService().shutdown();
            ParallelWrapper8bit w = new ParallelWrapper8bit(model, workers, prefetchSize);
            w.averagingFrequency = base.getAveragingFrequency();
            w.reportScore = base.isReportScore();
            w.averageUpdaterState = base.isAverageUpdaters();
            w.averageUpdaters = false;   // ParallelWrapper's plain average of the state array is replaced by the round hook
            w.legacyAveraging = base.isLegacyAveraging();
            w.isMQ = base.isMQ();
            w.workspaceMode = base.getWorkspaceMode();
            w.modelParamsSupplier = base.getModelParamsSupplier();
            w.userUpdaterParamsSupplier = base.getUpdaterParamsSupplier();
            w.updaterParamsSupplier = w::roundHook;
            w.gradientsAccumulator = base.getGradientsAccumulator();
            w.trainerContextArgs = base.getTrainerContextArgs();
            boolean symmetric = base.getTrainerContext() instanceof SymmetricTrainerContext;
            if (!symmetric && !(base.getTrainerContext() instanceof DefaultTrainerContext)) {
                w.trainerContext = base.getTrainerContext();   // a context of the user's own: left as it is
            } else {
                w.trainerContext = new ReplicaBarrier(symmetric, workers);
            }
            w.init();
            List<TrainingListener> moved = base.getListeners();
            if (moved != null && !moved.isEmpty()) w.setListeners(base.getStorageRouter(), moved);
            return w;
        }
    }
}
