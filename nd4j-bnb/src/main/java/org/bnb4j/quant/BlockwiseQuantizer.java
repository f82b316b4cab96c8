package org.bnb4j.quant;

import org.bnb4j.internal.kernels.ArrayMemory;
import org.bnb4j.internal.kernels.QuantKernels;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;


/**
 * Block-wise quantization bound to one kernel implementation: validates every argument, allocates
 * outputs where the caller gave none, and runs the kernels in place on the arrays' memory.
 * {@link Blockwise} is the static facade over the active implementation.
 */
public final class BlockwiseQuantizer {
    private final QuantKernels kernels;

    public BlockwiseQuantizer(QuantKernels kernels) {
        if (kernels == null) throw new IllegalArgumentException("kernels is null");
        this.kernels = kernels;
    }

    public QuantKernels kernels() {
        return kernels;
    }

    /** Nearest-code quantization into new arrays. */
    public QuantState quantize(INDArray x, QuantMap map, int blocksize) {
        return run(x, map, blocksize, null, null, false, 0L);
    }

    /** Stochastic rounding, reproducible for a given seed (independent of thread count). */
    public QuantState quantizeStochastic(INDArray x, QuantMap map, int blocksize, long seed) {
        return run(x, map, blocksize, null, null, true, seed);
    }

    /**
     * Quantization into caller-owned arrays (no allocation: the hot path): {@code codes} UINT8 with
     * x.length() elements, {@code absmax} FLOAT with ceil(length / blocksize); both C-contiguous.
     */
    public QuantState quantize(INDArray x, QuantMap map, int blocksize, INDArray codes, INDArray absmax) {
        if (codes == null || absmax == null) throw new IllegalArgumentException("codes and absmax outputs must not be null");
        return run(x, map, blocksize, codes, absmax, false, 0L);
    }

    private QuantState run(INDArray x, QuantMap map, int blocksize, INDArray codes, INDArray absmax,
                           boolean stochastic, long seed) {
        if (x == null) throw new IllegalArgumentException("input array is null");
        Blockwise.checkFloatType(x.dataType(), "input");
        if (map == null) throw new IllegalArgumentException("quantization map is null");
        Blockwise.checkBlocksize(blocksize);
        Blockwise.checkHostBackend();
        long n = x.length();
        long nb = Blockwise.numBlocks(n, blocksize);
        if (codes == null) codes = Nd4j.create(DataType.UBYTE, n);
        else Blockwise.checkCodes(codes, n);
        if (absmax == null) absmax = Nd4j.create(DataType.FLOAT, nb);
        else Blockwise.checkAbsmax(absmax, nb);
        if (n > 0) {
            kernels.quantize(ArrayMemory.of(x), map, blocksize, ArrayMemory.of(codes), ArrayMemory.of(absmax), stochastic, seed);
        }
        return new QuantState(codes, absmax, map, blocksize, x.shape(), x.dataType());
    }

    /** A new array of the original shape and data type. */
    public INDArray dequantize(QuantState state) {
        if (state == null) throw new IllegalArgumentException("quant state is null");
        // A rank-0 state without codes came from ND4J's empty scalar; Nd4j.create would make a 1-element one.
        INDArray out = state.shape().length == 0 && state.length() == 0 ? Nd4j.empty(state.dataType())
                : Nd4j.create(state.dataType(), state.shape(), 'c');
        return dequantize(state, out);
    }

    /**
     * Writes into {@code out}: any floating type, any layout (views included), with the state's
     * element count; elements are filled in out's C order. Returns {@code out}.
     */
    public INDArray dequantize(QuantState state, INDArray out) {
        if (state == null) throw new IllegalArgumentException("quant state is null");
        return dequantize(state.codes(), state.absmax(), state.map(), state.blocksize(), out);
    }

    /** Dequantization from loose parts (as the optimizers keep them). */
    public INDArray dequantize(INDArray codes, INDArray absmax, QuantMap map, int blocksize, INDArray out) {
        if (out == null) throw new IllegalArgumentException("output array is null");
        if (map == null) throw new IllegalArgumentException("quantization map is null");
        Blockwise.checkBlocksize(blocksize);
        Blockwise.checkFloatType(out.dataType(), "output");
        Blockwise.checkHostBackend();
        long n = out.length();
        Blockwise.checkCodes(codes, n);
        Blockwise.checkAbsmax(absmax, Blockwise.numBlocks(n, blocksize));
        if (n > 0) {
            kernels.dequantize(ArrayMemory.of(codes), ArrayMemory.of(absmax), map, blocksize, ArrayMemory.of(out));
        }
        return out;
    }

    @Override
    public String toString() {
        return "BlockwiseQuantizer[" + kernels.name() + "]";
    }
}
