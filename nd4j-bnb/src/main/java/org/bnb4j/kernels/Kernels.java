package org.bnb4j.kernels;

import org.bnb4j.nativeops.BnbNative;
import org.bnb4j.nativeops.IsaRequest;
import org.bnb4j.nativeops.NativeLibraryLoader;
import org.bnb4j.nativeops.OpenMpRuntimes;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Optional;

/**
 * Picks the kernel implementation once, at first use, and logs which one is active: the native
 * library when it loads on this platform, the pure-Java kernels otherwise (or with
 * {@code -Dbnb4j.native=false}): vectorised on the JDK Vector API when the JVM runs with
 * {@code --add-modules jdk.incubator.vector}, scalar without it (see {@link JavaKernelsProvider}).
 * A fallback caused by an error, and a BNB4J_ISA value the native dispatcher ignored, are logged
 * at WARN: both cost speed without any other sign.
 */
public final class Kernels {
    private static final Logger log = LoggerFactory.getLogger(Kernels.class);

    private Kernels() {}

    private static final class Holder {
        static final JavaQuantKernels JAVA = new JavaQuantKernels();
        static final NativeQuantKernels NATIVE;
        static final QuantKernels ACTIVE;

        static {
            NativeLibraryLoader.Result r = NativeLibraryLoader.load();
            NATIVE = r.loaded ? new NativeQuantKernels() : null;
            ACTIVE = NATIVE != null ? NATIVE : JavaKernelsProvider.get().quantKernels();
            if (NATIVE != null) logNative(r);
            else if (r.warn()) log.warn("bnb4j: using the much slower {} kernels: the native library failed to load: {}{}", ACTIVE.name(), r.detail, javaNote());
            else log.info("bnb4j: using {} kernels; native library not loaded: {}{}", ACTIVE.name(), r.detail, javaNote());
        }

        private static String javaNote() {
            JavaKernelsProvider p = JavaKernelsProvider.get();
            return p.vectorized() ? "" : "; vectorized Java kernels off: " + p.unavailableReason();
        }

        private static void logNative(NativeLibraryLoader.Result r) {
            IsaRequest isa = IsaRequest.check(System.getenv("BNB4J_ISA"), BnbNative.supportedIsas(), BnbNative.activeIsa());
            if (isa.warn) log.warn("bnb4j: {}", isa.message);
            String extra = (isa.message != null && !isa.warn ? "; " + isa.message : "")
                    + (r.skippedCaches.isEmpty() ? "" : "; skipped cache directories: " + String.join("; ", r.skippedCaches));
            log.info("bnb4j: using {} kernels from {}{}", NATIVE.name(), r.detail, extra);
            // Two OpenMP runtimes mean two pools of threads spinning on the same cores (see OpenMpRuntimes).
            List<String> omp = OpenMpRuntimes.mapped();
            if (omp.size() > 1) {
                log.warn("bnb4j: {} OpenMP runtimes in this process, each with its own threads: {}{}", omp.size(), omp,
                        NativeLibraryLoader.hostBackendProblem() != null ? " (" + NativeLibraryLoader.hostBackendProblem() + ")" : "");
            } else if (omp.size() == 1) {
                log.debug("bnb4j: OpenMP runtime {}", omp.get(0));
            }
        }
    }

    /** The active implementation. */
    public static QuantKernels get() {
        return Holder.ACTIVE;
    }

    /** The pure-Java implementation (always available; the reference for tests). */
    public static JavaQuantKernels java() {
        return Holder.JAVA;
    }

    /**
     * The vectorised pure-Java implementation (JDK Vector API), if the JVM has the
     * jdk.incubator.vector module; it is the active one when the native library is not loaded.
     */
    public static Optional<QuantKernels> vector() {
        JavaKernelsProvider p = JavaKernelsProvider.get();
        return p.vectorized() ? Optional.of(p.quantKernels()) : Optional.empty();
    }

    /** The native implementation, if it loaded. */
    public static Optional<NativeQuantKernels> nativeKernels() {
        return Optional.ofNullable(Holder.NATIVE);
    }
}
