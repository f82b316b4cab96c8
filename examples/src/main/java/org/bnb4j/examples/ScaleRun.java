package org.bnb4j.examples;

import org.bnb4j.examples.memory.Processes;
import org.bnb4j.internal.paging.PagedMemory;
import org.bnb4j.updaters.config.Adam8bit;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.util.Arrays;
import java.util.Locale;

/**
 * One run of the scale demo in a JVM of its own (so its peak resident memory is its own):
 * {@code <updater> <width> <steps> <pagedDir>} with updater none (no state: the probe), adam (DL4J's),
 * adam8bit, paged-adam8bit or paged-adam (32-bit state, paged). Prints STEP lines as it goes and a
 * RESULT line of key=value pairs (bytes; stepMs the median step) at the end.
 */
public final class ScaleRun {
    private ScaleRun() {}

    static long parameters(int width) {
        return 2L * width * width + 2L * width + 16L * width + 16;
    }

    static IUpdater updater(String name, String dir) {
        switch (name) {
            case "none": return new NoOp();
            case "adam": return new Adam(1e-4);
            case "adam8bit": return new Adam8bit(1e-4);
            case "paged-adam8bit": return Adam8bit.builder().learningRate(1e-4).paged(true).pagedDirectory(dir).build();
            case "paged-adam": return Adam8bit.builder().learningRate(1e-4).optimBits(32).paged(true).pagedDirectory(dir).build();
            default: throw new IllegalArgumentException("unknown updater " + name + " (none, adam, adam8bit, paged-adam8bit, paged-adam)");
        }
    }

    /**
     * Bytes of the state in this process's memory: for paged state the resident pages of its file
     * mappings (/proc/self/smaps; pages only in the page cache are the OS's to drop), else the
     * array's resident pages.
     */
    static long residentState(INDArray state) {
        long mapped = PagedMemory.mappedResidentBytes(state);
        return mapped >= 0 ? mapped : PagedMemory.residentBytes(state);
    }

    public static void main(String[] args) {
        String name = args[0];
        int width = Integer.parseInt(args[1]), steps = Integer.parseInt(args[2]);
        String dir = args.length > 3 ? args[3] : System.getProperty("java.io.tmpdir");
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(1).updater(updater(name, dir)).list()
                .layer(new DenseLayer.Builder().nIn(width).nOut(width).activation(Activation.TANH).build())
                .layer(new DenseLayer.Builder().nIn(width).nOut(width).activation(Activation.TANH).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MSE).nIn(width).nOut(16).activation(Activation.IDENTITY).build())
                .build());
        net.init();
        // paged: DL4J's updater on a view that is a file mapping from the start (never resident as a whole)
        if (name.startsWith("paged-")) org.bnb4j.updaters.PagedUpdaterState.install(net);
        System.out.printf(Locale.ROOT, "INIT resident %d MB (anon %d MB, file %d MB)%n", Processes.statusBytes("VmRSS") >> 20,
                Processes.statusBytes("RssAnon") >> 20, Processes.statusBytes("RssFile") >> 20);
        Nd4j.getRandom().setSeed(2);
        DataSet d = new DataSet(Nd4j.rand(DataType.FLOAT, 8, width), Nd4j.rand(DataType.FLOAT, 8, 16));
        double[] ms = new double[steps];
        for (int i = 0; i < steps; i++) {
            long t0 = System.nanoTime();
            net.fit(d);
            ms[i] = (System.nanoTime() - t0) / 1e6;
            System.out.printf(Locale.ROOT, "STEP %d %.0f ms score %.5f resident %d MB (anon %d MB, file %d MB)%n", i + 1, ms[i], net.score(),
                    Processes.statusBytes("VmRSS") >> 20, Processes.statusBytes("RssAnon") >> 20, Processes.statusBytes("RssFile") >> 20);
        }
        INDArray state = net.getUpdater().getStateViewArray();
        long stateBytes = state == null ? 0 : state.length() * state.data().getElementSize();
        long resident = state == null ? 0 : residentState(state);
        double[] sorted = ms.clone();
        Arrays.sort(sorted);
        System.out.printf(Locale.ROOT, "RESULT params=%d stateBytes=%d stateResident=%d vmhwm=%d rssAnon=%d rssFile=%d stepMs=%.1f score=%.6f%n",
                net.numParams(), stateBytes, resident, Processes.statusBytes("VmHWM"), Processes.statusBytes("RssAnon"),
                Processes.statusBytes("RssFile"), sorted[steps / 2], net.score());
        System.out.flush();
        System.exit(0);
    }
}
