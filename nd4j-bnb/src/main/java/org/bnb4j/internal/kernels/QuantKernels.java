package org.bnb4j.internal.kernels;

import org.bnb4j.quant.NonFiniteInputException;

import org.bnb4j.quant.QuantMap;

/**
 * One implementation of the block-wise quantization contract. {@link KernelProvider#get()} picks one at
 * start-up: the native library when it loads, otherwise the vectorized Java kernels when the JVM
 * has the jdk.incubator.vector module, else {@link JavaQuantKernels}. Arguments are
 * validated by the caller ({@link BlockwiseQuantizer}); codes and absmax are dense.
 */
public interface QuantKernels {

    /** Short description for logs, e.g. "native (avx512, 2 threads)". */
    String name();

    /**
     * Quantizes {@code x} (any supported type and layout) block by block into {@code codes}
     * (UINT8, x.length) and {@code absmax} (FLOAT, ceil(length / blocksize)).
     *
     * @param seed used only when {@code stochastic}
     * @throws NonFiniteInputException if a block holds +-Inf (the outputs are then unspecified)
     */
    void quantize(ArrayMemory x, QuantMap map, int blocksize, ArrayMemory codes, ArrayMemory absmax,
                  boolean stochastic, long seed);

    /** Writes {@code map[codes[i]] * absmax[i / blocksize]} into {@code out} (any supported type and layout). */
    void dequantize(ArrayMemory codes, ArrayMemory absmax, QuantMap map, int blocksize, ArrayMemory out);
}
