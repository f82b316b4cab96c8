package org.bnb4j;

import org.bnb4j.internal.kernels.KernelProvider;

/**
 * Which kernels this process runs, for logs and reports. They are chosen once, at first use, and
 * logged at INFO (WARN when a fallback was caused by an error): the native library when it loads
 * on this platform, else the pure-Java kernels (vectorized with {@code --add-modules
 * jdk.incubator.vector}). See docs/DESIGN.md.
 */
public final class Bnb4j {
    private Bnb4j() {}

    /** For example "native (avx512vbmi, 2 threads)", "pure-Java vectorized (256-bit)" or "pure-Java". */
    public static String kernels() {
        return KernelProvider.get().name();
    }

    /** True when the native library's kernels are in use. */
    public static boolean nativeKernels() {
        return KernelProvider.get().isNative();
    }
}
