package org.bnb4j.distributed;

import org.bnb4j.updaters.config.Adam8bit;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.util.Arrays;
import java.util.List;

/**
 * One updater-state averaging round of two workers on a 10M-parameter MLP: 8-bit Adam state through
 * UpdaterStateAveraging vs DL4J Adam state through Nd4j.averageAndPropagate (what ParallelWrapper
 * runs) and through UpdaterStateAveraging's plain path. Run with
 * {@code mvn -B -q -o test -pl dl4j-distributed -am -Dtest=AveragingBench -Dbnb4j.bench=true -Dsurefire.failIfNoSpecifiedTests=false}.
 */
@EnabledIfSystemProperty(named = "bnb4j.bench", matches = "true")
class AveragingBench {
    static final int REPS = 7;

    static MultiLayerNetwork net(IUpdater u) {
        // 1000-2000-2000-2000-10: 2.002M + 4.002M + 4.002M + 0.02M = 10.03M parameters
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(3).updater(u).weightInit(WeightInit.XAVIER).list()
                .layer(new DenseLayer.Builder().nIn(1000).nOut(2000).activation(Activation.RELU).build())
                .layer(new DenseLayer.Builder().nIn(2000).nOut(2000).activation(Activation.RELU).build())
                .layer(new DenseLayer.Builder().nIn(2000).nOut(2000).activation(Activation.RELU).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(2000).nOut(10).activation(Activation.SOFTMAX).build())
                .build();
        MultiLayerNetwork n = new MultiLayerNetwork(conf);
        n.init();
        return n;
    }

    static DataSet batch(long seed) {
        Nd4j.getRandom().setSeed(seed);
        INDArray x = Nd4j.randn(DataType.FLOAT, 16, 1000);
        INDArray y = Nd4j.zeros(DataType.FLOAT, 16, 10);
        for (int i = 0; i < 16; i++) y.putScalar(i, i % 10, 1f);
        return new DataSet(x, y);
    }

    static MultiLayerNetwork[] workers(IUpdater u) {
        MultiLayerNetwork a = net(u), b = net(u);
        for (int i = 0; i < 3; i++) {
            a.fit(batch(i));
            b.fit(batch(100 + i));
        }
        return new MultiLayerNetwork[]{a, b};
    }

    static String median(long[] ns) {
        long[] s = ns.clone();
        Arrays.sort(s);
        return String.format("median %.1f ms (min %.1f, max %.1f)", s[s.length / 2] / 1e6, s[0] / 1e6, s[s.length - 1] / 1e6);
    }

    @Test
    void averagingRoundOf10MParameters() {
        MultiLayerNetwork[] w8 = workers(new Adam8bit(1e-3));
        MultiLayerNetwork[] w32 = workers(new Adam(1e-3));
        System.out.printf("params %d; state view: 8-bit %d floats, DL4J Adam %d floats%n", w8[0].numParams(),
                w8[0].getUpdater().getStateViewArray().length(), w32[0].getUpdater().getStateViewArray().length());
        long[] t8 = new long[REPS], tPlain = new long[REPS], tDl4j = new long[REPS];
        for (int r = 0; r < REPS; r++) {
            long t0 = System.nanoTime();
            UpdaterStateAveraging.average(List.of(w8[0], w8[1]));
            t8[r] = System.nanoTime() - t0;
            t0 = System.nanoTime();
            UpdaterStateAveraging.average(List.of(w32[0], w32[1]));
            tPlain[r] = System.nanoTime() - t0;
            t0 = System.nanoTime();
            Nd4j.averageAndPropagate(null, List.of(w32[0].getUpdater().getStateViewArray(), w32[1].getUpdater().getStateViewArray()));
            tDl4j[r] = System.nanoTime() - t0;
        }
        System.out.println("Adam8bit state, UpdaterStateAveraging:      " + median(t8));
        System.out.println("DL4J Adam state, UpdaterStateAveraging:     " + median(tPlain));
        System.out.println("DL4J Adam state, Nd4j.averageAndPropagate:  " + median(tDl4j));
        // where the 8-bit round goes: decode and encode of one worker's state (2 x 10M values)
        org.deeplearning4j.nn.updater.UpdaterBlock b = UpdaterStateAveraging.updater(w8[0]).getUpdaterBlocks().get(0);
        long n = b.getParamOffsetEnd() - b.getParamOffsetStart();
        org.bnb4j.internal.optim.OptimState8bit st = ((org.bnb4j.internal.updaters.BlockwiseGradientUpdater) b.getGradientUpdater()).packedState(n);
        INDArray[] v = {Nd4j.create(DataType.FLOAT, n), Nd4j.create(DataType.FLOAT, n)};
        long[] dq = new long[REPS], rq = new long[REPS];
        for (int r = 0; r < REPS; r++) {
            long t0 = System.nanoTime();
            st.dequantize(v);
            dq[r] = System.nanoTime() - t0;
            t0 = System.nanoTime();
            st.requantize(v);
            rq[r] = System.nanoTime() - t0;
        }
        ((org.bnb4j.internal.updaters.BlockwiseGradientUpdater) b.getGradientUpdater()).sealPackedState(n);
        System.out.println("  of which dequantize (" + n + " params, 2 states): " + median(dq));
        System.out.println("  of which requantize (" + n + " params, 2 states): " + median(rq));
        // the averaged 8-bit state is accepted by the next step
        w8[0].fit(batch(7));
        w8[1].fit(batch(8));
    }
}
