package org.bnb4j.kernels;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Chooses, once, which pure-Java kernels run where the native library does not (macOS, aarch64,
 * {@code -Dbnb4j.native=false}): the vectorised ones on the JDK's incubating Vector API when the
 * {@code jdk.incubator.vector} module is in the boot layer (the JVM was started with
 * {@code --add-modules jdk.incubator.vector}), the scalar ones otherwise.
 *
 * <p>The vectorised classes ({@code VectorQuantKernels}, {@code VectorCodes},
 * {@code org.bnb4j.optim.VectorOptimizerKernels}) refer to {@code jdk.incubator.vector} types, so
 * they are only ever loaded by name, through {@link #instantiate}, after the module was found:
 * without the flag no class that needs the module is loaded or linked, and everything runs on the
 * scalar kernels. Each vectorised implementation checks itself against the scalar reference when it
 * is created (a JDK whose incubator API changed, or a JIT bug, falls back to scalar with a WARN).
 *
 * <p>{@code -Dbnb4j.vector=false} forces the scalar kernels (for comparisons).
 */
public final class JavaKernelsProvider {
    private static final Logger log = LoggerFactory.getLogger(JavaKernelsProvider.class);

    /** The module the vectorised kernels need. */
    public static final String VECTOR_MODULE = "jdk.incubator.vector";
    /** The JVM option that enables them. */
    public static final String ENABLE_FLAG = "--add-modules " + VECTOR_MODULE;

    private static final class Holder {
        static final JavaKernelsProvider INSTANCE = new JavaKernelsProvider();
    }

    private final String unavailableReason;   // null: vectorised kernels enabled
    private final QuantKernels quant;

    private JavaKernelsProvider() {
        String reason = vectorUnavailableReason();
        QuantKernels q = null;
        if (reason == null) {
            try {
                q = instantiate("org.bnb4j.kernels.VectorQuantKernels", QuantKernels.class);
            } catch (Throwable e) {
                reason = "the vectorized Java kernels failed to start: " + e;
                log.warn("bnb4j: {}; using the scalar Java kernels", reason);
            }
        }
        this.unavailableReason = reason;
        this.quant = q != null ? q : new JavaQuantKernels();
    }

    /** Why the vectorised kernels are off (before trying them), or null when they can be used. */
    static String vectorUnavailableReason() {
        if ("false".equalsIgnoreCase(System.getProperty("bnb4j.vector", "true").trim())) {
            return "disabled by -Dbnb4j.vector=false";
        }
        if (!vectorModulePresent()) {
            return "the " + VECTOR_MODULE + " module is not loaded (add " + ENABLE_FLAG + " to the java command line to enable them)";
        }
        return null;
    }

    /** Whether the JVM was started with the Vector API module (without loading any of its classes). */
    public static boolean vectorModulePresent() {
        return ModuleLayer.boot().findModule(VECTOR_MODULE).isPresent();
    }

    /** The choice (made at the first call). */
    public static JavaKernelsProvider get() {
        return Holder.INSTANCE;
    }

    /** True when the pure-Java kernels are the vectorised ones. */
    public boolean vectorized() {
        return unavailableReason == null;
    }

    /** Why they are not (null when they are). */
    public String unavailableReason() {
        return unavailableReason;
    }

    /** The pure-Java quantization kernels: vectorised when {@link #vectorized()}, else {@link JavaQuantKernels}. */
    public QuantKernels quantKernels() {
        return quant;
    }

    /**
     * Creates a vectorised implementation by class name (its no-argument constructor, which may be
     * package-private: the class must be in the caller's package or this one). Only call when
     * {@link #vectorized()}. Errors (a missing module, an incompatible Vector API, a failed
     * self-check) propagate to the caller, who falls back to the scalar implementation.
     */
    public static <T> T instantiate(String className, Class<T> type) throws ReflectiveOperationException {
        java.lang.reflect.Constructor<? extends T> c = Class.forName(className).asSubclass(type).getDeclaredConstructor();
        c.setAccessible(true);
        return c.newInstance();
    }
}
