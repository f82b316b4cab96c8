package org.bnb4j.examples;

import org.bnb4j.updaters.config.Adam8bit;
import org.bytedeco.javacpp.Pointer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.util.Locale;

/**
 * The scale demo: a wide MLP (default 75.6M parameters) is built and trained for a few steps with
 * Adam8bit and with DL4J's Adam. Parameters, gradients and updater state are the arrays DL4J really
 * allocated; their sizes (and the process's resident-memory growth) are reported and compared with a
 * memory budget: with the default 1000 MB, 32-bit Adam does not fit, Adam8bit does.
 *
 * <p>Why a budget check and not a hard cap: ND4J's CPU buffers are allocated by libnd4j, outside
 * javacpp's accounting, so -Dorg.bytedeco.javacpp.maxbytes does not limit them.
 */
public final class ScaleDemo {
    private ScaleDemo() {}

    public static final class Outcome {
        public final String updater;
        public final long params, paramBytes, gradientBytes, stateBytes, residentGrowth;
        public final double score;

        Outcome(String updater, long params, long paramBytes, long gradientBytes, long stateBytes, long residentGrowth, double score) {
            this.updater = updater;
            this.params = params;
            this.paramBytes = paramBytes;
            this.gradientBytes = gradientBytes;
            this.stateBytes = stateBytes;
            this.residentGrowth = residentGrowth;
            this.score = score;
        }

        public long totalBytes() {
            return paramBytes + gradientBytes + stateBytes;
        }
    }

    /** Runs both updaters; returns the number that fit the budget. */
    public static int run(int width, long budgetMb) {
        System.out.printf(Locale.ROOT, "scale demo: MLP %d-%d-%d-16, memory budget %d MB for parameters + gradients + optimizer state%n",
                width, width, width, budgetMb);
        int fit = 0;
        for (IUpdater u : new IUpdater[]{new Adam8bit(1e-3), new Adam(1e-3)}) {
            Outcome o = train(u, width);
            boolean fits = o.totalBytes() <= budgetMb * 1_000_000L;
            fit += fits ? 1 : 0;
            System.out.printf(Locale.ROOT, "  %-9s %,d params: parameters %.0f MB + gradients %.0f MB + optimizer state %.0f MB (%.2f B/param) = %.0f MB %s %d MB budget -> %s"
                            + "  [resident memory grew %.0f MB; score after 3 steps %.4f]%n",
                    o.updater, o.params, o.paramBytes / 1e6, o.gradientBytes / 1e6, o.stateBytes / 1e6, (double) o.stateBytes / o.params,
                    o.totalBytes() / 1e6, fits ? "<=" : ">", budgetMb, fits ? "fits" : "does NOT fit", o.residentGrowth / 1e6, o.score);
        }
        return fit;
    }

    static Outcome train(IUpdater updater, int width) {
        System.gc();
        long rss0 = Pointer.physicalBytes();
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(1).updater(updater).list()
                .layer(new DenseLayer.Builder().nIn(width).nOut(width).activation(Activation.TANH).build())
                .layer(new DenseLayer.Builder().nIn(width).nOut(width).activation(Activation.TANH).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MSE).nIn(width).nOut(16).activation(Activation.IDENTITY).build())
                .build());
        try {
            net.init();
            DataSet d = new DataSet(Nd4j.rand(DataType.FLOAT, 8, width), Nd4j.rand(DataType.FLOAT, 8, 16));
            for (int i = 0; i < 3; i++) net.fit(d);
            long rss = Pointer.physicalBytes() - rss0;
            return new Outcome(updater.getClass().getSimpleName(), net.numParams(), net.params().length() * 4L,
                    net.getGradientsViewArray().length() * 4L, net.getUpdater().getStateViewArray().length() * 4L, rss, net.score());
        } finally {
            net.close();
        }
    }
}
