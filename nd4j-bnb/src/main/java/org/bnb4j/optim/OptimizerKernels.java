package org.bnb4j.optim;

import org.bnb4j.kernels.Kernels;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Fused optimizer steps: the gradient (FLOAT, contiguous) is turned into the update in place, as
 * DL4J's {@code GradientUpdater.applyUpdater} does, and the state is advanced.
 */
public interface OptimizerKernels {

    /** 8-bit block-wise state. */
    void step8bit(OptimHyper h, INDArray gradient, OptimState8bit state);

    /**
     * 32-bit state: one FLOAT array of the gradient's length per state, in the order of
     * {@link OptimKind} (Adam: m, v; AdEMAMix: m1, v, m2).
     */
    void step32(OptimHyper h, INDArray gradient, INDArray... states);

    /**
     * Checksum of the state's block scales (all absmax values), the same in every implementation
     * (bnb4j.h bnb_absmax_checksum). Updaters keep it beside the state to detect a state changed
     * outside the step: averaged by ParallelWrapper, edited or cast, which always alters the scales.
     */
    int absmaxChecksum(OptimState8bit state);

    /**
     * Native when the library loaded (see {@link Kernels}) and declares every {@link OptimKind} as Java does
     * (else a WARN names the first optimizer that differs), else the vectorised Java implementation
     * when the JVM has the jdk.incubator.vector module, else the scalar Java implementation.
     */
    static OptimizerKernels get() {
        return NativeOptimizerKernels.usable() ? NativeOptimizerKernels.INSTANCE : JavaOptimizers.active();
    }

    /** The vectorised Java implementation (JDK Vector API), if the JVM has the jdk.incubator.vector module. */
    static java.util.Optional<OptimizerKernels> vector() {
        return JavaOptimizers.vector();
    }
}
