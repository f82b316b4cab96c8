package org.bnb4j.examples.bench;

import org.bnb4j.internal.kernels.KernelProvider;
import org.bnb4j.internal.paging.PagedMemory;
import org.bnb4j.internal.paging.PagingDirectory;
import org.bnb4j.updaters.config.Adam8bit;
import org.bnb4j.updaters.config.BlockwiseUpdaterConfig;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.GradientUpdater;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Step time of paged state against in-memory state when memory is ample (the OS keeps the paged pages),
 * in the same run: applyUpdater of Adam8bit and of its 32-bit twin on a view in ordinary memory, on a
 * paged view (a file mapping from the start, as PagedUpdaterState.install gives), and on a paged view
 * whose steps are forced to stream (each range written to the file and dropped behind the step, what
 * happens when the state does not fit). In-memory and paged rounds alternate, so a busy host slows them
 * alike; the streamed steps run after them.
 *
 * <pre>mvn -q -pl examples exec:java -Dexec.mainClass=org.bnb4j.examples.bench.PagedBench [-Dexec.args="SIZES RUNS DIR"]</pre>
 * SIZES: comma-separated parameter counts (default 10000000,50000000); RUNS: steps per median (default 10);
 * DIR: the paged files' directory (default java.io.tmpdir).
 */
public final class PagedBench {
    private PagedBench() {}

    public static void main(String[] args) {
        BenchArgs a = BenchArgs.parse("PagedBench [SIZES (default 10000000,50000000)] [RUNS (default 10)] [DIR (default java.io.tmpdir)]",
                args, java.util.Set.of(), 3);
        long[] sizes = a.sizes(0, "10000000,50000000");
        int runs = a.count(1, 10, "runs");
        Path dir = PagingDirectory.resolve(a.positional(2, null));
        System.out.println("paged state step time, kernels = " + KernelProvider.get() + ", directory " + dir);
        System.out.println("| updater | parameters | state | in memory | paged | paged / in memory | paged, streamed | streamed / in memory |");
        System.out.println("|---|---|---|---|---|---|---|---|");
        for (long n : sizes) {
            for (int bits : new int[]{8, 32}) row(n, bits, runs, dir);
        }
    }

    static void row(long n, int bits, int runs, Path dir) {
        Adam8bit mem = Adam8bit.builder().learningRate(1e-3).optimBits(bits).min8bitSize(0).build();
        BlockwiseUpdaterConfig paged = mem.clone();
        paged.setPaged(true);
        paged.setPagedDirectory(dir.toString());
        long size = mem.stateSize(n);
        INDArray vm = Nd4j.createUninitialized(DataType.FLOAT, size), vp = PagedMemory.allocate(DataType.FLOAT, size, dir),
                vs = PagedMemory.allocate(DataType.FLOAT, size, dir);
        GradientUpdater<?> um = mem.instantiate(vm, true), up = paged.instantiate(vp, true);
        GradientUpdater<?> us;
        System.setProperty("bnb4j.paged.streaming", "always");
        try {
            us = paged.instantiate(vs, true);
        } finally {
            System.clearProperty("bnb4j.paged.streaming");
        }
        Nd4j.getRandom().setSeed(1);
        INDArray g0 = Nd4j.randn(DataType.FLOAT, n).muli(0.01), g = g0.dup();
        List<double[]> t = new ArrayList<>();
        GradientUpdater<?>[] all = {um, up, us};
        int[] iteration = {0, 0, 0};
        for (int i = 0; i < 3; i++) t.add(new double[runs]);
        // in-memory and paged alternate; the streamed one runs after them (its writes would make the OS
        // write the other's dirty pages back early)
        for (int w = 0; w < 2; w++) for (int u = 0; u < 2; u++) step(all[u], g, g0, iteration[u]++);
        for (int r = 0; r < runs; r++) {
            for (int u = 0; u < 2; u++) t.get(u)[r] = step(all[u], g, g0, iteration[u]++);
        }
        for (int w = 0; w < 2; w++) step(us, g, g0, iteration[2]++);
        for (int r = 0; r < runs; r++) t.get(2)[r] = step(us, g, g0, iteration[2]++);
        double m = median(t.get(0)), p = median(t.get(1)), st = median(t.get(2));
        System.out.printf(Locale.ROOT, "| %s | %,d | %,d MB | %.1f ms | %.1f ms | %.2f | %.1f ms | %.2f |%n", bits == 8 ? "Adam8bit" : "Adam (32-bit)",
                n, 4 * size >> 20, m, p, p / m, st, st / m);
        vm.close();
    }

    static double step(GradientUpdater<?> u, INDArray g, INDArray g0, int iteration) {
        g.assign(g0);
        long t0 = System.nanoTime();
        u.applyUpdater(g, iteration, 0);
        return (System.nanoTime() - t0) / 1e6;
    }

    static double median(double[] v) {
        double[] s = v.clone();
        java.util.Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
