package org.bnb4j.examples.bench;

import org.bnb4j.internal.kernels.ArrayMemory;
import org.bnb4j.internal.kernels.KernelProvider;
import org.bnb4j.internal.nativeops.BnbNative;
import org.bnb4j.internal.nativeops.OpenMpRuntimes;
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

import java.io.IOException;
import java.lang.ref.Reference;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * applyUpdater time per step for DL4J's own Adam and Nesterovs (fused libnd4j ops) and bnb4j's 8-bit
 * updaters, in the same run, plus each 8-bit updater's roofline: the time an OpenMP memory copy takes
 * to read and write as many bytes as the updater must (gradient read and write, state read and write: 12
 * bytes per parameter for Adam8bit, 10 for the one-state optimizers; streaming stores, as a large memcpy).
 * The updaters and the copies are timed in rounds, one step of each per round, and each speed-up and
 * roofline share is the median of the rounds' ratios, so that a shared host's slow phases hit the
 * baseline and the updater alike. Next to the in-JVM
 * copy, a plain C copy and STREAM triad measured outside the JVM in the same run (membw.c, compiled
 * with cc) show how near that roofline is to what the machine gives.
 *
 * <pre>mvn -q -pl examples exec:java -Dexec.mainClass=org.bnb4j.examples.bench.UpdaterBench [-Dexec.args="SIZES RUNS [--noisy[=K]] [--isa=all|LIST]"]</pre>
 *
 * <ul>
 *   <li>SIZES: comma-separated parameter counts (default 1000000,10000000,50000000); RUNS: rounds per median (default 10).</li>
 *   <li>{@code --noisy[=K]}: every size is measured quiet, then again while K (default 1) other processes each
 *       spin a core (a noisy neighbour on a shared host); the summary compares the ratios against DL4J's Adam.</li>
 *   <li>{@code --isa=all} or e.g. {@code --isa=avx2,avx512vbmi}: the 8-bit updaters once per instruction-set path
 *       (as BNB4J_ISA would force it), against the same DL4J baseline.</li>
 * </ul>
 */
public final class UpdaterBench {
    private static int iteration;

    public static void main(String[] args) {
        BenchArgs a = BenchArgs.parse("UpdaterBench [SIZES (comma-separated, default 1000000,10000000,50000000)] [RUNS (default 10)] "
                + "[--noisy[=K]] [--isa=all|ISA,...]", args, java.util.Set.of("--noisy", "--isa"), 2);
        long[] sizes = a.sizes(0, "1000000,10000000,50000000");
        int runs = a.count(1, 10, "runs");
        int noisy = a.optionCount("--noisy", 1, 64);
        List<String> asked = a.isas();
        boolean nativeLoaded = KernelProvider.nativeKernels().isPresent();
        List<String> isas = asked != null ? asked : List.of(nativeLoaded ? BnbNative.activeIsa() : "java");
        int threads = nativeLoaded ? BnbNative.maxThreads() : Runtime.getRuntime().availableProcessors();

        System.out.println("bnb4j updater benchmark: " + KernelProvider.get().quantKernels().name() + ", median of " + runs
                + " rounds (one step of each updater per round; speed-ups: median of the rounds' ratios)");
        System.out.println("CPU: " + cpuModel() + ", " + Runtime.getRuntime().availableProcessors() + " cores visible to the JVM"
                + (nativeLoaded ? "; supported ISAs " + BnbNative.supportedIsas() + ", active " + BnbNative.activeIsa() : ""));
        List<String> omp = OpenMpRuntimes.mapped();
        System.out.println("OpenMP runtimes mapped: " + omp.size() + " " + omp
                + (System.getenv("OMP_WAIT_POLICY") != null ? "; OMP_WAIT_POLICY=" + System.getenv("OMP_WAIT_POLICY") : ""));

        Map<String, double[]> summary = new LinkedHashMap<>(); // name -> {quiet ratio, noisy ratio}
        try {
            for (long n : sizes) {
                INDArray grad = Nd4j.randn(DataType.FLOAT, n).muli(0.01);
                Map<String, double[]> quiet = measureSize(n, grad, runs, isas, threads, "quiet");
                if (noisy > 0) {
                    Map<String, double[]> loaded;
                    try (NoisyNeighbour nn = new NoisyNeighbour(noisy, 3600)) {
                        loaded = measureSize(n, grad, runs, isas, threads, "noisy neighbour: " + nn.processes() + " process(es) spinning");
                    }
                    for (String k : quiet.keySet()) {
                        if (k.equals("DL4J Adam")) continue;
                        summary.put(String.format(Locale.ROOT, "%,d %s", n, k), new double[]{quiet.get(k)[1], loaded.get(k)[1]});
                    }
                }
            }
        } finally {
            if (nativeLoaded) BnbNative.selectIsa(isas.get(0));
        }
        if (nativeLoaded) {
            try {
                System.out.println("\nParallel calls that found an OpenMP thread descheduled (then ran on bnb4j's own threads for a while): "
                        + BnbNative.parallelStalls());
            } catch (LinkageError e) {
                // an older libbnb4j
            }
        }
        List<String> ompEnd = OpenMpRuntimes.mapped();
        if (!ompEnd.equals(omp)) System.out.println("\nOpenMP runtimes mapped at the end: " + ompEnd.size() + " " + ompEnd);
        if (!summary.isEmpty()) {
            System.out.printf(Locale.ROOT, "%nSpeed-up vs DL4J Adam, quiet and with the noisy neighbour (goal: noisy within 1.5x of quiet)%n");
            for (Map.Entry<String, double[]> e : summary.entrySet()) {
                double[] r = e.getValue();
                System.out.printf(Locale.ROOT, "  %-40s quiet %6.2fx  noisy %6.2fx  kept %4.0f%%%s%n", e.getKey(), r[0], r[1], 100 * r[1] / r[0],
                        r[0] / r[1] > 1.5 ? "  (lost more than 1.5x)" : "");
            }
        }
    }

    /** One measured updater: its row name, the ISA path it runs on (null: DL4J's own), bytes it moves per parameter. */
    private record Entry(String name, String isa, int bytesPerParam, IUpdater config) {}

    /**
     * Every updater at one size, interleaved (Timer.interleavedSeconds: one step of each per round); returns
     * by row name {median seconds per step, speed-up vs DL4J Adam}. The speed-up is the median over rounds
     * of DL4J Adam's step time divided by the updater's in the same round.
     */
    static Map<String, double[]> measureSize(long n, INDArray grad, int runs, List<String> isas, int threads, String condition) {
        NativeBandwidth.Result c = NativeBandwidth.measure(Math.max(1, 6 * n / 4), Math.max(3, runs), threads);
        List<Entry> entries = new ArrayList<>();
        entries.add(new Entry("DL4J Adam", null, 0, new Adam(1e-3)));
        entries.add(new Entry("DL4J Nesterovs", null, 0, new Nesterovs(1e-2, 0.9)));
        for (String isa : isas) {
            if (!isa.equals("java") && !BnbNative.selectIsa(isa)) {
                System.out.println("  (ISA " + isa + " not supported here)");
                continue;
            }
            String tag = isas.size() > 1 ? " [" + isa + "]" : "";
            String path = isa.equals("java") ? null : isa;
            entries.add(new Entry("Adam8bit" + tag, path, 12, new Adam8bit(1e-3)));
            entries.add(new Entry("Adam8bit bs2048" + tag, path, 12, Adam8bit.builder().learningRate(1e-3).blocksize(2048).build()));
            entries.add(new Entry("Lion8bit" + tag, path, 10, new Lion8bit(1e-4)));
            entries.add(new Entry("SGD8bit" + tag, path, 10, new SGD8bit(1e-2)));
        }
        // One gradient buffer for all: each step overwrites it with its update, so it is restored (untimed) first.
        INDArray g = grad.dup();
        Runnable[] setup = new Runnable[entries.size()];
        Runnable[] step = new Runnable[entries.size()];
        for (int i = 0; i < entries.size(); i++) {
            Entry e = entries.get(i);
            GradientUpdater u = e.config().instantiate(Nd4j.create(DataType.FLOAT, 1, e.config().stateSize(n)), true);
            setup[i] = () -> {
                if (e.isa() != null) BnbNative.selectIsa(e.isa());
                g.assign(grad);
            };
            step[i] = () -> u.applyUpdater(g, iteration++, 0);
        }
        // Roofline: an OpenMP copy of half the bytes an updater moves (it reads and writes them), 12 and 10
        // B/param, timed in the same rounds as the updaters (the last two ops), so that each round's
        // share compares the copy and the updater in the same state of the host.
        int nu = entries.size();
        INDArray src = Nd4j.rand(DataType.FLOAT, 6 * n / 4), dst = Nd4j.create(DataType.FLOAT, 6 * n / 4);
        long srcAddr = ArrayMemory.of(src).address(), dstAddr = ArrayMemory.of(dst).address();
        Runnable[] allSetup = Arrays.copyOf(setup, nu + 2), allStep = Arrays.copyOf(step, nu + 2);
        allSetup[nu] = allSetup[nu + 1] = () -> {};
        allStep[nu] = () -> BnbNative.parallelCopy(srcAddr, dstAddr, 6 * n);
        allStep[nu + 1] = () -> BnbNative.parallelCopy(srcAddr, dstAddr, 5 * n);
        double[][] t = Timer.interleavedSeconds(3, runs, allSetup, allStep);
        // the copies got raw addresses: src and dst must not be freed before they are done
        Reference.reachabilityFence(src);
        Reference.reachabilityFence(dst);
        System.out.printf(Locale.ROOT, "%n%,d parameters, %s (in-JVM copy %.1f GB/s read+write, median of the rounds; %s; %d threads)%n",
                n, condition, 12.0 * n / Timer.median(t[nu]) / 1e9, c, threads);
        Map<String, double[]> out = new LinkedHashMap<>();
        for (int i = 0; i < nu; i++) {
            Entry e = entries.get(i);
            int copy = e.bytesPerParam() == 12 ? nu : nu + 1;
            double sec = Timer.median(t[i]), speedup = Timer.medianOfRatios(t[0], t[i]);
            out.put(e.name(), new double[]{sec, speedup});
            report(e.name(), sec, speedup, e.bytesPerParam(), Timer.medianOfRatios(t[copy], t[i]));
        }
        return out;
    }

    /** rooflineShare: median over rounds of the copy's time over the updater's (bytesPerParam 0: not an 8-bit updater). */
    static void report(String name, double sec, double speedup, int bytesPerParam, double rooflineShare) {
        String roof = "";
        if (bytesPerParam > 0) {
            roof = String.format(Locale.ROOT, "  %3.0f%% of roofline (%d B/param)", 100 * rooflineShare, bytesPerParam);
        }
        System.out.printf(Locale.ROOT, "  %-28s %9.2f ms/step  %5.2fx vs DL4J Adam%s%n", name, sec * 1e3, speedup, roof);
    }

    static String cpuModel() {
        try {
            for (String l : Files.readAllLines(Paths.get("/proc/cpuinfo"))) {
                if (l.startsWith("model name")) return l.substring(l.indexOf(':') + 1).trim();
            }
        } catch (IOException | RuntimeException e) {
            // not Linux
        }
        return System.getProperty("os.arch");
    }
}
