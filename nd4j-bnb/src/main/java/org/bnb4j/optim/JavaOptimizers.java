package org.bnb4j.optim;

import org.bnb4j.kernels.JavaKernelsProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Optional;

/**
 * Which pure-Java optimizer steps run without the native library: {@link VectorOptimizerKernels}
 * when {@link JavaKernelsProvider} enabled the vectorised kernels (loaded by name only then), else
 * {@link JavaOptimizerKernels}.
 */
final class JavaOptimizers {
    private static final Logger log = LoggerFactory.getLogger(JavaOptimizers.class);

    private JavaOptimizers() {}

    private static final class Holder {
        static final OptimizerKernels VECTOR = create();
    }

    private static OptimizerKernels create() {
        if (!JavaKernelsProvider.get().vectorized()) return null;
        try {
            return JavaKernelsProvider.instantiate("org.bnb4j.optim.VectorOptimizerKernels", OptimizerKernels.class);
        } catch (Throwable e) {
            log.warn("bnb4j: the vectorized Java optimizer steps failed to start ({}); using the scalar Java ones", e.toString());
            return null;
        }
    }

    static Optional<OptimizerKernels> vector() {
        return Optional.ofNullable(Holder.VECTOR);
    }

    static OptimizerKernels active() {
        OptimizerKernels v = Holder.VECTOR;
        return v != null ? v : JavaOptimizerKernels.INSTANCE;
    }
}
