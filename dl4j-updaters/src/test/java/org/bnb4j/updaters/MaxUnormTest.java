package org.bnb4j.updaters;

import org.bnb4j.updaters.config.Adam8bit;
import org.bnb4j.updaters.config.BlockwiseUpdaterConfig;
import org.bnb4j.internal.updaters.BlockwiseGradientUpdater;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.IUpdater;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** bitsandbytes' max_unorm on the 8-bit (and 32-bit) updaters. */
class MaxUnormTest {

    /**
     * The update direction (update / lr) is scaled to maxUnorm * ||p|| when longer, else untouched;
     * the state evolves exactly as without the limit (bitsandbytes applies the scale to the parameter
     * step only).
     */
    @Test
    void scalesTheUpdateAsBitsandbytes() {
        long n = 10_000;
        for (BlockwiseUpdaterConfig base : TestUpdaters.trainingAndA32BitTwin()) {
            for (double maxUnorm : new double[]{1e-4, 1e-2, 1e3}) {
                BlockwiseUpdaterConfig limited = base.clone();
                limited.setMaxUnorm(maxUnorm);
                BlockwiseGradientUpdater a = (BlockwiseGradientUpdater) limited.instantiate(Nd4j.create(DataType.FLOAT, 1, limited.stateSize(n)), true);
                BlockwiseGradientUpdater b = (BlockwiseGradientUpdater) base.instantiate(Nd4j.create(DataType.FLOAT, 1, base.stateSize(n)), true);
                Nd4j.getRandom().setSeed(5);
                INDArray p = Nd4j.randn(DataType.FLOAT, 1, n);
                a.bindParameters(List.of(p));
                int clipped = 0;
                for (int t = 0; t < 5; t++) {
                    INDArray g = Nd4j.randn(DataType.FLOAT, 1, n).muli(0.1 * (t + 1));
                    INDArray ua = g.dup(), ub = g.dup();
                    a.applyUpdater(ua, t, 0);
                    b.applyUpdater(ub, t, 0);
                    float lr = (float) base.getLearningRate(t, 0);
                    float unorm = (float) (ub.norm2Number().doubleValue() / lr);
                    float limit = (float) maxUnorm * (float) p.norm2Number().doubleValue();
                    INDArray expected = unorm > limit ? ub.mul(limit / unorm) : ub;
                    if (unorm > limit) clipped++;
                    assertEquals(expected, ua, base + " maxUnorm " + maxUnorm + " step " + t);
                    assertEquals(b.getState().keySet(), a.getState().keySet());
                    for (String k : b.getState().keySet()) {
                        if (!k.equals("check")) assertEquals(b.getState().get(k), a.getState().get(k), "state " + k);
                    }
                }
                if (maxUnorm == 1e-4) assertEquals(5, clipped, "a tight limit clips every step");
                if (maxUnorm == 1e3) assertEquals(0, clipped, "a loose one never does");
            }
        }
    }

    private static MultiLayerNetwork net(IUpdater u) {
        return SpiralMlp.create(u, 12);
    }

    @Test
    void networksNeedBindingAndResumeAfterRebinding() throws Exception {
        DataSet d = UpdatersTest.spirals(100, 51);
        IUpdater u = Adam8bit.builder().learningRate(1e-2).maxUnorm(0.001).build();
        MultiLayerNetwork unbound = net(u);
        Exception e = assertThrows(IllegalStateException.class, () -> unbound.fit(d));
        assertTrue(e.getMessage().contains("MaxUnorm.bind"), e.getMessage());

        MultiLayerNetwork a = net(u);
        assertTrue(MaxUnorm.bind(a) >= 1);
        INDArray before = a.params().dup();
        for (int i = 0; i < 3; i++) a.fit(d);
        // each step moves the parameters by at most lr * maxUnorm * ||p|| (per updater block)
        double moved = a.params().sub(before).norm2Number().doubleValue();
        assertTrue(moved > 0 && moved <= 3 * 1e-2 * 0.001 * before.norm2Number().doubleValue() * 1.05 * 3, "moved " + moved);

        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        ModelSerializer.writeModel(a, bos, true);
        MultiLayerNetwork b = ModelSerializer.restoreMultiLayerNetwork(new ByteArrayInputStream(bos.toByteArray()), true);
        MaxUnorm.bind(b);
        for (int i = 0; i < 3; i++) {
            a.fit(d);
            b.fit(d);
        }
        assertEquals(a.params(), b.params());
    }

    @Test
    void sameDiffBinding() {
        DataSet d = UpdatersTest.spirals(100, 52);
        Nd4j.getRandom().setSeed(3);
        SameDiff unbound = SameDiffTest.mlp(Adam8bit.builder().learningRate(1e-2).maxUnorm(0.01).build());
        Exception e = assertThrows(Exception.class, () -> unbound.fit(d));
        Throwable root = e;
        while (root.getCause() != null && !(root instanceof IllegalStateException)) root = root.getCause();
        assertTrue(String.valueOf(root.getMessage()).contains("MaxUnorm.bind"), String.valueOf(e));
        SameDiff sd = SameDiffTest.mlp(Adam8bit.builder().learningRate(1e-2).maxUnorm(0.01).build());
        assertEquals(3, MaxUnorm.bind(sd)); // w0, w1, w2 (the biases are constants in this graph)
        for (int i = 0; i < 3; i++) sd.fit(d);
        assertFalse(sd.getArrForVarName("w1").isNaN().any());
    }

    @Test
    void badValuesAreRejected() {
        for (double bad : new double[]{-1, Double.NaN, Double.POSITIVE_INFINITY}) {
            assertThrows(IllegalStateException.class, () -> Adam8bit.builder().maxUnorm(bad).build());
        }
    }
}
