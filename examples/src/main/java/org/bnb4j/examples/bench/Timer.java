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
        for (int i = 0; i < warmup; i++) {
            setup.run();
            r.run();
        }
        double[] t = new double[runs];
        for (int i = 0; i < runs; i++) {
            setup.run();
            long s = System.nanoTime();
            r.run();
            t[i] = (System.nanoTime() - s) / 1e9;
        }
        Arrays.sort(t);
        return runs % 2 == 1 ? t[runs / 2] : (t[runs / 2 - 1] + t[runs / 2]) / 2;
    }
}
