package org.bnb4j.internal.nativeops;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Keeps the process at one OpenMP runtime. libbnb4j needs {@code libgomp.so.1} (DT_NEEDED); ND4J's CPU
 * backend ships its own copy, which JavaCPP loads by full path from its cache. Loaded in that order,
 * the dynamic linker satisfies libbnb4j's dependency with the copy already in memory (it matches the
 * SONAME); loaded the other way round, libbnb4j would pull the system's libgomp first and ND4J would
 * then add its own: two runtimes, each with a pool of threads that spin after every parallel region,
 * on the same cores (measured: docs/PERFORMANCE.md). So the loader initialises ND4J's backend before
 * it loads libbnb4j; {@link #mapped()} reports what the process has.
 */
public final class OpenMpRuntimes {
    private OpenMpRuntimes() {}

    /** File names of OpenMP runtimes: GNU (libgomp), LLVM (libomp, libomp5) and Intel (libiomp5). */
    private static final Pattern RUNTIME = Pattern.compile("lib(g|i)?omp[0-9]*\\.so(\\.[0-9.]+)?");

    /**
     * Initialises ND4J's backend, which loads its native libraries and its bundled OpenMP runtime, so
     * that libbnb4j loaded afterwards shares it. Returns null when that worked, else why not (no
     * backend on the classpath, a failing backend): libbnb4j then brings the system's runtime, and
     * ND4J is not usable in this process anyway.
     */
    public static String initHostBackend() {
        try {
            Class<?> nd4j = Class.forName("org.nd4j.linalg.factory.Nd4j");
            // Nd4j's static initialiser loads the backend and its native libraries.
            nd4j.getMethod("getBackend").invoke(null);
            return null;
        } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            return "ND4J backend not initialised before libbnb4j: " + cause;
        }
    }

    /** Distinct paths of the OpenMP runtimes mapped into this process; empty where /proc is not available. */
    public static List<String> mapped() {
        Path maps = Paths.get("/proc/self/maps");
        if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("linux") || !Files.isReadable(maps)) {
            return List.of();
        }
        try {
            return runtimesIn(Files.readAllLines(maps));
        } catch (IOException e) {
            return List.of();
        }
    }

    /** The OpenMP runtime paths among the lines of a /proc/PID/maps file. */
    static List<String> runtimesIn(List<String> mapsLines) {
        Set<String> found = new LinkedHashSet<>();
        for (String line : mapsLines) {
            int slash = line.indexOf('/');
            if (slash < 0) continue;
            String path = line.substring(slash).trim();
            if (path.endsWith(" (deleted)")) path = path.substring(0, path.length() - " (deleted)".length());
            String name = path.substring(path.lastIndexOf('/') + 1);
            if (RUNTIME.matcher(name).matches()) found.add(path);
        }
        return new ArrayList<>(found);
    }
}
