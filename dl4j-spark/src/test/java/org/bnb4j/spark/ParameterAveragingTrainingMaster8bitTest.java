package org.bnb4j.spark;

import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.bnb4j.distributed.AveragedStates;
import org.bnb4j.distributed.Spirals;
import org.bnb4j.updaters.config.Adam8bit;
import org.bnb4j.updaters.config.BlockwiseUpdaterConfig;
import org.bnb4j.updaters.config.Lion8bit;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.spark.api.RDDTrainingApproach;
import org.deeplearning4j.spark.api.TrainingHook;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Spark local[2], two workers, the spirals MLP (4547 parameters, one 8-bit updater block):
 * {@link ParameterAveragingTrainingMaster8bit} with saveUpdater(true), and DL4J's own master.
 */
class ParameterAveragingTrainingMaster8bitTest {
    static final DataSet TRAIN = Spirals.data(200, 1), TEST = Spirals.data(100, 2);
    static final int BATCH = 32, AVERAGING = 3, EPOCHS = 12;
    static JavaSparkContext sc;
    static JavaRDD<DataSet> trainRdd;

    enum Opt {
        ADAM8BIT, LION8BIT;

        BlockwiseUpdaterConfig config(int bits) {
            return this == ADAM8BIT ? Adam8bit.builder().learningRate(1e-2).optimBits(bits).build()
                    : Lion8bit.builder().learningRate(3e-3).optimBits(bits).build();
        }
    }

    @BeforeAll
    static void start() {
        sc = SparkLocal.start("bnb4j-paramavg");
        trainRdd = SparkLocal.rdd(sc, TRAIN, 2);
    }

    @AfterAll
    static void stop() {
        if (sc != null) sc.stop();
        sc = null;
    }

    /** 600 examples, 2 workers x 32 x 3 per split: 3 splits of 200 examples per fit() (4 steps per worker and split). */
    static ParameterAveragingTrainingMaster.Builder builder(boolean ours) {
        ParameterAveragingTrainingMaster.Builder b = ours ? new ParameterAveragingTrainingMaster8bit.Builder(2, 1)
                : new ParameterAveragingTrainingMaster.Builder(2, 1);
        return b.batchSizePerWorker(BATCH).averagingFrequency(AVERAGING).saveUpdater(true).rngSeed(12345)
                .rddTrainingApproach(RDDTrainingApproach.Direct).repartionData(org.deeplearning4j.spark.api.Repartition.Never);
    }

    static double trainedLoss(IUpdater u, int epochs) {
        MultiLayerNetwork net = Spirals.mlp(u, 7);
        SparkDl4jMultiLayer spark = new SparkDl4jMultiLayer(sc, net, builder(true).build());
        StringBuilder curve = new StringBuilder();
        for (int e = 0; e < epochs; e++) {
            spark.fit(trainRdd);
            curve.append(String.format(" %.4f", net.score(TEST)));
        }
        String name = u.getClass().getSimpleName() + (u instanceof BlockwiseUpdaterConfig ? " optimBits " + ((BlockwiseUpdaterConfig) u).getOptimBits() : "");
        System.out.println("  " + name + ", test loss after each fit():" + curve);
        return net.score(TEST);
    }

    /**
     * Trains 12 fit() calls (3 splits each, 36 averaging rounds) without error, learns (below a quarter of
     * the initial loss), and ends within 2% of the 32-bit twin (optimBits(32): the same updater with float
     * state, which the master averages as DL4J does): no more than 2% worse, and not further from it than
     * 2% + 0.005 (the run-to-run noise bound of dl4j-distributed's and dl4j-updaters' tests).
     */
    @Tag("trajectory")
    @ParameterizedTest
    @EnumSource(Opt.class)
    void trainsAndMatchesThe32BitTwin(Opt o) {
        double initial = Spirals.mlp(o.config(8), 7).score(TEST);
        long t0 = System.nanoTime();
        double loss8 = trainedLoss(o.config(8), EPOCHS);
        long t1 = System.nanoTime();
        double loss32 = trainedLoss(o.config(32), EPOCHS);
        long t2 = System.nanoTime();
        System.out.printf("Spark paramavg %s: initial %.4f, 8-bit %.4f (%.1f s), 32-bit %.4f (%.1f s), %+.2f%%%n", o, initial, loss8,
                (t1 - t0) / 1e9, loss32, (t2 - t1) / 1e9, 100 * (loss8 - loss32) / loss32);
        assertTrue(Double.isFinite(loss8) && loss8 < 0.25 * initial, o + ": 8-bit loss " + loss8 + ", initial " + initial);
        assertTrue(loss8 <= 1.02 * loss32, o + ": 8-bit loss " + loss8 + " more than 2% above the 32-bit twin's " + loss32);
        assertEquals(loss32, loss8, 0.02 * loss32 + 0.005, o + ": 8-bit loss vs 32-bit twin");
    }

    // ---- observing the workers: TrainingHooks travel with the worker; in local mode they run in this JVM

    /** Per worker model (one per partition and split): its summable state after its last step. */
    static final Map<Model, INDArray> LAST_STATE = new IdentityHashMap<>();
    /** Per worker model: its packed updater view before its first step. */
    static final Map<Model, INDArray> FIRST_VIEW = new IdentityHashMap<>();

    static final class Recorder implements TrainingHook {
        private static final long serialVersionUID = 1L;

        @Override
        public void preUpdate(org.nd4j.linalg.dataset.api.DataSet minibatch, Model model) {
            synchronized (FIRST_VIEW) {
                FIRST_VIEW.computeIfAbsent(model, m -> FloatUpdaterState.updater(m).getStateViewArray().dup());
            }
        }

        @Override
        public void postUpdate(org.nd4j.linalg.dataset.api.DataSet minibatch, Model model) {
            INDArray s = FloatUpdaterState.dequantize(model);
            synchronized (LAST_STATE) {
                LAST_STATE.put(model, s);
            }
        }

        @Override
        public void preUpdate(MultiDataSet minibatch, Model model) {}

        @Override
        public void postUpdate(MultiDataSet minibatch, Model model) {}
    }

    /**
     * After each split the master's state is the float average of the workers' dequantized states
     * (recorded on the workers after their last step), within one quantization step of the block's new
     * scale; DL4J's sum and division see exactly that average.
     */
    @ParameterizedTest
    @EnumSource(Opt.class)
    void masterHoldsTheFloatAverageOfTheWorkersStates(Opt o) {
        MultiLayerNetwork net = Spirals.mlp(o.config(8), 7);
        ParameterAveragingTrainingMaster8bit tm = (ParameterAveragingTrainingMaster8bit) builder(true)
                .trainingHooks(new Recorder()).build();
        List<String> failures = new ArrayList<>();
        int[] checked = {0, 0};
        tm.setAveragingListener((split, total, results, averaged, master) -> {
            List<INDArray> workers;
            synchronized (LAST_STATE) {
                workers = new ArrayList<>(LAST_STATE.values());
                LAST_STATE.clear();
            }
            if (workers.size() != results) {
                failures.add("split " + split + ": " + workers.size() + " worker states recorded, " + results + " results averaged");
                return;
            }
            INDArray mean = workers.get(0).dup();
            for (int w = 1; w < workers.size(); w++) mean.addi(workers.get(w));
            mean.divi(workers.size());
            if (workers.size() > 1 && workers.get(0).equals(workers.get(1))) failures.add("split " + split + ": workers hold the same state");
            // what DL4J's aggregation averaged is the float mean of the workers' states
            double diff = mean.sub(averaged).norm1Number().doubleValue() / Math.max(1e-30, mean.norm1Number().doubleValue());
            if (diff > 1e-6) failures.add("split " + split + ": aggregated state differs from the workers' mean by " + diff);
            String e = withinOneStep(o, mean, AveragedStates.dequantized(master));
            if (e != null) failures.add("split " + split + ": " + e);
            checked[0]++;
            if (split == total) checked[1] += total;
        });
        synchronized (LAST_STATE) {
            LAST_STATE.clear();
        }
        SparkDl4jMultiLayer spark = new SparkDl4jMultiLayer(sc, net, tm);
        spark.fit(trainRdd);
        spark.fit(trainRdd);
        assertEquals(List.of(), failures);
        assertTrue(checked[0] >= 4, "splits averaged in two fit() calls: " + checked[0]);
        assertEquals(checked[1], checked[0], "every split was averaged");
        assertTrue(AveragedStates.dequantized(net)[0].amaxNumber().doubleValue() > 0, "the master's state is zero");
        net.fit(TEST); // the master's requantized, sealed state is one the updater accepts
    }

    /**
     * null when every element of the master's state is within one quantization step of the workers' mean
     * (the summable state: the float states one after the other), else the first failure.
     */
    static String withinOneStep(Opt o, INDArray mean, INDArray[] got) {
        long n = got[0].length();
        INDArray[] avg = new INDArray[got.length];
        for (int s = 0; s < got.length; s++) avg[s] = mean.get(NDArrayIndex.interval(s * n, (s + 1) * n));
        BlockwiseUpdaterConfig c = o.config(8);
        return AveragedStates.withinOneStep(c.kind(), c.getBlocksize(), avg, got);
    }

    /**
     * The master keeps its network's state across fit() calls: every worker of the second fit() starts
     * from the state the first one ended with (bit for bit, the broadcast of the packed view), not from zero.
     * Uses DL4J's default data path (export to files).
     */
    @Test
    void secondFitContinuesFromTheSavedMoments() {
        for (IUpdater u : new IUpdater[]{Opt.ADAM8BIT.config(8), Opt.LION8BIT.config(8), new Adam(5e-3)}) {
            MultiLayerNetwork net = Spirals.mlp(u, 7);
            ParameterAveragingTrainingMaster tm = new ParameterAveragingTrainingMaster8bit.Builder(2, 1).batchSizePerWorker(BATCH)
                    .averagingFrequency(AVERAGING).saveUpdater(true).rngSeed(12345).trainingHooks(new Recorder()).build();
            SparkDl4jMultiLayer spark = new SparkDl4jMultiLayer(sc, net, tm);
            spark.fit(trainRdd);
            INDArray saved = net.getUpdater().getStateViewArray().dup();
            assertTrue(saved.amaxNumber().doubleValue() > 0, u + ": the master's state is zero after fit()");
            synchronized (FIRST_VIEW) {
                FIRST_VIEW.clear();
            }
            // one split: both workers start from the master's state as the first fit() left it
            List<DataSet> one = TRAIN.asList().subList(0, 2 * BATCH * AVERAGING);
            spark.fit(sc.parallelize(one, 2));
            List<INDArray> first;
            synchronized (FIRST_VIEW) {
                first = new ArrayList<>(FIRST_VIEW.values());
            }
            assertEquals(2, first.size(), u + ": workers of the second fit()");
            for (INDArray s : first) assertEquals(saved, s, u + ": a worker did not start the second fit() from the saved state");
            assertNotEquals(saved, net.getUpdater().getStateViewArray(), u + ": the second fit() did not update the state");
        }
    }

    /**
     * DL4J's own ParameterAveragingTrainingMaster sums and divides the packed words: the workers of the
     * next split refuse the state, and the message names this module's master.
     */
    @Test
    void dl4jsMasterFailsWithAnExplanation() {
        MultiLayerNetwork net = Spirals.mlp(Opt.ADAM8BIT.config(8), 7);
        SparkDl4jMultiLayer spark = new SparkDl4jMultiLayer(sc, net, builder(false).build());
        Exception e = assertThrows(Exception.class, () -> spark.fit(trainRdd));
        Throwable c = e;
        StringBuilder chain = new StringBuilder();
        while (c != null) {
            chain.append(c).append('\n');
            if (String.valueOf(c.getMessage()).contains("outside the updater")) break;
            c = c.getCause();
        }
        String text = c != null ? c.getMessage() : chain.toString();
        assertTrue(text.contains("outside the updater"), "expected the checksum failure, got " + chain);
        assertTrue(text.contains("ParameterAveragingTrainingMaster8bit"), text);
        assertTrue(text.contains("ParallelWrapper8bit"), text);
        assertTrue(text.contains("SharedTrainingMaster"), text);
    }

    /**
     * State that is not 8-bit passes unchanged: with DL4J's Adam the master ends where DL4J's own
     * master does (the same splits, the same sums).
     */
    @Test
    void dl4jsOwnUpdatersAverageAsInDl4j() {
        double[] loss = new double[2];
        INDArray[] state = new INDArray[2];
        for (int k = 0; k < 2; k++) {
            MultiLayerNetwork net = Spirals.mlp(new Adam(5e-3), 7);
            SparkDl4jMultiLayer spark = new SparkDl4jMultiLayer(sc, net, builder(k == 0).build());
            for (int e = 0; e < 2; e++) spark.fit(trainRdd);
            loss[k] = net.score(TEST);
            state[k] = net.getUpdater().getStateViewArray().dup();
        }
        System.out.printf("Spark paramavg DL4J Adam: 8-bit master %.6f, DL4J's master %.6f%n", loss[0], loss[1]);
        assertEquals(loss[1], loss[0], 1e-4 * loss[1]);
        double rel = state[0].sub(state[1]).norm1Number().doubleValue() / state[1].norm1Number().doubleValue();
        assertTrue(rel < 1e-4, "state differs from DL4J's master by " + rel);
    }

    /** A ComputationGraph (SparkComputationGraph, the MultiDataSet path): trains, and the master's 8-bit state stays valid. */
    @Tag("trajectory")
    @Test
    void computationGraphsTrain() {
        org.deeplearning4j.nn.graph.ComputationGraph g = Spirals.graph(Opt.ADAM8BIT.config(8), 7);
        double initial = g.score(TEST);
        int[] averaged = {0};
        ParameterAveragingTrainingMaster8bit tm = (ParameterAveragingTrainingMaster8bit) builder(true).build();
        tm.setAveragingListener((split, total, results, state, master) -> averaged[0]++);
        org.deeplearning4j.spark.impl.graph.SparkComputationGraph spark = new org.deeplearning4j.spark.impl.graph.SparkComputationGraph(sc, g, tm);
        for (int e = 0; e < 4; e++) spark.fit(trainRdd);
        double loss = g.score(TEST);
        System.out.printf("Spark paramavg graph ADAM8BIT: initial %.4f, after 4 fit() %.4f%n", initial, loss);
        assertTrue(Double.isFinite(loss) && loss < 0.7 * initial, "graph loss " + loss + ", initial " + initial);
        assertEquals(12, averaged[0]);
        assertNotNull(FloatUpdaterState.dequantize(g));   // tag and checksum checked
        g.fit(TEST);
    }
}
