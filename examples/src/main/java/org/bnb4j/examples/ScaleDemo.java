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
 * Run in a JVM whose off-heap memory is capped (-Dorg.bytedeco.javacpp.maxbytes): a wide MLP is
 * trained for a few steps with Adam8bit, then with DL4J's Adam. Parameters, gradients and updater
 * state are real ND4J allocations; the state sizes printed are those of the allocated views.
 * Usually started by {@code TrainComparison --scale-demo}.
 */
public final class ScaleDemo {
    public static void main(String[] args) throws Exception {
        int width = args.length > 0 ? Integer.parseInt(args[0]) : 6144;
        long budgetMb = args.length > 1 ? Long.parseLong(args[1]) : Pointer.maxBytes() >> 20;
        System.out.printf(Locale.ROOT, "scale demo: off-heap memory cap %d MB (javacpp maxBytes %d MB), MLP %d-%d-%d-%d%n",
                budgetMb, Pointer.maxBytes() >> 20, width, width, width, 16);
        int ok = 0;
        for (IUpdater u : new IUpdater[]{new Adam8bit(1e-3), new Adam(1e-3)}) {
            ok += attempt(u, width) ? 1 : 0;
            System.gc();
            Thread.sleep(300);
            System.gc();
        }
        System.out.println(ok == 1 ? "=> only the 8-bit optimizer fits this budget" : "=> " + ok + " of 2 runs fit (change --scale-budget-mb / --scale-width to see the difference)");
    }

    static boolean attempt(IUpdater updater, int width) {
        String name = updater.getClass().getSimpleName();
        MultiLayerNetwork net = null;
        try {
            net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(1).updater(updater).list()
                    .layer(new DenseLayer.Builder().nIn(width).nOut(width).activation(Activation.TANH).build())
                    .layer(new DenseLayer.Builder().nIn(width).nOut(width).activation(Activation.TANH).build())
                    .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MSE).nIn(width).nOut(16).activation(Activation.IDENTITY).build())
                    .build());
            net.init();
            long n = net.numParams();
            System.out.printf(Locale.ROOT, "  %-9s %,d parameters (%.0f MB); the updater state will need %.0f MB%n", name, n, n * 4 / 1e6,
                    updater.stateSize(n) * 4 / 1e6);
            DataSet d = new DataSet(Nd4j.rand(DataType.FLOAT, 8, width), Nd4j.rand(DataType.FLOAT, 8, 16));
            for (int i = 0; i < 3; i++) net.fit(d);
            long state = net.getUpdater().getStateViewArray().length() * 4L;
            System.out.printf(Locale.ROOT, "  %-9s trained 3 steps: updater state view %.0f MB (%.2f bytes/param), off-heap in use %.0f MB, score %.4f%n",
                    name, state / 1e6, (double) state / n, Pointer.totalBytes() / 1e6, net.score());
            return true;
        } catch (OutOfMemoryError e) {
            String msg = e.getMessage() == null ? e.toString() : e.getMessage().split("\n")[0];
            System.out.printf(Locale.ROOT, "  %-9s does NOT fit: %s%n", name, msg);
            return false;
        } finally {
            if (net != null) net.close();
        }
    }
}
