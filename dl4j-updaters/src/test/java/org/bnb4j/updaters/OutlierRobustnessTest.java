package org.bnb4j.updaters;

import org.bnb4j.updaters.config.Adam8bit;
import org.bnb4j.updaters.config.BlockwiseUpdaterConfig;
import org.bnb4j.updaters.config.SGD8bit;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.IUpdater;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * One batch with a huge gradient (inputs x 1e10) used to turn Adam8bit and AdEMAMix8bit parameters
 * into NaN within a few clean steps (a v decoded to 0 under the huge block scale gave m / eps updates).
 * With the update bound the 8-bit run survives and recovers like its 32-bit twin; percentile clipping
 * (bitsandbytes' setting) is the other guard.
 */
class OutlierRobustnessTest {

    private static MultiLayerNetwork net(IUpdater u) {
        return SpiralMlp.create(u, 11);
    }

    /** Trains 30 steps, one outlier batch, then 60 clean steps; returns the final test loss (NaN if it diverged). */
    private static double runWithOutlier(IUpdater u) {
        DataSet train = UpdatersTest.spirals(100, 41), test = UpdatersTest.spirals(100, 42);
        MultiLayerNetwork n = net(u);
        for (int i = 0; i < 30; i++) n.fit(train);
        DataSet outlier = new DataSet(train.getFeatures().mul(1e10), train.getLabels());
        n.fit(outlier);
        for (int i = 0; i < 60; i++) n.fit(train);
        INDArray p = n.params();
        if (p.isNaN().any() || p.isInfinite().any()) return Double.NaN;
        return n.score(test);
    }

    @Test
    void eightBitRecoversLikeThe32BitTwin() {
        List<String> report = new ArrayList<>();
        // the optimizers with a moment bound (Adam, AdEMAMix), at learning rate 1e-3
        List<BlockwiseUpdaterConfig> bounded = TestUpdaters.training().filter(c -> c.hyper(1e-3, 1).momentBound() < Float.POSITIVE_INFINITY).toList();
        bounded.forEach(c -> c.setLearningRate(1e-3));
        assertTrue(bounded.size() >= 2, bounded.toString());
        for (BlockwiseUpdaterConfig c : bounded) {
            BlockwiseUpdaterConfig twin = c.clone();
            twin.setOptimBits(32);
            double l8 = runWithOutlier(c), l32 = runWithOutlier(twin);
            report.add(c.getClass().getSimpleName() + ": 8-bit " + l8 + ", 32-bit " + l32);
            assertFalse(Double.isNaN(l8), "8-bit parameters stay finite: " + report);
            assertFalse(Double.isNaN(l32), "32-bit twin stays finite: " + report);
            assertTrue(Math.abs(l8 - l32) <= 0.05 * l32, "8-bit recovers like the 32-bit twin: " + report);
        }
    }

    /**
     * A finite gradient whose square overflows float (|g| > ~1.8e19) resets its element like a non-finite
     * gradient (states 0, update 0), for every optimizer, 8-bit and 32-bit; the other elements of its block
     * keep finite state. (An infinite v became the block's scale, and at the next step every other element
     * of the block decoded v as 0 * Inf = NaN: 256 NaN updates for Adam, AdEMAMix, RMSprop and Adagrad.)
     */
    @Test
    void aGradientWhoseSquareOverflowsResetsOnlyItsElement() {
        int n = 8192;
        for (BlockwiseUpdaterConfig eight : TestUpdaters.training().toList()) {
            BlockwiseUpdaterConfig twin = eight.clone();
            twin.setOptimBits(32);
            for (BlockwiseUpdaterConfig c : List.of(eight, twin)) {
                String what = c.kind() + " optimBits " + c.getOptimBits();
                GradientUpdater<?> u = c.instantiate(Nd4j.create(DataType.FLOAT, 1, c.stateSize(n)), true);
                for (int it = 0; it < 4; it++) {
                    Nd4j.getRandom().setSeed(100 + it);
                    INDArray g = Nd4j.randn(DataType.FLOAT, 1, n).muli(0.01);
                    if (it == 1) g.putScalar(5, 1e20f);
                    u.applyUpdater(g, it, 0);
                    float[] up = g.toFloatVector();
                    int nonFinite = 0, zero = 0;
                    for (float x : up) {
                        if (!Float.isFinite(x)) nonFinite++;
                        if (x == 0f) zero++;
                    }
                    assertEquals(0, nonFinite, what + " step " + it + ": non-finite updates");
                    // the optimizers whose state squares the gradient (momentum's and Lion's states stay finite)
                    boolean squares = c.kind() != org.bnb4j.optim.OptimKind.MOMENTUM && c.kind() != org.bnb4j.optim.OptimKind.LION;
                    if (it == 1 && squares) assertEquals(0f, up[5], what + ": the overflowing element gives no update");
                    assertTrue(zero <= 2, what + " step " + it + ": " + zero + " zero updates (only the reset element may be 0)");
                }
            }
        }
    }

    /** At network level: one batch of inputs x1e38 (gradients past 1e19), then clean training: parameters stay finite. */
    @Test
    void aBatchWhoseGradientSquaresOverflowLeavesFiniteParameters() {
        DataSet train = UpdatersTest.spirals(100, 41);
        for (BlockwiseUpdaterConfig c : TestUpdaters.training().toList()) {
            MultiLayerNetwork n = net(c);
            for (int i = 0; i < 3; i++) n.fit(train);
            n.fit(new DataSet(train.getFeatures().mul(1e38), train.getLabels()));
            for (int i = 0; i < 3; i++) n.fit(train);
            INDArray p = n.params();
            assertFalse(p.isNaN().any() || p.isInfinite().any(), c.kind() + ": parameters stay finite");
        }
    }

    /** Without the bound (the plain bitsandbytes rule), the same run diverges: what the bound fixes. */
    @Test
    void withoutTheBoundTheEightBitRunDiverges() {
        BlockwiseUpdaterConfig plain = Adam8bit.builder().learningRate(1e-3).updateBound(false).build();
        double l = runWithOutlier(plain);
        assertTrue(Double.isNaN(l), "plain 8-bit Adam after the outlier batch: " + l);
    }

    /** Percentile clipping (bitsandbytes' semantics) keeps the outlier batch from reaching the state at full size. */
    @Test
    void percentileClippingAlsoGuards() {
        BlockwiseUpdaterConfig clipped = Adam8bit.builder().learningRate(1e-3).updateBound(false).percentileClipping(5).build();
        double l = runWithOutlier(clipped);
        assertFalse(Double.isNaN(l), "clipped run stays finite");
        assertTrue(l < 1.0986, "and learns: " + l);
    }

    /**
     * The gradient scale of percentile clipping equals an independent transcription of bitsandbytes'
     * percentile_clipping: gnorm_vec[100] of squared norms, slot step % 100, the first step fills all
     * slots, clip = sqrt(sorted[p]), scale = clip / norm when norm > clip. Read off a 32-bit SGD8bit with
     * momentum 0.5 and learning rate 1 (update = s = 0.5 s + scaled gradient, exact in float) over 250
     * steps of varying norms.
     */
    @Test
    void clippingScalesAsBitsandbytesDoes() {
        int p = 5;
        long n = 1000;
        SGD8bit c = (SGD8bit) SGD8bit.builder().learningRate(1.0).momentum(0.5).optimBits(32).percentileClipping(p).build();
        GradientUpdater<?> u = c.instantiate(Nd4j.create(DataType.FLOAT, 1, c.stateSize(n)), true);
        float[] gnormVec = new float[100];
        INDArray s = null;
        java.util.Random r = new java.util.Random(3);
        for (int step = 1; step <= 250; step++) {
            float size = (float) Math.exp(r.nextGaussian() * 2);
            Nd4j.getRandom().setSeed(step);
            INDArray g = Nd4j.randn(DataType.FLOAT, 1, n).muli(size);
            double norm = g.norm2Number().doubleValue();
            // reference
            float sq = (float) (norm * norm);
            if (step == 1) Arrays.fill(gnormVec, sq);
            else gnormVec[step % 100] = sq;
            float current = (float) Math.sqrt(gnormVec[step % 100]);
            float[] sorted = gnormVec.clone();
            Arrays.sort(sorted);
            float clip = (float) Math.sqrt(sorted[p]);
            float scale = current > clip ? clip / current : 1f;

            INDArray scaled = g.mul(scale);
            s = s == null ? scaled : s.muli(0.5f).addi(scaled);
            INDArray expected = s.dup();
            u.applyUpdater(g, step - 1, 0);
            assertEquals(expected, g, "step " + step + " scale " + scale);
        }
    }

    /** The norm history is part of the saved state: save + restore + continue is bit-identical. */
    @Test
    void clippingHistoryResumesExactly() throws Exception {
        DataSet train = UpdatersTest.spirals(100, 43);
        IUpdater u = Adam8bit.builder().learningRate(1e-3).percentileClipping(10).build();
        MultiLayerNetwork a = net(u);
        for (int i = 0; i < 7; i++) a.fit(train);
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        ModelSerializer.writeModel(a, bos, true);
        MultiLayerNetwork b = ModelSerializer.restoreMultiLayerNetwork(new ByteArrayInputStream(bos.toByteArray()), true);
        for (int i = 0; i < 7; i++) {
            a.fit(train);
            b.fit(train);
        }
        assertEquals(a.params(), b.params());
        assertEquals(a.getUpdater().getStateViewArray(), b.getUpdater().getStateViewArray());
        // and the configuration round-trips through JSON with the new fields
        assertEquals(a.getLayerWiseConfigurations(), MultiLayerConfiguration.fromJson(a.getLayerWiseConfigurations().toJson()));
    }
}
