package org.bnb4j.internal.kernels;

import org.bnb4j.internal.cuda.CudaBackend;
import org.bnb4j.internal.nativeops.BnbNative;
import org.bnb4j.internal.nativeops.IsaRequest;
import org.bnb4j.internal.nativeops.NativeLibraryLoader;
import org.bnb4j.internal.nativeops.OpenMpRuntimes;
import org.bnb4j.internal.optim.JavaOptimizerKernels;
import org.bnb4j.internal.optim.NativeOptimizerKernels;
import org.bnb4j.internal.optim.OptimizerKernels;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Optional;

/**
 * The kernels this process runs: one object, chosen once at first use and logged once, that gives
 * both the quantization and the optimizer kernels (in the style of Lucene's vectorization
 * providers). In order of preference:
 * <ol>
 * <li>native: libbnb4j from the libnd4j-ops jar, when it loads on this platform (not with
 *   {@code -Dbnb4j.native=false}); it picks its instruction set once itself ({@code BNB4J_ISA});</li>
 * <li>pure-Java vectorized: the JDK Vector API, when the JVM runs with
 *   {@code --add-modules jdk.incubator.vector} (not with {@code -Dbnb4j.vector=false}); its classes are
 *   loaded by name only then, and check themselves against the scalar kernels when created;</li>
 * <li>pure-Java scalar: always available, and the reference ({@link #reference()}) every other
 *   implementation is tested against bit for bit.</li>
 * </ol>
 * One exception to that order: on an x86-64 CPU without AVX2 the native library has only its scalar
 * kernels, ~20x slower than the vectorized Java kernels at 4 lanes, and the Java kernels are used when
 * they are available (unless BNB4J_ISA asks for the native scalar ones).
 * A fallback caused by an error, and a BNB4J_ISA value the native dispatcher ignored, are logged at
 * WARN: both cost speed without any other sign.
 */
public abstract class KernelProvider {
    private static final Logger log = LoggerFactory.getLogger(KernelProvider.class);

    /** The module the vectorized Java kernels need. */
    public static final String VECTOR_MODULE = "jdk.incubator.vector";
    /** The JVM option that enables them. */
    public static final String ENABLE_FLAG = "--add-modules " + VECTOR_MODULE;

    private final String name;

    KernelProvider(String name) {
        this.name = name;
    }

    /** For logs and reports, e.g. "native (avx512vbmi, 2 threads)" or "pure-Java vectorized (256-bit)". */
    public final String name() {
        return name;
    }

    public abstract QuantKernels quantKernels();

    public abstract OptimizerKernels optimizerKernels();

    /** True for the native library's kernels. */
    public boolean isNative() {
        return false;
    }

    @Override
    public String toString() {
        return name;
    }

    /** The kernels in use. */
    public static KernelProvider get() {
        return Active.PROVIDER;
    }

    /** The scalar pure-Java kernels: always available; the oracle of every other implementation. */
    public static KernelProvider reference() {
        return Reference.PROVIDER;
    }

    /** The vectorized pure-Java kernels, when this JVM can run them. */
    public static Optional<KernelProvider> vectorized() {
        return Optional.ofNullable(Vector.PROVIDER);
    }

    /** The native kernels, when the library loaded. */
    public static Optional<KernelProvider> nativeKernels() {
        return Optional.ofNullable(Native.PROVIDER);
    }

    /** Why the vectorized Java kernels are off, or null when they are available. */
    public static String vectorUnavailableReason() {
        return Vector.REASON;
    }

    /** Whether the JVM was started with the Vector API module (without loading any of its classes). */
    public static boolean vectorModulePresent() {
        return ModuleLayer.boot().findModule(VECTOR_MODULE).isPresent();
    }

    // ---- the choices, each made once (holder classes: nothing is loaded before it is needed)

    private static final class Reference {
        static final KernelProvider PROVIDER = new Fixed("pure-Java", new JavaQuantKernels(), JavaOptimizerKernels.INSTANCE, false);
    }

    private static final class Native {
        static final NativeLibraryLoader.Result LOAD = NativeLibraryLoader.load();
        /** Null unless the library loaded: then the first optimizer it declares differently from Java, if any. */
        static final String MISMATCH;
        static final KernelProvider PROVIDER;

        static {
            KernelProvider p = null;
            String m = null;
            if (LOAD.loaded) {
                m = NativeOptimizerKernels.declarationMismatch();
                if (m == null) {
                    NativeQuantKernels q = new NativeQuantKernels();
                    p = new Fixed(q.name(), q, NativeOptimizerKernels.INSTANCE, true);
                }
            }
            MISMATCH = m;
            PROVIDER = p;
        }
    }

    private static final class Vector {
        static final String REASON;
        static final KernelProvider PROVIDER;

        static {
            String reason = vectorOffReason();
            KernelProvider p = null;
            if (reason == null) {
                try {
                    // by name: these classes link against jdk.incubator.vector
                    QuantKernels q = instantiate("org.bnb4j.internal.kernels.VectorQuantKernels", QuantKernels.class);
                    OptimizerKernels o = instantiate("org.bnb4j.internal.optim.VectorOptimizerKernels", OptimizerKernels.class);
                    p = new Fixed(q.name(), q, o, false);
                } catch (Throwable e) {
                    reason = "the vectorized Java kernels failed to start: " + e;
                    log.warn("bnb4j: {}; the scalar Java kernels are used instead", reason);
                }
            }
            REASON = reason;
            PROVIDER = p;
        }

        private static String vectorOffReason() {
            if ("false".equalsIgnoreCase(System.getProperty("bnb4j.vector", "true").trim())) return "disabled by -Dbnb4j.vector=false";
            if (!vectorModulePresent()) {
                return "the " + VECTOR_MODULE + " module is not loaded (add " + ENABLE_FLAG + " to the java command line to enable them)";
            }
            return null;
        }
    }

    private static final class Active {
        static final KernelProvider PROVIDER;

        static {
            // ND4J's CUDA backend keeps arrays in GPU memory: the host kernels must not run on them.
            KernelProvider device = CudaBackend.providerForActiveBackend();
            NativeLibraryLoader.Result r = device != null ? null : Native.LOAD;
            if (device != null) {
                PROVIDER = device;
                log.info("bnb4j: ND4J's CUDA backend is active: using {} kernels", device.name());
            } else if (Native.PROVIDER != null && nativeScalarOnly() && Vector.PROVIDER != null) {
                PROVIDER = Vector.PROVIDER;
                log.info("bnb4j: using {} kernels: this CPU has no AVX2, and the native library's scalar kernels are ~20x "
                        + "slower than these (BNB4J_ISA=scalar selects them)", PROVIDER.name());
            } else if (Native.PROVIDER != null) {
                PROVIDER = Native.PROVIDER;
                logNative(r);
                if (nativeScalarOnly()) {
                    // the vectorized Java kernels are off: not enabled, or failed to start (already logged)
                    String fix = vectorModulePresent() ? "the vectorized Java kernels, which would run instead, are off: " + Vector.REASON
                            : "with " + ENABLE_FLAG + " on the java command line the vectorized Java kernels run instead (~20x faster)";
                    log.warn("bnb4j: this CPU has no AVX2: the native library runs its scalar kernels, ~15x slower than DL4J's Adam; {}", fix);
                }
            } else {
                PROVIDER = Vector.PROVIDER != null ? Vector.PROVIDER : Reference.PROVIDER;
                String note = Vector.PROVIDER != null ? "" : "; vectorized Java kernels off: " + Vector.REASON;
                if (Native.MISMATCH != null) {
                    log.warn("bnb4j: using the much slower {} kernels: the native library declares its optimizers differently from "
                            + "this jar ({}); the two come from different builds{}", PROVIDER.name(), Native.MISMATCH, note);
                } else if (r.warn()) log.warn("bnb4j: using the much slower {} kernels: the native library failed to load: {}{}", PROVIDER.name(), r.detail, note);
                else log.info("bnb4j: using {} kernels; native library not loaded: {}{}", PROVIDER.name(), r.detail, note);
            }
        }

        private static void logNative(NativeLibraryLoader.Result r) {
            IsaRequest isa = IsaRequest.check(System.getenv("BNB4J_ISA"), BnbNative.supportedIsas(), BnbNative.activeIsa());
            if (isa.warn) log.warn("bnb4j: {}", isa.message);
            String threadsProblem = threadsRequestProblem(System.getenv("BNB4J_THREADS"));
            if (threadsProblem != null) log.warn("bnb4j: {}", threadsProblem);
            String extra = (isa.message != null && !isa.warn ? "; " + isa.message : "")
                    + (r.skippedCaches.isEmpty() ? "" : "; skipped cache directories: " + String.join("; ", r.skippedCaches));
            log.info("bnb4j: using {} kernels from {}{}", PROVIDER.name(), r.detail, extra);
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

    /** Whether the loaded native library found no SIMD path on this CPU, and BNB4J_ISA does not ask for its scalar one. */
    private static boolean nativeScalarOnly() {
        return prefersJavaVectors(BnbNative.supportedIsas(), System.getenv("BNB4J_ISA"));
    }

    /**
     * Whether the vectorized Java kernels should replace native ones that support only the ISAs
     * {@code supported} (comma-separated, as BnbNative.supportedIsas()): when those are the scalar
     * kernels alone (an x86-64 CPU without AVX2), unless BNB4J_ISA ({@code isaRequest}) names one.
     * Measured with BNB4J_ISA=scalar against the Java kernels at 4 lanes: Adam8bit 492 against 23.9 ms
     * at 10M, quantize 0.05 against 0.7-0.8 G elements/s (docs/PORTABLE.md).
     */
    static boolean prefersJavaVectors(String supported, String isaRequest) {
        return "scalar".equals(supported) && (isaRequest == null || isaRequest.isEmpty());
    }

    /**
     * Null when BNB4J_THREADS is unset or names one of the native library's thread choices (exact,
     * as parallel.cpp compares them), else the warning: any other value silently means auto there.
     */
    static String threadsRequestProblem(String value) {
        if (value == null || List.of("auto", "openmp", "openmp-spin", "pool").contains(value)) return null;
        return "BNB4J_THREADS=\"" + value + "\" is not one of auto, openmp, openmp-spin, pool: the default (auto) is used";
    }

    /** Two fixed kernel objects under one name (the CUDA backend's choice, {@link CudaBackend}). */
    public static KernelProvider of(String name, QuantKernels quant, OptimizerKernels optim) {
        return new Fixed(name, quant, optim, false);
    }

    /** A provider of two fixed kernel objects. */
    private static final class Fixed extends KernelProvider {
        private final QuantKernels quant;
        private final OptimizerKernels optim;
        private final boolean isNative;

        Fixed(String name, QuantKernels quant, OptimizerKernels optim, boolean isNative) {
            super(name);
            this.quant = quant;
            this.optim = optim;
            this.isNative = isNative;
        }

        @Override
        public QuantKernels quantKernels() {
            return quant;
        }

        @Override
        public OptimizerKernels optimizerKernels() {
            return optim;
        }

        @Override
        public boolean isNative() {
            return isNative;
        }
    }

    /**
     * Creates a vectorized implementation by class name (its no-argument constructor, which may be
     * package-private). Errors (a missing module, an incompatible Vector API, a failed self-check)
     * propagate; the caller falls back to the scalar kernels.
     */
    static <T> T instantiate(String className, Class<T> type) throws ReflectiveOperationException {
        java.lang.reflect.Constructor<? extends T> c = Class.forName(className).asSubclass(type).getDeclaredConstructor();
        c.setAccessible(true);
        return c.newInstance();
    }
}
