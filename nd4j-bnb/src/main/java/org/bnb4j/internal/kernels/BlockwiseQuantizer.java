package org.bnb4j.internal.kernels;

import org.bnb4j.quant.Blockwise;
import org.bnb4j.quant.NonFiniteInputException;
import org.bnb4j.quant.QuantMap;
import org.bnb4j.quant.QuantState;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.bnb4j.internal.cuda.CudaBackend;
import org.nd4j.linalg.factory.Nd4j;


/**
 * Internal: block-wise quantization bound to one kernel implementation: validates every argument,
 * allocates outputs where the caller gave none, and runs the kernels in place on the arrays' memory.
 * {@link Blockwise}, the public API, runs one on {@link KernelProvider#get()}'s kernels; tests and
 * benchmarks build one on the kernels they compare (which is why this is not API: choosing kernels
 * is not something users do).
 */
public final class BlockwiseQuantizer {
    private final QuantKernels kernels;

    public BlockwiseQuantizer(QuantKernels kernels) {
        if (kernels == null) throw new IllegalArgumentException("kernels is null");
        this.kernels = kernels;
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
     * x.length() elements, {@code absmax} FLOAT with ceil(length / blocksize); both C-contiguous and
     * apart from x and each other. When x holds +-Inf the NonFiniteInputException says that codes
     * and absmax are partly overwritten (x never is): keep a copy if they hold a state still needed.
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
        checkHostBackend();
        long n = x.length();
        long nb = Blockwise.numBlocks(n, blocksize);
        boolean callerOutputs = codes != null;
        if (codes == null) codes = Nd4j.create(DataType.UBYTE, n);
        else checkCodes(codes, n);
        if (absmax == null) absmax = Nd4j.create(DataType.FLOAT, nb);
        else checkAbsmax(absmax, nb);
        if (n > 0) {
            ArrayMemory in = ArrayMemory.of(x), c = ArrayMemory.of(codes), a = ArrayMemory.of(absmax);
            requireApart(c, in, "codes", "the input");
            requireApart(a, in, "absmax", "the input");
            requireApart(c, a, "codes", "absmax");
            try {
                kernels.quantize(in, map, blocksize, c, a, stochastic, seed);
            } catch (NonFiniteInputException e) {
                NonFiniteInputException cause = FloatOverflow.describe(in, blocksize, e);   // e itself unless DOUBLE input
                // One pass finds the bad block: the other blocks are written by then. Checking first
                // would read the input twice on the allocation-free path; so say what happened instead.
                if (!callerOutputs) throw cause;
                throw new NonFiniteInputException(cause, "the codes and absmax arrays passed in are partly overwritten "
                        + "and no longer hold a valid state (the input is untouched)");
            }
        }
        // QuantState.of checks the parts again: a few comparisons next to the kernels' pass over x, and
        // being the one way to make a state it lets no unchecked one exist.
        return QuantState.of(codes, absmax, map, blocksize, x.shape(), x.dataType());
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
        // The state is consistent by construction: a length mismatch is the output's.
        if (out != null && out.length() != state.length()) {
            throw new IllegalArgumentException("output has " + out.length() + " elements, the state holds "
                    + state.length() + " (shape " + java.util.Arrays.toString(state.shape()) + ")");
        }
        return dequantize(state.codes(), state.absmax(), state.map(), state.blocksize(), out);
    }

    /** Dequantization from loose parts (as the optimizers keep them). */
    public INDArray dequantize(INDArray codes, INDArray absmax, QuantMap map, int blocksize, INDArray out) {
        if (out == null) throw new IllegalArgumentException("output array is null");
        if (map == null) throw new IllegalArgumentException("quantization map is null");
        Blockwise.checkBlocksize(blocksize);
        Blockwise.checkFloatType(out.dataType(), "output");
        checkHostBackend();
        long n = out.length();
        if (codes != null && codes.length() != n) {
            throw new IllegalArgumentException("the output has " + n + " elements and codes has " + codes.length()
                    + ": one code per output element");
        }
        checkCodes(codes, n);
        checkAbsmax(absmax, Blockwise.numBlocks(n, blocksize));
        if (n > 0) {
            ArrayMemory c = ArrayMemory.of(codes), a = ArrayMemory.of(absmax), o = ArrayMemory.of(out);
            if (o.hasRepeatedElements()) throw new IllegalArgumentException("output has a stride of 0: its elements share memory");
            requireApart(o, c, "output", "codes");
            requireApart(o, a, "output", "absmax");
            kernels.dequantize(c, a, map, blocksize, o);
        }
        return out;
    }

    @Override
    public String toString() {
        return "BlockwiseQuantizer[" + kernels.name() + "]";
    }

    /** An array the kernel writes must not share memory with one it reads (or another it writes). */
    private static void requireApart(ArrayMemory written, ArrayMemory other, String writtenName, String otherName) {
        if (ArrayMemory.overlaps(written, other)) {
            throw new IllegalArgumentException(writtenName + " shares memory with " + otherName + ": pass separate arrays");
        }
    }

    // ---- the checks of the parts a state is made of, shared with QuantState.of ----

    /** How a non-C-contiguous array is laid out, for the messages above. */
    private static String layout(INDArray a) {
        return a.isView() ? "a strided view" : "an array in '" + a.ordering() + "' order (dup('c') makes a C-order copy)";
    }

    /** @throws IllegalArgumentException unless codes is a contiguous UINT8 array of n elements */
    public static void checkCodes(INDArray codes, long n) {
        if (codes == null) throw new IllegalArgumentException("codes array is null");
        if (codes.dataType() != DataType.UBYTE && codes.dataType() != DataType.UINT8) {
            throw new IllegalArgumentException("codes must be UINT8 (UBYTE), got " + codes.dataType());
        }
        if (codes.length() != n) {
            throw new IllegalArgumentException("codes must have " + n + " elements, got " + codes.length());
        }
        if (n > 0 && !ArrayMemory.of(codes).isContiguous()) {
            throw new IllegalArgumentException("codes must be a contiguous array (C order), got " + layout(codes));
        }
    }

    /** @throws IllegalArgumentException unless absmax is a contiguous FLOAT array of nb elements */
    public static void checkAbsmax(INDArray absmax, long nb) {
        if (absmax == null) throw new IllegalArgumentException("absmax array is null");
        if (absmax.dataType() != DataType.FLOAT) {
            throw new IllegalArgumentException("absmax must be FLOAT, got " + absmax.dataType());
        }
        if (absmax.length() != nb) {
            throw new IllegalArgumentException("absmax must have one value per block (" + nb + "), got " + absmax.length());
        }
        if (nb > 0 && !ArrayMemory.of(absmax).isContiguous()) {
            throw new IllegalArgumentException("absmax must be a contiguous array (C order), got " + layout(absmax));
        }
    }

    /**
     * The kernels address the arrays of the CPU backend (host kernels) or of the CUDA backend (the CUDA
     * provider's kernels, which run on device memory or refuse every call saying why, see CudaBackend).
     * @throws UnsupportedOperationException for any other backend
     */
    public static void checkHostBackend() {
        String problem = backendProblem(Nd4j.getEnvironment().isCPU(), CudaBackend.activeBackendIsCuda());
        if (problem != null) throw new UnsupportedOperationException(problem + Nd4j.getBackend().getClass().getSimpleName());
    }

    /** Null when the kernels can address the active backend's arrays, else the start of the message naming it. */
    static String backendProblem(boolean cpu, boolean cuda) {
        return cpu || cuda ? null : "bnb4j quantizes arrays of ND4J's CPU backend (nd4j-native) or CUDA backend; the active ND4J backend is ";
    }
}
