package org.bnb4j.spark;

import org.bnb4j.distributed.Spirals;
import org.bnb4j.updaters.config.Adam8bit;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

import static org.junit.jupiter.api.Assertions.*;

/** FloatUpdaterState.requantizeInto refuses NaN and Inf in 8-bit blocks before writing any block. */
class FloatUpdaterStateTest {
    private static final DataSet TRAIN = Spirals.data(100, 1);

    private static int[] bits(INDArray a) {
        float[] f = a.toFloatVector();
        int[] b = new int[f.length];
        for (int i = 0; i < f.length; i++) b[i] = Float.floatToRawIntBits(f[i]);
        return b;
    }

    @Test
    void nonFiniteValuesAreRefusedAndTheViewIsUnchanged() {
        MultiLayerNetwork net = Spirals.mlp(Adam8bit.builder().learningRate(1e-2).min8bitSize(64).build(), 7);
        for (int i = 0; i < 3; i++) net.fit(TRAIN);
        INDArray values = FloatUpdaterState.dequantize(net);
        int[] before = bits(net.getUpdater().getStateViewArray());
        for (float bad : new float[]{Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
            INDArray v = values.dup();
            v.putScalar(v.length() - 2, bad);   // in the last block: earlier blocks would have been written first
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FloatUpdaterState.requantizeInto(net, v), "" + bad);
            assertTrue(e.getMessage().contains("NaN or Inf") && e.getMessage().contains("nothing was written"), e.getMessage());
            assertArrayEquals(before, bits(net.getUpdater().getStateViewArray()), bad + ": the view is unchanged");
        }
        // finite values (large ones too) are written, and the net steps on them
        INDArray v = values.dup();
        v.putScalar(5, 1e30f);
        FloatUpdaterState.requantizeInto(net, v);
        net.fit(TRAIN);
        assertTrue(Double.isFinite(net.score()));
    }
}
