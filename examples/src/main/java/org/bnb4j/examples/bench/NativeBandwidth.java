package org.bnb4j.examples.bench;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import java.nio.file.StandardCopyOption;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Memory bandwidth measured outside the JVM, in the same run: a small C program (membw.c, OpenMP copy
 * by memcpy and by streaming stores, and STREAM triad) compiled on the fly with {@code cc -O3 -fopenmp}.
 * It tells whether the in-JVM copy the benchmarks use as roofline (streaming stores for large copies) is
 * near what the machine gives a plain C program right now.
 */
final class NativeBandwidth {
    private NativeBandwidth() {}

    /** Copy (memcpy, streaming stores) and triad bandwidth (GB/s, best of the runs, as STREAM reports), or why not measured. */
    static final class Result {
        final double copyGBs, streamGBs, triadGBs;
        final String problem;

        Result(double copyGBs, double streamGBs, double triadGBs, String problem) {
            this.copyGBs = copyGBs;
            this.streamGBs = streamGBs;
            this.triadGBs = triadGBs;
            this.problem = problem;
        }

        static Result failed(String problem) {
            return new Result(Double.NaN, Double.NaN, Double.NaN, problem);
        }

        @Override
        public String toString() {
            return problem != null ? "C membw not measured: " + problem
                    : String.format(Locale.ROOT, "C copy %.1f GB/s (memcpy) / %.1f GB/s (streaming stores), C triad %.1f GB/s (best of runs)",
                            copyGBs, streamGBs, triadGBs);
        }
    }

    private static Path binary;
    private static String buildProblem;

    static synchronized Result measure(long floats, int reps, int threads) {
        if (binary == null && buildProblem == null) build();
        if (binary == null) return Result.failed(buildProblem);
        try {
            ProcessBuilder pb = new ProcessBuilder(binary.toString(), Long.toString(floats), Integer.toString(reps), Integer.toString(threads))
                    .redirectErrorStream(true);
            // Its OpenMP threads sleep between regions, so that a thread descheduled by another process
            // does not stall the measurement of what the memory can do.
            pb.environment().put("OMP_WAIT_POLICY", "passive");
            Process p = pb.start();
            String out;
            try (InputStream in = p.getInputStream()) {
                out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) return Result.failed("membw failed: " + out.trim());
            Matcher m = Pattern.compile("copy_best_gbs=([0-9.]+) triad_best_gbs=([0-9.]+) stream_best_gbs=([0-9.]+)").matcher(out);
            if (!m.find()) return Result.failed("unexpected membw output: " + out.trim());
            return new Result(Double.parseDouble(m.group(1)), Double.parseDouble(m.group(3)), Double.parseDouble(m.group(2)), null);
        } catch (IOException e) {
            return Result.failed(e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Result.failed("interrupted");
        }
    }

    private static void build() {
        try {
            Path dir = Files.createTempDirectory("bnb4j-membw");
            dir.toFile().deleteOnExit();
            Path src = dir.resolve("membw.c"), exe = dir.resolve("membw");
            try (InputStream in = NativeBandwidth.class.getResourceAsStream("membw.c")) {
                if (in == null) {
                    buildProblem = "membw.c not in the classpath";
                    return;
                }
                Files.copy(in, src, StandardCopyOption.REPLACE_EXISTING);
            }
            String cc = System.getenv().getOrDefault("CC", "cc");
            Process p = new ProcessBuilder(cc, "-O3", "-fopenmp", src.toString(), "-o", exe.toString()).redirectErrorStream(true).start();
            String out;
            try (InputStream in = p.getInputStream()) {
                out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            if (!p.waitFor(2, TimeUnit.MINUTES) || p.exitValue() != 0) {
                buildProblem = cc + " failed: " + out.trim();
                return;
            }
            src.toFile().deleteOnExit();
            exe.toFile().deleteOnExit();
            binary = exe;
        } catch (IOException e) {
            buildProblem = "no C compiler (" + e.getMessage() + ")";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            buildProblem = "interrupted";
        }
    }
}
