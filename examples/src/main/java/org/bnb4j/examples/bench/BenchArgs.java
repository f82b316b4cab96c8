package org.bnb4j.examples.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The benchmark mains' command lines: positional arguments (sizes, runs, ...) and {@code --name[=value]}
 * options. {@code --help} prints the usage and exits 0; an unknown option, a surplus or malformed
 * argument prints one line naming it (and the usage) and exits 2, before anything is measured.
 */
final class BenchArgs {
    private final String usage;
    private final List<String> positional = new ArrayList<>();
    private final Map<String, String> options = new LinkedHashMap<>();

    private BenchArgs(String usage) {
        this.usage = usage;
    }

    /** Parses args; {@code optionNames} are the accepted {@code --name} options, at most {@code maxPositional} positionals. */
    static BenchArgs parse(String usage, String[] args, Set<String> optionNames, int maxPositional) {
        BenchArgs b = new BenchArgs(usage);
        for (String a : args) {
            if (a.equals("--help") || a.equals("-h")) {
                System.out.println("usage: " + usage);
                System.exit(0);
            }
            if (a.startsWith("--")) {
                int eq = a.indexOf('=');
                String name = eq < 0 ? a : a.substring(0, eq);
                if (!optionNames.contains(name)) b.fail("unknown option " + name);
                b.options.put(name, eq < 0 ? null : a.substring(eq + 1));
            } else {
                b.positional.add(a);
            }
        }
        if (b.positional.size() > maxPositional) b.fail("unexpected argument '" + b.positional.get(maxPositional) + "'");
        return b;
    }

    void fail(String message) {
        System.err.println(message);
        System.err.println("usage: " + usage);
        System.exit(2);
    }

    /** The comma-separated element counts at position i (each >= 1), or the default. */
    long[] sizes(int i, String defaults) {
        String s = i < positional.size() ? positional.get(i) : defaults;
        String[] parts = s.split(",");
        long[] out = new long[parts.length];
        // every benchmark holds at least one float array of the size: past the machine's memory it can only
        // fail, after minutes of warm-up at the smaller sizes, in an allocation deep in ND4J
        long memory = physicalMemoryBytes();
        for (int k = 0; k < parts.length; k++) {
            out[k] = positiveLong(parts[k].trim(), "size");
            if (memory > 0 && out[k] > memory / 4) {
                fail("size " + out[k] + " needs more than " + out[k] * 4 / (1L << 30) + " GiB for one float array; this machine has "
                        + memory / (1L << 30) + " GiB");
            }
        }
        return out;
    }

    /** A count >= 1 at position i (runs), or the default. */
    int count(int i, int dflt, String what) {
        if (i >= positional.size()) return dflt;
        long v = positiveLong(positional.get(i).trim(), what);
        if (v > Integer.MAX_VALUE) fail(what + " must be at most " + Integer.MAX_VALUE + ", got " + v);
        return (int) v;
    }

    /** The positional argument at i, or the default. */
    String positional(int i, String dflt) {
        return i < positional.size() ? positional.get(i) : dflt;
    }

    /** The option as a count in [0, max]: {@code whenBare} when given without a value, 0 when absent. */
    int optionCount(String option, int whenBare, int max) {
        if (!options.containsKey(option)) return 0;
        String v = options.get(option);
        if (v == null) return whenBare;
        try {
            int k = Integer.parseInt(v.trim());
            if (k < 0 || k > max) fail(option + " must be 0.." + max + ", got " + k);
            return k;
        } catch (NumberFormatException e) {
            fail(option + " needs a whole number, got '" + v + "'");
            return 0;
        }
    }

    /**
     * The ISA paths {@code --isa} asks for ("all": every one this CPU has), or null when it is not
     * given; refused unless the native library is loaded and has each of them.
     */
    List<String> isas() {
        if (!options.containsKey("--isa")) return null;
        String v = options.get("--isa");
        if (v == null || v.isBlank()) fail("--isa needs a value: all, or ISA names");
        if (org.bnb4j.internal.kernels.KernelProvider.nativeKernels().isEmpty()) fail("--isa needs the native library, which is not loaded");
        List<String> supported = List.of(org.bnb4j.internal.nativeops.BnbNative.supportedIsas().split(","));
        if (v.equals("all")) return supported;
        List<String> asked = List.of(v.split(","));
        for (String isa : asked) if (!supported.contains(isa)) fail("--isa: " + isa + " is not supported here (supported: " + String.join(",", supported) + ")");
        return asked;
    }

    private long positiveLong(String s, String what) {
        try {
            long v = Long.parseLong(s);
            if (v < 1) fail(what + " must be >= 1, got " + v);
            return v;
        } catch (NumberFormatException e) {
            fail(what + " must be a whole number, got '" + s + "'");
            return 0;
        }
    }

    /** Physical memory of this machine, or 0 when the JVM does not say. */
    private static long physicalMemoryBytes() {
        java.lang.management.OperatingSystemMXBean os = java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        return os instanceof com.sun.management.OperatingSystemMXBean ? ((com.sun.management.OperatingSystemMXBean) os).getTotalMemorySize() : 0;
    }
}
