package org.bnb4j.examples.bench;

import java.util.Arrays;

/** Median wall time of repeated runs after warm-up: robust on shared, noisy machines. */
final class Timer {
    private Timer() {}

    static double medianSeconds(int warmup, int runs, Runnable r) {
        return medianSeconds(warmup, runs, () -> {}, r);
    }

    /** As above, with an untimed setup before each run (e.g. restoring the input the run overwrites). */
    static double medianSeconds(int warmup, int runs, Runnable setup, Runnable r) {
        return median(interleavedSeconds(warmup, runs, new Runnable[]{setup}, new Runnable[]{r})[0]);
    }

    /**
     * As {@link #medianSeconds(int, int, Runnable, Runnable)}, warming up for at least {@code warmSeconds} (and 3
     * runs, at most 1000): code the JIT compiles late, such as the Vector API kernels, needs more than a
     * few runs before it is what a training loop would run (at 1M parameters the first 50 Adam8bit steps
     * of the Java kernels averaged 8x the later ones).
     */
    static double medianSecondsWarm(double warmSeconds, int runs, Runnable setup, Runnable r) {
        return median(interleavedSecondsWarm(warmSeconds, runs, new Runnable[]{setup}, new Runnable[]{r})[0]);
    }

    /**
     * Several operations timed in rounds, one run of each per round (after warm-up rounds), so that all of
     * them meet the same phases of a shared host: a host that slows down for a few seconds slows every
     * operation of those rounds, not only the one that happened to be measured then. Returns seconds
     * [operation][round]; setup[i] runs untimed before each run of op[i].
     */
    static double[][] interleavedSeconds(int warmup, int runs, Runnable[] setup, Runnable[] op) {
        double[][] t = new double[op.length][runs];
        for (int round = -warmup; round < runs; round++) {
            for (int i = 0; i < op.length; i++) {
                setup[i].run();
                long s = System.nanoTime();
                op[i].run();
                if (round >= 0) t[i][round] = (System.nanoTime() - s) / 1e9;
            }
        }
        return t;
    }

    /**
     * {@link #interleavedSeconds} after warm-up rounds that last at least warmSeconds per operation (at least
     * three rounds): code that the JIT compiles only after many runs (the Vector API kernels) is compiled
     * before the timed rounds.
     */
    static double[][] interleavedSecondsWarm(double warmSeconds, int runs, Runnable[] setup, Runnable[] op) {
        long until = System.nanoTime() + (long) (warmSeconds * op.length * 1e9);
        for (int round = 0; round < 1000 && (round < 3 || System.nanoTime() < until); round++) {
            for (int i = 0; i < op.length; i++) {
                setup[i].run();
                op[i].run();
            }
        }
        return interleavedSeconds(0, runs, setup, op);
    }

    /** The median over rounds of num[r] / den[r] (a ratio per round, so that a slow round slows both sides). */
    static double medianOfRatios(double[] num, double[] den) {
        double[] r = new double[num.length];
        for (int i = 0; i < r.length; i++) r[i] = num[i] / den[i];
        return median(r);
    }

    static double median(double[] values) {
        double[] t = values.clone();
        Arrays.sort(t);
        int n = t.length;
        return n % 2 == 1 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
    }
}
