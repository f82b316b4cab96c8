package org.bnb4j.quant;

import org.bnb4j.internal.kernels.BlockwiseQuantizer;
import org.bnb4j.internal.kernels.KernelProvider;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Arrays;

/**
 * Block-wise 8-bit quantization of INDArrays, the bitsandbytes {@code quantize_blockwise} /
 * {@code dequantize_blockwise} contract:
 * <ul>
 *   <li>the input (FLOAT, DOUBLE, HALF or BFLOAT16; any shape, order or view) is read in C order and
 *       cut into blocks of {@code blocksize} elements (any positive size, as bitsandbytes' CPU
 *       kernels take; its CUDA kernels, and ours, take powers of two 64..4096; the last block may be
 *       partial);</li>
 *   <li>{@code absmax[b]} = max |x| over block b (NaN ignored); code = the nearest map entry to
 *       x / absmax (bitsandbytes' search: exact midpoints go to the even index; NaN gives code 0;
 *       an all-zero block gives the map's zero code);</li>
 *   <li>dequantized = map[code] * absmax, in float, then rounded to the output type (nearest even);</li>
 *   <li>+-Inf in the input is rejected with {@link org.bnb4j.quant.NonFiniteInputException}.</li>
 * </ul>
 * Runs on the kernels chosen once per process: the native library when it loads, else the pure-Java
 * ones ({@link org.bnb4j.Bnb4j#kernels()} names them).
 */
public final class Blockwise {
    public static final int DEFAULT_BLOCKSIZE = 4096;
    /** Smallest blocksize of 8-bit optimizer state and of the CUDA kernels (quantization on CPU takes any from 1). */
    public static final int MIN_BLOCKSIZE = 64;
    /** Largest blocksize of 8-bit optimizer state and of the CUDA kernels (quantization on CPU takes any). */
    public static final int MAX_BLOCKSIZE = 4096;

    private Blockwise() {}

    /** The quantizer on the active kernels (a holder: the kernels are chosen at first use, not when this class loads). */
    private static final class Default {
        static final BlockwiseQuantizer INSTANCE = new BlockwiseQuantizer(KernelProvider.get().quantKernels());
    }

    private static BlockwiseQuantizer quantizer() {
        return Default.INSTANCE;
    }

    /** Signed dynamic map, blocksize 4096 (bitsandbytes' defaults). */
    public static QuantState quantize(INDArray x) {
        return quantizer().quantize(x, QuantMap.dynamic(), DEFAULT_BLOCKSIZE);
    }

    /** Signed dynamic map. */
    public static QuantState quantize(INDArray x, int blocksize) {
        return quantizer().quantize(x, QuantMap.dynamic(), blocksize);
    }

    public static QuantState quantize(INDArray x, QuantMap map, int blocksize) {
        return quantizer().quantize(x, map, blocksize);
    }

    /**
     * Into caller-owned codes (UINT8) and absmax (FLOAT) arrays, apart from x and each other. When x
     * holds +-Inf, x is untouched but codes and absmax are left partly overwritten (the exception says
     * so): keep a copy if they hold a state still needed.
     */
    public static QuantState quantize(INDArray x, QuantMap map, int blocksize, INDArray codes, INDArray absmax) {
        return quantizer().quantize(x, map, blocksize, codes, absmax);
    }

    public static QuantState quantizeStochastic(INDArray x, QuantMap map, int blocksize, long seed) {
        return quantizer().quantizeStochastic(x, map, blocksize, seed);
    }

    public static INDArray dequantize(QuantState state) {
        return quantizer().dequantize(state);
    }

    public static INDArray dequantize(QuantState state, INDArray out) {
        return quantizer().dequantize(state, out);
    }

    public static INDArray dequantize(INDArray codes, INDArray absmax, QuantMap map, int blocksize, INDArray out) {
        return quantizer().dequantize(codes, absmax, map, blocksize, out);
    }

    // ---- validation shared by the API classes ----

    /** Highest rank ND4J supports. */
    public static final int MAX_RANK = 32;

    /**
     * ceil(n / blocksize), without overflow near Long.MAX_VALUE.
     *
     * @throws IllegalArgumentException if n is negative or blocksize is not positive
     */
    public static long numBlocks(long n, int blocksize) {
        if (blocksize <= 0) throw new IllegalArgumentException("blocksize must be positive, got " + blocksize);
        if (n < 0) throw new IllegalArgumentException("element count must not be negative, got " + n);
        return n / blocksize + (n % blocksize == 0 ? 0 : 1);
    }

    /**
     * The number of elements of an array of this shape (1 for rank 0).
     *
     * @throws IllegalArgumentException naming the shape if it is null, of rank above {@link #MAX_RANK},
     *                                  has a negative dimension, or has more elements than a long counts
     *                                  (zero dimensions left out)
     */
    public static long elementCount(long[] shape) {
        if (shape == null) throw new IllegalArgumentException("shape is null");
        if (shape.length > MAX_RANK) {
            throw new IllegalArgumentException("shape has rank " + shape.length + "; ND4J supports up to " + MAX_RANK);
        }
        for (long s : shape) {
            if (s < 0) throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
        }
        // The product of the non-zero dimensions must fit too: it is what C-order strides multiply up
        // to, and a zero dimension elsewhere would otherwise hide an overflowing shape.
        long n = 1;
        boolean zero = false;
        try {
            for (long s : shape) {
                if (s == 0) zero = true;
                else n = Math.multiplyExact(n, s);
            }
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("the element count of shape " + Arrays.toString(shape) + " overflows a long");
        }
        return zero ? 0 : n;
    }

    /** @throws IllegalArgumentException unless blocksize is positive (the blocksizes of quantize and dequantize) */
    public static void checkBlocksize(int blocksize) {
        if (blocksize < 1) throw new IllegalArgumentException("blocksize must be positive, got " + blocksize);
    }

    /**
     * @throws IllegalArgumentException unless blocksize is a power of two in 64..4096: the blocksizes of
     *                                  8-bit optimizer state and of the CUDA kernels (bitsandbytes' CUDA rule)
     */
    public static void checkPowerOfTwoBlocksize(int blocksize) {
        if (blocksize < MIN_BLOCKSIZE || blocksize > MAX_BLOCKSIZE || Integer.bitCount(blocksize) != 1) {
            throw new IllegalArgumentException("blocksize must be a power of two between " + MIN_BLOCKSIZE + " and "
                    + MAX_BLOCKSIZE + ", got " + blocksize);
        }
    }

    /** @throws IllegalArgumentException naming {@code what} unless t is FLOAT, DOUBLE, HALF or BFLOAT16 */
    public static void checkFloatType(DataType t, String what) {
        if (t != DataType.FLOAT && t != DataType.DOUBLE && t != DataType.HALF && t != DataType.BFLOAT16) {
            throw new IllegalArgumentException(what + " must be FLOAT, DOUBLE, HALF or BFLOAT16, got " + t);
        }
    }
}
