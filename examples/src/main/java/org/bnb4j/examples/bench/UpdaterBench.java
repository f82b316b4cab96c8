package org.bnb4j.examples.bench;

import org.bnb4j.kernels.ArrayMemory;
import org.bnb4j.kernels.Kernels;
import org.bnb4j.nativeops.BnbNative;
import org.bnb4j.updaters.config.Adam8bit;
import org.bnb4j.updaters.config.Lion8bit;
import org.bnb4j.updaters.config.SGD8bit;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Nesterovs;

import java.lang.ref.Reference;
import java.util.Locale;

/**
 * applyUpdater time per step for DL4J's own Adam and Nesterovs (fused libnd4j ops) and bnb4j's 8-bit
 * updaters, in the same run, plus each 8-bit updater's roofline: the time an OpenMP memory copy takes,
 * now, to read and write as many bytes as the updater must (gradient read and write, state read and
 * write: 12 bytes per parameter for Adam8bit, 10 for the one-state optimizers).
 *
 * <pre>mvn -q -pl examples exec:java -Dexec.mainClass=org.bnb4j.examples.bench.UpdaterBench [-Dexec.args="1000000,10000000,50000000 10"]</pre>
 */
public final class UpdaterBench {
    private static int iteration;

    public static void main(String[] args) {
        String[] sizes = (args.length > 0 ? args[0] : "1000000,10000000,50000000").split(",");
        int runs = args.length > 1 ? Integer.parseInt(args[1]) : 10;
        System.out.println("bnb4j updater benchmark: " + Kernels.get().name() + ", median of " + runs + " steps");
        for (String s : sizes) {
            long n = Long.parseLong(s.trim());
            INDArray grad = Nd4j.randn(DataType.FLOAT, n).muli(0.01);
            // Roofline: an OpenMP copy of half the bytes an updater moves (it reads and writes them).
            double copy12 = copySeconds(6 * n, runs), copy10 = copySeconds(5 * n, runs);
            System.out.printf(Locale.ROOT, "%n%,d parameters (memory copy %.1f GB/s read+write)%n", n, 12.0 * n / copy12 / 1e9);
            double adam = time(new Adam(1e-3), grad, runs);
            report("DL4J Adam", adam, adam, 0, 0);
            report("DL4J Nesterovs", time(new Nesterovs(1e-2, 0.9), grad, runs), adam, 0, 0);
            report("Adam8bit", time(new Adam8bit(1e-3), grad, runs), adam, 12, copy12);
            report("Adam8bit bs2048", time(Adam8bit.builder().learningRate(1e-3).blocksize(2048).build(), grad, runs), adam, 12, copy12);
            report("Lion8bit", time(new Lion8bit(1e-4), grad, runs), adam, 10, copy10);
            report("SGD8bit", time(new SGD8bit(1e-2), grad, runs), adam, 10, copy10);
        }
    }

    static void report(String name, double sec, double adamSec, int bytesPerParam, double rooflineSec) {
        String roof = "";
        if (bytesPerParam > 0) {
            roof = String.format(Locale.ROOT, "  %3.0f%% of roofline (%d B/param)", 100 * rooflineSec / sec, bytesPerParam);
        }
        System.out.printf(Locale.ROOT, "  %-15s %9.2f ms/step  %5.2fx vs DL4J Adam%s%n", name, sec * 1e3, adamSec / sec, roof);
    }

    /** Median time of applyUpdater alone; the gradient it overwrites is restored before each run, untimed. */
    static double time(IUpdater config, INDArray grad, int runs) {
        long n = grad.length();
        INDArray view = Nd4j.create(DataType.FLOAT, 1, config.stateSize(n));
        GradientUpdater u = config.instantiate(view, true);
        INDArray g = grad.dup();
        return Timer.medianSeconds(3, runs, () -> g.assign(grad), () -> u.applyUpdater(g, iteration++, 0));
    }

    /** Median time of an OpenMP memory copy of the given number of bytes (as many threads as the kernels). */
    static double copySeconds(long bytes, int runs) {
        INDArray a = Nd4j.rand(DataType.FLOAT, bytes / 4), b = Nd4j.create(DataType.FLOAT, bytes / 4);
        long src = ArrayMemory.of(a).address(), dst = ArrayMemory.of(b).address();
        double t = Timer.medianSeconds(3, runs, () -> BnbNative.parallelCopy(src, dst, bytes));
        // the copy got raw addresses: a and b must not be freed before it is done
        Reference.reachabilityFence(a);
        Reference.reachabilityFence(b);
        return t;
    }
}
