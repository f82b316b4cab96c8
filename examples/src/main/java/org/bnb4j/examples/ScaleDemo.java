package org.bnb4j.examples;

import org.bnb4j.examples.memory.MemoryLimit;
import org.bnb4j.examples.memory.Processes;
import org.bnb4j.updaters.config.Adam8bit;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The scale demo: one wide MLP (default 2 x 10240-wide dense layers, 210M parameters) trained for a
 * few steps with DL4J's Adam, Adam8bit and paged Adam8bit, each in a JVM of its own under a hard
 * memory limit (a memory cgroup, swap off: a process that needs more is killed by the kernel), with
 * the resident memory each really used.
 *
 * <p>The limits come from a probe run with no optimizer state (parameters, gradients, activations
 * and the JVM): the first leaves room for the 8-bit state and a quarter more, where 32-bit Adam's
 * four times larger state cannot fit; the second leaves room for half the 8-bit state, where
 * Adam8bit cannot keep its state in memory and the paged one trains with most of its state out of
 * memory. Without a writable memory cgroup the runs are made without a limit and only measured.
 */
public final class ScaleDemo {
    private ScaleDemo() {}

    static final String CHILD = ScaleRun.class.getName();
    /** The child JVMs' settings: a small heap, and no javacpp limits (the cgroup is the only limit). */
    static final List<String> CHILD_JVM = List.of("-Xmx768m", "-Dorg.bytedeco.javacpp.maxbytes=0",
            "-Dorg.bytedeco.javacpp.maxphysicalbytes=0", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn");

    /** What one child reported (its RESULT line), or how far it got before it was killed. */
    static final class Outcome {
        final String updater;
        final long limit;
        final boolean trained, killed;
        final int steps;
        final Map<String, String> result;
        final long cgroupPeak;

        Outcome(String updater, long limit, boolean trained, boolean killed, int steps, Map<String, String> result, long cgroupPeak) {
            this.updater = updater;
            this.limit = limit;
            this.trained = trained;
            this.killed = killed;
            this.steps = steps;
            this.result = result;
            this.cgroupPeak = cgroupPeak;
        }

        long bytes(String key) {
            return Long.parseLong(result.getOrDefault(key, "-1"));
        }

        double number(String key) {
            return Double.parseDouble(result.getOrDefault(key, "NaN"));
        }
    }

    /**
     * Runs the demo; returns 0 when the outcomes are the expected ones (Adam killed and Adam8bit trained
     * under the first limit, Adam8bit killed and paged Adam8bit trained under the second), 1 otherwise.
     */
    public static int run(int width, int steps, String pagedDir) throws Exception {
        long params = ScaleRun.parameters(width);
        long state8 = 4L * new Adam8bit().stateSize(params);
        System.out.printf(Locale.ROOT, "scale demo: MLP %d-%d-%d-16, %,d parameters; Adam state %,d MB (32-bit), %,d MB (8-bit)%n",
                width, width, width, params, 8 * params >> 20, state8 >> 20);
        Optional<MemoryLimit> limit = MemoryLimit.find();
        Outcome probe = run(limit, "none", width, steps, pagedDir, 0);
        if (!probe.trained) {
            System.out.println("the probe run (no optimizer state) failed: see its output above");
            return 1;
        }
        long base = probe.bytes("vmhwm");
        System.out.printf(Locale.ROOT, "probe without optimizer state: peak resident %,d MB (parameters, gradients, activations, the JVM)%n", base >> 20);
        List<Outcome> all = new ArrayList<>();
        all.add(probe);
        if (limit.isEmpty()) {
            System.out.println("no writable memory cgroup here (needs root or cgroup delegation): the runs are measured, not limited");
            for (String u : List.of("adam", "adam8bit", "paged-adam8bit")) all.add(run(limit, u, width, steps, pagedDir, 0));
            table(all);
            return 0;
        }
        long roomy = base + state8 + state8 / 4 + (64L << 20), tight = base + state8 / 2;
        System.out.printf(Locale.ROOT, "limits (%s): %,d MB = probe + 1.25 x the 8-bit state + 64 MB; %,d MB = probe + half the 8-bit state%n",
                limit.get().describe(), roomy >> 20, tight >> 20);
        Outcome adam = run(limit, "adam", width, steps, pagedDir, roomy);
        Outcome a8 = run(limit, "adam8bit", width, steps, pagedDir, roomy);
        Outcome a8tight = run(limit, "adam8bit", width, steps, pagedDir, tight);
        Outcome paged = run(limit, "paged-adam8bit", width, steps, pagedDir, tight);
        all.addAll(List.of(adam, a8, a8tight, paged));
        table(all);
        boolean expected = !adam.trained && a8.trained && !a8tight.trained && paged.trained;
        if (paged.trained) {
            System.out.printf(Locale.ROOT, "paged Adam8bit: %.0f%% of its %,d MB state in memory after the last step, peak resident %,d MB under a %,d MB limit%n",
                    100.0 * paged.bytes("stateResident") / paged.bytes("stateBytes"), paged.bytes("stateBytes") >> 20,
                    paged.bytes("vmhwm") >> 20, tight >> 20);
        }
        System.out.println(expected ? "as expected: Adam does not fit; Adam8bit fits; paged Adam8bit trains where Adam8bit's state does not fit"
                : "UNEXPECTED outcome (see the table)");
        return expected ? 0 : 1;
    }

    static Outcome run(Optional<MemoryLimit> limit, String updater, int width, int steps, String pagedDir, long limitBytes) throws Exception {
        List<String> cmd = Processes.java(CHILD, CHILD_JVM, List.of(updater, Integer.toString(width), Integer.toString(steps), pagedDir));
        String label = updater + (limitBytes > 0 ? " @" + (limitBytes >> 20) + "MB" : "");
        System.out.println("-- " + label);
        List<String> out;
        int rc;
        long peak = -1;
        if (limitBytes > 0 && limit.isPresent()) {
            MemoryLimit.Run r = limit.get().run(cmd, limitBytes, "   | ");
            out = r.output;
            rc = r.exitCode;
            peak = r.peakBytes;
        } else {
            out = new ArrayList<>();
            rc = Processes.run(cmd, "   | ", out);
        }
        Map<String, String> result = new HashMap<>();
        int done = 0;
        for (String l : out) {
            if (l.startsWith("STEP ")) done++;
            if (l.startsWith("RESULT ")) {
                for (String kv : l.substring(7).trim().split(" ")) {
                    int eq = kv.indexOf('=');
                    if (eq > 0) result.put(kv.substring(0, eq), kv.substring(eq + 1));
                }
            }
        }
        boolean trained = rc == 0 && !result.isEmpty();
        return new Outcome(updater, limitBytes, trained, rc == 137 || rc == 9, done, result, peak);
    }

    static void table(List<Outcome> all) {
        System.out.println();
        System.out.println("| run | memory limit | outcome | peak resident (VmHWM) | anon / file resident at end | optimizer state | state in memory at end | step |");
        System.out.println("|---|---|---|---|---|---|---|---|");
        for (Outcome o : all) {
            String outcome = o.trained ? "trained " + o.steps + " steps"
                    : (o.killed ? "killed (out of memory) after " + o.steps + " steps" : "failed after " + o.steps + " steps");
            String lim = o.limit > 0 ? String.format(Locale.ROOT, "%,d MB", o.limit >> 20) : "none";
            if (!o.trained) {
                System.out.printf(Locale.ROOT, "| %s | %s | %s | - | - | - | - | - |%n", o.updater, lim, outcome);
                continue;
            }
            System.out.printf(Locale.ROOT, "| %s | %s | %s | %,d MB | %,d / %,d MB | %,d MB | %,d MB | %.0f ms |%n", o.updater, lim, outcome,
                    o.bytes("vmhwm") >> 20, o.bytes("rssAnon") >> 20, o.bytes("rssFile") >> 20, o.bytes("stateBytes") >> 20,
                    o.bytes("stateResident") >> 20, o.number("stepMs"));
        }
        System.out.println();
    }
}
