package org.bnb4j.examples.bench;

import org.bnb4j.internal.kernels.BlockwiseQuantizer;
import org.bnb4j.internal.kernels.KernelProvider;
import org.bnb4j.internal.kernels.QuantKernels;
import org.bnb4j.internal.optim.JavaOptimizerKernels;
import org.bnb4j.optim.OptimKind;
import org.bnb4j.internal.optim.OptimState8bit;
import org.bnb4j.internal.optim.OptimizerKernels;
import org.bnb4j.quant.Blockwise;
import org.bnb4j.quant.QuantMap;
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

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ForkJoinPool;

/**
 * The portable path: the pure-Java kernels (what aarch64 Linux and macOS get, where the native
 * library does not load), scalar and vectorised (JDK Vector API), against DL4J's own fused
 * updaters, all in the same run. Needs the native library off and the Vector API module on:
 *
 * <pre>java --add-modules jdk.incubator.vector -Dbnb4j.native=false -cp ... org.bnb4j.examples.bench.PortableBench [sizes [runs [kinds]]]</pre>
 *
 * Updater rows are DL4J's {@code applyUpdater} through the active kernels (the vectorised ones);
 * kernel rows time {@code OptimizerKernels.step8bit} on the packed state the updaters use (blocksize
 * 256), scalar and vectorised, for each optimizer of {@code kinds} (OptimKind names, comma-separated,
 * or "all"; default ADAM,LION,MOMENTUM) at its {@link OptimKind#example} step, and quantize/dequantize through {@link BlockwiseQuantizer} with each
 * implementation. The updaters and the vectorised steps are timed in rounds, one step of each per round
 * (as UpdaterBench), after warm-up rounds of at least a second per measurement (the parallel paths of the
 * Java kernels are compiled only once a size reaches them): times are medians of {@code runs} rounds and
 * ratios the medians of the rounds' ratios. The scalar steps and quantize/dequantize are timed alone,
 * each after its own second of warm-up. The gradient is restored untimed before each step.
 */
public final class PortableBench {
    /** Warm-up per measurement: the Vector API kernels reach their compiled form only after many runs. */
    private static final double WARM_SECONDS = 1.0;
    private static int iteration;

    public static void main(String[] args) {
        BenchArgs a = BenchArgs.parse("PortableBench [SIZES (default 1000000,10000000)] [RUNS (default 10)] [KINDS (default ADAM,LION,MOMENTUM, or all)]",
                args, java.util.Set.of(), 3);
        long[] sizeList = a.sizes(0, "1000000,10000000");
        String[] sizes = java.util.Arrays.stream(sizeList).mapToObj(Long::toString).toArray(String[]::new);
        int runs = a.count(1, 10, "runs");
        OptimKind[] kinds;
        try {
            kinds = kinds(a.positional(2, "ADAM,LION,MOMENTUM"));
        } catch (IllegalArgumentException e) {
            a.fail("unknown optimizer in '" + a.positional(2, "") + "' (choose from " + java.util.Arrays.toString(OptimKind.values()) + " or all)");
            return;
        }
        if (KernelProvider.nativeKernels().isPresent()) {
            System.err.println("the native library is loaded: run with -Dbnb4j.native=false to measure the Java kernels");
            System.exit(2);
        }
        OptimizerKernels vector = KernelProvider.vectorized().map(KernelProvider::optimizerKernels).orElse(null);
        QuantKernels vq = KernelProvider.vectorized().map(KernelProvider::quantKernels).orElse(null);
        System.out.printf(Locale.ROOT, "bnb4j portable benchmark: java %s (%s), %d threads, active kernels: %s%n",
                System.getProperty("java.version"), System.getProperty("java.vm.name"),
                ForkJoinPool.getCommonPoolParallelism() + 1, KernelProvider.get().quantKernels().name());
        if (vector == null) {
            System.out.println("vectorized Java kernels off: " + KernelProvider.vectorUnavailableReason()
                    + " (only the scalar rows are measured)");
        }
        System.out.println("median of " + runs + " runs; ratios are DL4J Adam's time / this time (> 1: faster than DL4J's Adam)");
        for (String s : sizes) {
            long n = Long.parseLong(s.trim());
            Nd4j.getRandom().setSeed(n);
            INDArray grad = Nd4j.randn(DataType.FLOAT, n).muli(0.01);
            System.out.printf(Locale.ROOT, "%n%,d parameters%n", n);
            // The updaters and the vectorized fused steps in rounds, one run of each per round (Timer): the
            // ratios are the medians of the rounds' ratios, so that a slow phase of a shared host slows the
            // baseline and the measured step alike. The scalar steps (~0.5 s each at 10M) are timed alone.
            String active = vector != null ? "vector" : "scalar";
            List<Timed> rows = new ArrayList<>();
            rows.add(updater("DL4J Adam (updater)", new Adam(1e-3), grad));
            rows.add(updater("DL4J Nesterovs (updater)", new Nesterovs(1e-2, 0.9), grad));
            rows.add(updater("Adam8bit (updater, " + active + ")", new Adam8bit(1e-3), grad));
            rows.add(updater("Lion8bit (updater, " + active + ")", new Lion8bit(1e-4), grad));
            rows.add(updater("SGD8bit (updater, " + active + ")", new SGD8bit(1e-2), grad));
            int firstKernel = rows.size();
            if (vector != null) {
                for (OptimKind kind : kinds) rows.add(kernel(kind + " step8bit vector Java", vector, kind, grad));
            }
            double[][] t = Timer.interleavedSecondsWarm(WARM_SECONDS, runs,
                    rows.stream().map(Timed::setup).toArray(Runnable[]::new), rows.stream().map(Timed::op).toArray(Runnable[]::new));
            double adam = Timer.median(t[0]);
            double[] sec = new double[rows.size()], speedup = new double[rows.size()];
            for (int i = 0; i < rows.size(); i++) {
                sec[i] = Timer.median(t[i]);
                speedup[i] = Timer.medianOfRatios(t[0], t[i]);
                if (i < firstKernel) row(rows.get(i).name(), sec[i], speedup[i], "");
            }
            for (int j = 0; j < kinds.length; j++) {
                Timed sc = kernel(kinds[j] + " step8bit scalar Java", JavaOptimizerKernels.INSTANCE, kinds[j], grad);
                double tScalar = Timer.medianSecondsWarm(WARM_SECONDS, Math.max(3, runs / 3), sc.setup(), sc.op());
                row(sc.name(), tScalar, adam / tScalar, "  (timed alone)");
                if (vector != null) {
                    int i = firstKernel + j;
                    row(rows.get(i).name(), sec[i], speedup[i], String.format(Locale.ROOT, "  %5.1fx scalar", tScalar / sec[i]));
                }
            }
        }
        long n = Long.parseLong(sizes[sizes.length - 1].trim());
        Nd4j.getRandom().setSeed(1);
        INDArray x = Nd4j.randn(DataType.FLOAT, n), out = Nd4j.create(DataType.FLOAT, n), codes = Nd4j.create(DataType.UBYTE, n);
        System.out.printf(Locale.ROOT, "%nquantize / dequantize, %,d floats%n", n);
        for (int blocksize : new int[]{256, 4096}) {
            INDArray absmax = Nd4j.create(DataType.FLOAT, Blockwise.numBlocks(n, blocksize));
            double[] sq = quant(new BlockwiseQuantizer(KernelProvider.reference().quantKernels()), x, codes, absmax, out, blocksize, Math.max(3, runs / 3));
            quantRow("scalar Java", blocksize, n, sq, null);
            if (vq != null) quantRow("vector Java", blocksize, n, quant(new BlockwiseQuantizer(vq), x, codes, absmax, out, blocksize, runs), sq);
        }
    }

    /** speedup: DL4J Adam's time over this one (the median of the rounds' ratios where timed in rounds). */
    static void row(String name, double sec, double speedup, String extra) {
        System.out.printf(Locale.ROOT, "  %-34s %9.2f ms  %5.2fx vs DL4J Adam%s%n", name, sec * 1e3, speedup, extra);
    }

    static void quantRow(String name, int blocksize, long n, double[] t, double[] base) {
        String ratio = base == null ? "" : String.format(Locale.ROOT, "   (%4.1fx / %4.1fx scalar)", base[0] / t[0], base[1] / t[1]);
        System.out.printf(Locale.ROOT, "  %-12s blocksize %4d: quantize %8.2f ms %5.2f Gelem/s, dequantize %8.2f ms %5.2f Gelem/s%s%n",
                name, blocksize, t[0] * 1e3, n / t[0] / 1e9, t[1] * 1e3, n / t[1] / 1e9, ratio);
    }

    static double[] quant(BlockwiseQuantizer q, INDArray x, INDArray codes, INDArray absmax, INDArray out, int blocksize, int runs) {
        double tq = Timer.medianSecondsWarm(WARM_SECONDS, runs, () -> {}, () -> q.quantize(x, QuantMap.dynamic(), blocksize, codes, absmax));
        double td = Timer.medianSecondsWarm(WARM_SECONDS, runs, () -> {}, () -> q.dequantize(codes, absmax, QuantMap.dynamic(), blocksize, out));
        return new double[]{tq, td};
    }

    /** One measured row: its name, an untimed setup before each run (restoring the gradient), the timed op. */
    record Timed(String name, Runnable setup, Runnable op) {
    }

    /** applyUpdater alone (DL4J's contract: the gradient becomes the update in place). */
    static Timed updater(String name, IUpdater config, INDArray grad) {
        long n = grad.length();
        INDArray view = Nd4j.create(DataType.FLOAT, 1, config.stateSize(n));
        GradientUpdater u = config.instantiate(view, true);
        INDArray g = grad.dup();
        return new Timed(name, () -> g.assign(grad), () -> u.applyUpdater(g, iteration++, 0));
    }

    /** One fused 8-bit step on a packed state (the updaters' layout), blocksize 256. */
    static Timed kernel(String name, OptimizerKernels k, OptimKind kind, INDArray grad) {
        long n = grad.length();
        INDArray view = Nd4j.create(DataType.FLOAT, OptimState8bit.packedLength(kind, n, 256));
        OptimState8bit st = OptimState8bit.packed(kind, view, n, 256);
        INDArray g = grad.dup();
        long[] t = {0};
        return new Timed(name, () -> g.assign(grad), () -> k.step8bit(kind.example(++t[0]), g, st));
    }

    static OptimKind[] kinds(String names) {
        if (names.equalsIgnoreCase("all")) return OptimKind.values();
        return java.util.Arrays.stream(names.split(",")).map(n -> OptimKind.valueOf(n.trim().toUpperCase(Locale.ROOT))).toArray(OptimKind[]::new);
    }
}
