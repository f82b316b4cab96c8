package org.bnb4j.internal.optim;

import org.bnb4j.optim.OptimHyper;
import org.bnb4j.optim.OptimKind;

import org.bnb4j.internal.kernels.KernelProvider;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Fused optimizer steps: the gradient (FLOAT, contiguous) is turned into the update in place, as
 * DL4J's {@code GradientUpdater.applyUpdater} does, and the state is advanced.
 */
public interface OptimizerKernels {

    /** 8-bit block-wise state. */
    void step8bit(OptimHyper h, INDArray gradient, OptimState8bit state);

    /**
     * {@link #step8bit} on blocks [blockBegin, blockEnd) only (gradient and state are the whole
     * parameter vector's): every block stepped once, in any order of ranges, gives the bits of the whole
     * step. Paged state is stepped a range at a time so that its pages can be written out behind it.
     */
    void step8bitBlocks(OptimHyper h, INDArray gradient, OptimState8bit state, long blockBegin, long blockEnd);

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


}
