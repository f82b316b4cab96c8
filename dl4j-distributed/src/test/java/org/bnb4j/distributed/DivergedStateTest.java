package org.bnb4j.distributed;

import org.bnb4j.updaters.config.Adam8bit;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.dataset.DataSet;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A worker whose 8-bit state diverged (inputs x1e30: v overflows, its block scale is +Inf and the state
 * decodes to NaN) is not averaged into the others as finite garbage: the averaging refuses with a
 * message, before any worker's state is written.
 */
class DivergedStateTest {
    private static final DataSet TRAIN = Spirals.data(100, 1);

    private static int[] bits(MultiLayerNetwork n) {
        float[] f = n.getUpdater().getStateViewArray().toFloatVector();
        int[] b = new int[f.length];
        for (int i = 0; i < f.length; i++) b[i] = Float.floatToRawIntBits(f[i]);
        return b;
    }

    @Test
    void averagingADivergedStateIsRefusedAndChangesNoWorker() {
        DataSet huge = TRAIN.copy();
        huge.getFeatures().muli(1e30f);
        MultiLayerNetwork diverged = Spirals.mlp(Adam8bit.builder().learningRate(1e-2).build(), 7);
        MultiLayerNetwork healthy = Spirals.mlp(Adam8bit.builder().learningRate(1e-2).build(), 7);
        diverged.fit(huge);
        healthy.fit(TRAIN);
        int[] d0 = bits(diverged), h0 = bits(healthy);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> UpdaterStateAveraging.average(List.of(healthy, diverged)));
        assertTrue(e.getMessage().contains("NaN or Inf") && e.getMessage().contains("no worker's state was changed"), e.getMessage());
        assertArrayEquals(d0, bits(diverged), "the diverged worker's state is unchanged");
        assertArrayEquals(h0, bits(healthy), "the healthy worker's state is unchanged");
        healthy.fit(TRAIN);
        assertTrue(Double.isFinite(healthy.score()), "and the healthy worker trains on");
    }
}
