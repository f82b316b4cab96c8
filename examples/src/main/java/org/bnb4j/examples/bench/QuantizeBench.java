package org.bnb4j.examples.bench;

import org.bnb4j.internal.kernels.ArrayMemory;
import org.bnb4j.internal.kernels.KernelProvider;
import org.bnb4j.internal.nativeops.BnbNative;
import org.bnb4j.quant.Blockwise;
import org.bnb4j.quant.QuantMap;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.lang.ref.Reference;
import java.util.Locale;

/**
 * Block-wise quantize / dequantize throughput against a plain memory copy of the same float array,
 * measured in the same run (the copy is the roofline: the kernels move 4 + 1 bytes per element each
 * way, the copy 4 + 4).
 *
 * <pre>mvn -q -pl examples exec:java -Dexec.mainClass=org.bnb4j.examples.bench.QuantizeBench [-Dexec.args="50000000 10"]</pre>
 */
public final class QuantizeBench {
    /**
     * Warm-up runs per measurement: enough for the JIT to finish compiling the call path, whose
     * background compiler threads otherwise share the 2 cores with the first measured runs (seen as
     * a dequantize at half speed in some runs).
     */
    static final int WARMUP = 10;

    public static void main(String[] args) {
        BenchArgs a = BenchArgs.parse("QuantizeBench [N (default 50000000)] [RUNS (default 10)]", args, java.util.Set.of(), 2);
        long n = a.sizes(0, "50000000")[0];
        if (a.positional(0, "").contains(",")) a.fail("QuantizeBench takes one size, got '" + a.positional(0, "") + "'");
        int runs = a.count(1, 10, "runs");
        if (KernelProvider.nativeKernels().isEmpty()) {
            System.err.println("native library not loaded: this benchmark measures the native kernels");
            System.exit(2);
        }
        Nd4j.getRandom().setSeed(1);
        INDArray x = Nd4j.randn(DataType.FLOAT, n);
        INDArray copyDst = Nd4j.create(DataType.FLOAT, n);
        INDArray out = Nd4j.create(DataType.FLOAT, n);
        INDArray codes = Nd4j.create(DataType.UBYTE, n);
        long src = ArrayMemory.of(x).address(), dst = ArrayMemory.of(copyDst).address();
        long floatBytes = 4 * n;

        System.out.printf(Locale.ROOT, "bnb4j quantize benchmark: %,d floats (%.0f MB), %s, median of %d runs%n",
                n, floatBytes / 1e6, KernelProvider.get().quantKernels().name(), runs);
        double tCopy = Timer.medianSeconds(3, runs, () -> BnbNative.parallelCopy(src, dst, floatBytes));
        double copyGBs = 2.0 * floatBytes / tCopy / 1e9;
        System.out.printf(Locale.ROOT, "memory copy               %8.2f ms  %6.2f GB/s (read+write)%n", tCopy * 1e3, copyGBs);
        // parallelCopy got raw addresses: keep its arrays alive until it has run
        Reference.reachabilityFence(x);
        Reference.reachabilityFence(copyDst);

        for (int blocksize : new int[]{256, 4096}) {
            long nb = Blockwise.numBlocks(n, blocksize);
            INDArray absmax = Nd4j.create(DataType.FLOAT, nb);
            double tq = Timer.medianSeconds(WARMUP, runs, () -> Blockwise.quantize(x, QuantMap.dynamic(), blocksize, codes, absmax));
            double td = Timer.medianSeconds(WARMUP, runs, () -> Blockwise.dequantize(codes, absmax, QuantMap.dynamic(), blocksize, out));
            long bytesQ = floatBytes + n + 4 * nb, bytesD = n + 4 * nb + floatBytes;
            double gq = bytesQ / tq / 1e9, gd = bytesD / td / 1e9, both = (bytesQ + bytesD) / (tq + td) / 1e9;
            System.out.printf(Locale.ROOT, "blocksize %4d quantize    %8.2f ms  %6.2f GB/s  %5.2f Gelem/s  %4.0f%% of copy%n",
                    blocksize, tq * 1e3, gq, n / tq / 1e9, 100 * gq / copyGBs);
            System.out.printf(Locale.ROOT, "blocksize %4d dequantize  %8.2f ms  %6.2f GB/s  %5.2f Gelem/s  %4.0f%% of copy%n",
                    blocksize, td * 1e3, gd, n / td / 1e9, 100 * gd / copyGBs);
            System.out.printf(Locale.ROOT, "blocksize %4d quant+dequant          %6.2f GB/s                 %4.0f%% of copy (goal >= 60%%)%n",
                    blocksize, both, 100 * both / copyGBs);
        }
    }
}
