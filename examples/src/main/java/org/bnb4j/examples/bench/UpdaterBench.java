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

import java.util.Locale;

/**
 * applyUpdater time per step for DL4J's own Adam and Nesterovs (fused libnd4j ops) and bnb4j's 8-bit
 * updaters, in the same run, plus each 8-bit updater's roofline: the bytes it must move (gradient
 * read and write, state read and write) at the bandwidth of an OpenMP memory copy measured now.
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
            double copyGBs = copyBandwidth(n, runs);
            System.out.printf(Locale.ROOT, "%n%,d parameters (memory copy %.1f GB/s read+write)%n", n, copyGBs);
            double adam = time(new Adam(1e-3), grad, runs);
            report("DL4J Adam", adam, adam, 0, copyGBs, n);
            report("DL4J Nesterovs", time(new Nesterovs(1e-2, 0.9), grad, runs), adam, 0, copyGBs, n);
            report("Adam8bit", time(new Adam8bit(1e-3), grad, runs), adam, 12, copyGBs, n);
            report("Adam8bit bs2048", time(Adam8bit.builder().learningRate(1e-3).blocksize(2048).build(), grad, runs), adam, 12, copyGBs, n);
            report("Lion8bit", time(new Lion8bit(1e-4), grad, runs), adam, 10, copyGBs, n);
            report("SGD8bit", time(new SGD8bit(1e-2), grad, runs), adam, 10, copyGBs, n);
        }
    }

    static void report(String name, double sec, double adamSec, int bytesPerParam, double copyGBs, long n) {
        String roof = "";
        if (bytesPerParam > 0) {
            double rooflineSec = bytesPerParam * (double) n / (copyGBs * 1e9);
            roof = String.format(Locale.ROOT, "  %3.0f%% of roofline (%d B/param)", 100 * rooflineSec / sec, bytesPerParam);
        }
        System.out.printf(Locale.ROOT, "  %-15s %9.2f ms/step  %5.2fx vs DL4J Adam%s%n", name, sec * 1e3, adamSec / sec, roof);
    }

    static double time(IUpdater config, INDArray grad, int runs) {
        long n = grad.length();
        INDArray view = Nd4j.create(DataType.FLOAT, 1, config.stateSize(n));
        GradientUpdater u = config.instantiate(view, true);
        INDArray g = grad.dup();
        return Timer.medianSeconds(3, runs, () -> {
            g.assign(grad); // not timed separately: the same for every updater, subtracted below
            u.applyUpdater(g, iteration++, 0);
        }) - Timer.medianSeconds(3, runs, () -> g.assign(grad));
    }

    static double copyBandwidth(long n, int runs) {
        INDArray a = Nd4j.rand(DataType.FLOAT, n), b = Nd4j.create(DataType.FLOAT, n);
        long src = ArrayMemory.of(a).address(), dst = ArrayMemory.of(b).address();
        double t = Timer.medianSeconds(3, runs, () -> BnbNative.parallelCopy(src, dst, 4 * n));
        return 8.0 * n / t / 1e9;
    }
}
