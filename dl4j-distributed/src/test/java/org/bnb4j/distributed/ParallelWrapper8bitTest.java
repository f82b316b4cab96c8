package org.bnb4j.distributed;


import org.bnb4j.updaters.config.Adam8bit;
import org.bnb4j.updaters.config.BlockwiseUpdaterConfig;
import org.bnb4j.updaters.config.Lion8bit;
import org.bnb4j.internal.updaters.BlockwiseGradientUpdater;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.updater.UpdaterBlock;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.deeplearning4j.optimize.solvers.accumulation.EncodedGradientsAccumulator;
import org.deeplearning4j.optimize.solvers.accumulation.EncodingHandler;
import org.deeplearning4j.optimize.solvers.accumulation.encoding.threshold.AdaptiveThresholdAlgorithm;
import org.deeplearning4j.parallelism.ParallelWrapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** ParallelWrapper8bit with two workers on the spirals MLP, in every TrainingMode of DL4J 1.0.0-M2.1. */
class ParallelWrapper8bitTest {
    static final DataSet TRAIN = Spirals.data(200, 1), TEST = Spirals.data(100, 2);
    static final int BATCH = 32, EPOCHS = 30;

    /** A two-state and a one-state optimizer, each with a learning rate that trains this task in two workers. */
    enum Opt {
        ADAM8BIT(bits -> Adam8bit.builder().learningRate(1e-2).optimBits(bits).build()),
        LION8BIT(bits -> Lion8bit.builder().learningRate(1.5e-3).optimBits(bits).build());

        private final java.util.function.IntFunction<BlockwiseUpdaterConfig> config;

        Opt(java.util.function.IntFunction<BlockwiseUpdaterConfig> config) {
            this.config = config;
        }

        BlockwiseUpdaterConfig config(int bits) {
            return config.apply(bits);
        }
    }

    static ParallelWrapper wrapper(MultiLayerNetwork net, ParallelWrapper.TrainingMode mode) {
        ParallelWrapper.Builder<?> b = new ParallelWrapper8bit.Builder<>(net).workers(2).prefetchBuffer(4).averagingFrequency(1)
                .averageUpdaters(true).trainingMode(mode);
        if (mode == ParallelWrapper.TrainingMode.CUSTOM) {
            // CUSTOM needs an accumulator of the user's: the one SHARED_GRADIENTS builds by default
            int maxUpdate = (int) (net.numParams() / 16 + 5);
            b.gradientsAccumulator(new EncodedGradientsAccumulator(2, new EncodingHandler(new AdaptiveThresholdAlgorithm(), null, maxUpdate, false),
                    (long) maxUpdate * 4 * 5, 4, Integer.MAX_VALUE, false));
        }
        return b.build();
    }

    static double trainedLoss(IUpdater u, ParallelWrapper.TrainingMode mode) {
        MultiLayerNetwork net = Spirals.mlp(u, 7);
        ParallelWrapper pw = wrapper(net, mode);
        try {
            for (int e = 0; e < EPOCHS; e++) pw.fit(Spirals.iterator(TRAIN, BATCH));
        } finally {
            pw.shutdown();
        }
        return net.score(TEST);
    }

    /**
     * Trains without error in every mode, learns, and ends within 2% (+0.005, the run-to-run noise of
     * two trajectories on this task; UpdatersTest uses the same bound) of the 32-bit twin
     * (optimBits(32): the same updater with float state) trained the same way. AVERAGING must reach
     * a quarter of the initial loss; SHARED_GRADIENTS and CUSTOM learn far more slowly in DL4J (the
     * threshold encoding sends few update elements per step), so there 80% of it.
     */
    @Tag("trajectory")
    @ParameterizedTest
    @EnumSource(ParallelWrapper.TrainingMode.class)
    void everyModeTrainsAndMatchesThe32BitTwin(ParallelWrapper.TrainingMode mode) {
        for (Opt o : Opt.values()) {
            double initial = Spirals.mlp(o.config(8), 7).score(TEST);
            double loss8 = trainedLoss(o.config(8), mode), loss32 = trainedLoss(o.config(32), mode);
            System.out.printf("%s %s: initial %.4f, 8-bit %.4f, 32-bit %.4f (%.2f%%)%n", mode, o, initial, loss8, loss32,
                    100 * (loss8 - loss32) / loss32);
            double learned = mode == ParallelWrapper.TrainingMode.AVERAGING ? 0.25 : 0.8;
            assertTrue(Double.isFinite(loss8) && loss8 < learned * initial, mode + " " + o + ": 8-bit loss " + loss8 + ", initial " + initial);
            assertEquals(loss32, loss8, 0.02 * loss32 + 0.005, mode + " " + o + ": 8-bit loss vs 32-bit twin");
        }
    }

    /**
     * A ComputationGraph in AVERAGING mode: trains, and ends within the same bound of its 32-bit twin;
     * the two workers start the last round from the same averaged 8-bit state (checked through the
     * wrapper's averaging count and the root's state being a valid, sealed 8-bit state that steps on).
     */
    @Tag("trajectory")
    @Test
    void computationGraphsAverageTheirState() {
        for (Opt o : Opt.values()) {
            double initial = Spirals.graph(o.config(8), 7).score(TEST);
            double[] loss = new double[2];
            for (int k = 0; k < 2; k++) {
                org.deeplearning4j.nn.graph.ComputationGraph g = Spirals.graph(o.config(k == 0 ? 8 : 32), 7);
                ParallelWrapper pw = new ParallelWrapper8bit.Builder<>(g).workers(2).prefetchBuffer(4).averagingFrequency(1)
                        .averageUpdaters(true).trainingMode(ParallelWrapper.TrainingMode.AVERAGING).build();
                try {
                    for (int e = 0; e < EPOCHS; e++) pw.fit(Spirals.iterator(TRAIN, BATCH));
                } finally {
                    pw.shutdown();
                }
                loss[k] = g.score(TEST);
                g.fit(TEST); // the root's state after the wrapper is one the updater accepts
            }
            System.out.printf("graph %s: initial %.4f, 8-bit %.4f, 32-bit %.4f%n", o, initial, loss[0], loss[1]);
            assertTrue(Double.isFinite(loss[0]) && loss[0] < 0.25 * initial, o + ": graph 8-bit loss " + loss[0] + ", initial " + initial);
            assertEquals(loss[1], loss[0], 0.02 * loss[1] + 0.005, o + ": graph 8-bit loss vs 32-bit twin");
        }
    }

    /** The packed words of a network's single 8-bit updater block (a copy). */
    static INDArray packedWords(Model m) {
        UpdaterBlock b = UpdaterStateAveraging.updater(m).getUpdaterBlocks().get(0);
        long n = b.getParamOffsetEnd() - b.getParamOffsetStart();
        return ((BlockwiseGradientUpdater) b.getGradientUpdater()).packedStateWords(n).dup();
    }

    /** Records, per worker model, its 8-bit state before each of its steps. */
    static final class StateRecorder extends BaseTrainingListener {
        final Map<Model, List<INDArray>> before = new IdentityHashMap<>();

        @Override
        public synchronized void onGradientCalculation(Model model) {
            before.computeIfAbsent(model, k -> new ArrayList<>()).add(packedWords(model));
        }
    }

    /**
     * AVERAGING, averagingFrequency 1: every round starts with both workers holding the same 8-bit
     * state, bit for bit (the averaged one, requantized once and copied), and the updater accepts it.
     */
    @ParameterizedTest
    @EnumSource(Opt.class)
    void workersStartEveryRoundFromTheSameAveragedState(Opt o) {
        MultiLayerNetwork net = Spirals.mlp(o.config(8), 7);
        ParallelWrapper pw = wrapper(net, ParallelWrapper.TrainingMode.AVERAGING);
        StateRecorder rec = new StateRecorder();
        pw.setListeners(rec);
        pw.fit(Spirals.iterator(TRAIN, BATCH));   // 600 / 32: 19 minibatches, 10 rounds (the last one with one worker)
        pw.shutdown();
        assertEquals(2, rec.before.size());
        List<List<INDArray>> perWorker = new ArrayList<>(rec.before.values());
        int rounds = Math.min(perWorker.get(0).size(), perWorker.get(1).size());
        assertEquals(9, rounds);
        for (int r = 1; r < rounds; r++) {
            assertEquals(perWorker.get(0).get(r), perWorker.get(1).get(r), "round " + r + ": workers start from different state");
        }
        // and it is not a zero state
        assertTrue(perWorker.get(0).get(rounds - 1).amaxNumber().doubleValue() > 0);
        assertEquals(9, ((ParallelWrapper8bit) pw).getUpdaterAveragingRounds());
    }

    /**
     * UpdaterStateAveraging on two networks trained on different data: afterwards each network's
     * dequantized state is the float average of the two dequantized states before, within one
     * quantization step of the block's new scale (and both hold the same bytes); both train on.
     */
    @ParameterizedTest
    @EnumSource(Opt.class)
    void averagedStateIsTheFloatAverageWithinOneQuantizationStep(Opt o) {
        MultiLayerNetwork a = Spirals.mlp(o.config(8), 7), b = Spirals.mlp(o.config(8), 7);
        for (int i = 0; i < 5; i++) {
            a.fit(Spirals.data(20, 10 + i));
            b.fit(Spirals.data(20, 20 + i));
        }
        INDArray[] va = AveragedStates.dequantized(a), vb = AveragedStates.dequantized(b);
        assertNotEquals(va[0], vb[0], "the two states must differ for the test to mean anything");
        UpdaterStateAveraging.Stats stats = UpdaterStateAveraging.average(List.of(a, b));
        assertEquals(1, stats.blocks8bit);
        assertEquals(packedWords(a), packedWords(b));
        INDArray[] avg = new INDArray[va.length];
        for (int s = 0; s < va.length; s++) avg[s] = va[s].add(vb[s]).divi(2);
        BlockwiseUpdaterConfig c = o.config(8);
        String e = AveragedStates.withinOneStep(c.kind(), c.getBlocksize(), avg, AveragedStates.dequantized(a));
        assertNull(e, e);
        // the next steps accept the averaged state
        a.fit(Spirals.data(20, 30));
        b.fit(Spirals.data(20, 31));
    }

    /**
     * DL4J 1.0.0-M2.1's ParallelWrapper ends each fit() with model.clear(), which drops a
     * MultiLayerNetwork's updater: the root's state is zero afterwards, even with DL4J's own Adam.
     * The drop-in keeps it: the second fit() starts every worker from the state the first one ended with.
     */
    @Test
    void secondFitContinuesFromTheSavedMoments() {
        // DL4J's wrapper and DL4J's Adam: the state is gone after fit()
        MultiLayerNetwork plain = Spirals.mlp(new Adam(5e-3), 7);
        ParallelWrapper dl4j = new ParallelWrapper.Builder<>(plain).workers(2).prefetchBuffer(4).averagingFrequency(1)
                .averageUpdaters(true).build();
        dl4j.fit(Spirals.iterator(TRAIN, BATCH));
        dl4j.shutdown();
        assertEquals(0.0, plain.getUpdater().getStateViewArray().amaxNumber().doubleValue(), "DL4J's ParallelWrapper no longer drops the state?");

        for (IUpdater u : new IUpdater[]{new Adam(5e-3), Opt.ADAM8BIT.config(8), Opt.LION8BIT.config(8)}) {
            MultiLayerNetwork net = Spirals.mlp(u, 7);
            ParallelWrapper pw = wrapper(net, ParallelWrapper.TrainingMode.AVERAGING);
            pw.fit(Spirals.iterator(TRAIN, BATCH));
            INDArray saved = net.getUpdater().getStateViewArray().dup();
            assertTrue(saved.amaxNumber().doubleValue() > 0, u + ": root state is zero after fit()");
            Map<Model, INDArray> firstState = new IdentityHashMap<>();
            pw.setListeners(new BaseTrainingListener() {
                @Override
                public void onGradientCalculation(Model model) {
                    synchronized (firstState) {
                        firstState.computeIfAbsent(model, m -> UpdaterStateAveraging.updater(m).getStateViewArray().dup());
                    }
                }
            });
            pw.fit(Spirals.iterator(TRAIN, BATCH));
            pw.shutdown();
            assertEquals(2, firstState.size());
            for (INDArray s : firstState.values()) assertEquals(saved, s, u + ": a worker did not start the second fit() from the saved state");
        }
    }

    /** DL4J's own wrapper averages the packed words: the next step refuses, naming the drop-in. */
    @Test
    void dl4jsWrapperFailsWithAnExplanation() {
        MultiLayerNetwork net = Spirals.mlp(Opt.ADAM8BIT.config(8), 7);
        ParallelWrapper pw = new ParallelWrapper.Builder<>(net).workers(2).prefetchBuffer(4).averagingFrequency(1).averageUpdaters(true).build();
        RuntimeException e = assertThrows(RuntimeException.class, () -> pw.fit(Spirals.iterator(TRAIN, BATCH)));
        pw.shutdown();
        Throwable c = e;
        while (c != null && !(c instanceof IllegalStateException && String.valueOf(c.getMessage()).contains("outside the updater"))) c = c.getCause();
        assertNotNull(c, "expected the checksum failure, got " + e);
        assertTrue(c.getMessage().contains("ParallelWrapper8bit"), c.getMessage());
    }
}
