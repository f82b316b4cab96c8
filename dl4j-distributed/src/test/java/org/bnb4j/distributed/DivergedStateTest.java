package org.bnb4j.distributed;

import org.bnb4j.updaters.config.Adam8bit;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.dataset.DataSet;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A worker whose 8-bit state diverged (a block scale of +Inf: the state decodes to NaN and Inf) is not
 * averaged into the others as finite garbage: the averaging refuses with a message, before any worker's
 * state is written. (Steps no longer write such a scale, since an element whose new state overflows is
 * reset; a state saved by an older version, or a scale edited and sealed again, still can hold one.)
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
        MultiLayerNetwork diverged = Spirals.mlp(Adam8bit.builder().learningRate(1e-2).build(), 7);
        MultiLayerNetwork healthy = Spirals.mlp(Adam8bit.builder().learningRate(1e-2).build(), 7);
        diverged.fit(TRAIN);
        healthy.fit(TRAIN);
        // the first block scale of the first updater block (the first word after its header) set to +Inf, sealed as valid
        org.deeplearning4j.nn.updater.UpdaterBlock block = UpdaterStateAveraging.updater(diverged).getUpdaterBlocks().get(0);
        org.bnb4j.internal.updaters.BlockwiseGradientUpdater bu = (org.bnb4j.internal.updaters.BlockwiseGradientUpdater) block.getGradientUpdater();
        long n = block.getParamOffsetEnd() - block.getParamOffsetStart();
        bu.packedStateWords(n).putScalar(0, Float.POSITIVE_INFINITY);
        bu.sealPackedState(n);
        int[] d0 = bits(diverged), h0 = bits(healthy);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> UpdaterStateAveraging.average(List.of(healthy, diverged)));
        assertTrue(e.getMessage().contains("NaN or Inf") && e.getMessage().contains("no worker's state was changed"), e.getMessage());
        assertArrayEquals(d0, bits(diverged), "the diverged worker's state is unchanged");
        assertArrayEquals(h0, bits(healthy), "the healthy worker's state is unchanged");
        healthy.fit(TRAIN);
        assertTrue(Double.isFinite(healthy.score()), "and the healthy worker trains on");
    }

    @Test
    void aModelWithoutInitIsNamed() {
        MultiLayerNetwork inited = Spirals.mlp(Adam8bit.builder().learningRate(1e-2).build(), 7);
        MultiLayerNetwork notInited = new MultiLayerNetwork(inited.getLayerWiseConfigurations().clone());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> UpdaterStateAveraging.average(List.of(inited, notInited)));
        assertTrue(e.getMessage().contains("call init()"), e.getMessage());
        org.deeplearning4j.nn.graph.ComputationGraph graph = new org.deeplearning4j.nn.graph.ComputationGraph(
                new org.deeplearning4j.nn.conf.NeuralNetConfiguration.Builder().updater(new Adam8bit(1e-2)).graphBuilder().addInputs("in")
                        .addLayer("out", new org.deeplearning4j.nn.conf.layers.OutputLayer.Builder().nIn(2).nOut(3).build(), "in")
                        .setOutputs("out").build());
        e = assertThrows(IllegalArgumentException.class, () -> UpdaterStateAveraging.updater(graph));
        assertTrue(e.getMessage().contains("call init()"), e.getMessage());
    }
}
