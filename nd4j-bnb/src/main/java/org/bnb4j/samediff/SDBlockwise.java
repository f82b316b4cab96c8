package org.bnb4j.samediff;

import org.bnb4j.internal.kernels.CodeSearch;
import org.bnb4j.quant.Blockwise;
import org.bnb4j.quant.QuantMap;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;

/**
 * Block-wise quantize / dequantize inside a SameDiff graph, composed only of ops libnd4j already
 * has (M2.1 cannot run external ops), so graphs holding them save, load and run anywhere:
 * <ul>
 *   <li>dequantize: gather(map, codes) * gather(absmax, block index), the kernel's float product;</li>
 *   <li>quantize: per-block abs-max reduction, multiplication by the float reciprocal (0 for an
 *       all-zero block), and the nearest code as an 8-step binary lifting over the map's 255
 *       transition points ({@link CodeSearch#thresholds}), which is the reference search exactly.</li>
 * </ul>
 * Results equal {@link Blockwise} bit for bit for finite FLOAT input, NaN included (code 0), zero and
 * denormal blocks included. Not reproduced in a graph: the error on +-Inf input (a graph cannot throw);
 * there a block holding +-Inf gets absmax +Inf and code 0 everywhere, so it dequantizes to
 * map[0] * Inf (-Inf for the signed maps) in every element: the other blocks are not affected.
 */
public final class SDBlockwise {
    private SDBlockwise() {}

    /** The smallest float a with a finite 1f / a: below it the kernels divide instead of multiplying. */
    static final float DENORMAL_LIMIT = denormalLimit();

    private static float denormalLimit() {
        float a = Float.MIN_VALUE;
        while (Float.isInfinite(1f / a)) a = Math.nextUp(a);
        return a;
    }

    /**
     * Adds quantization of {@code x} (any float type; its element count must be known: {@code shape})
     * and returns {codes (UINT8 [n]), absmax (FLOAT [blocks])}, named {@code name + "_codes"} and
     * {@code name + "_absmax"}.
     */
    public static SDVariable[] quantize(SameDiff sd, String name, SDVariable x, long[] shape, QuantMap map, int blocksize) {
        check(sd, name, map, blocksize);
        requireOwn(sd, x, "x");
        long n = positiveCount(shape);
        long nb = Blockwise.numBlocks(n, blocksize);
        // A single block is the whole input: its rows are n wide, not padded with zeros up to a
        // blocksize that may be far larger than the input (2^31 - 1 for one block of 10 elements).
        long width = nb == 1 ? n : blocksize, padded = nb * width;
        SDVariable flat = x.castTo(DataType.FLOAT).reshape(n);
        if (padded > n) flat = sd.concat(0, flat, sd.constant(name + "_pad", Nd4j.zeros(DataType.FLOAT, padded - n)));
        SDVariable blocks = flat.reshape(nb, width);
        // max |x| with NaN ignored, as the kernels do: pairwise max(NaN, 0) is 0 in libnd4j (a > b ? a : b)
        SDVariable absNoNan = sd.math().max(sd.math().abs(blocks), sd.constant(name + "_zero", Nd4j.scalar(0f)));
        // A one-element block is its own maximum; libnd4j's reduction over a length-1 axis fails (NPE in
        // BaseReduceOp.noOp when the graph runs), so that case is a reshape.
        SDVariable absmax = width == 1 ? absNoNan.reshape(nb) : absNoNan.max(1);
        // The kernels' normalisation without a select op (M2.1 SameDiff has none), NaN-free masks only:
        //   normal block: x * (1/absmax); all-zero block: x * 0; denormal block (1/absmax overflows): x / absmax.
        SDVariable z = absmax.eq(0.0).castTo(DataType.FLOAT);
        SDVariable d = absmax.gt(0.0).castTo(DataType.FLOAT).mul(absmax.lt(DENORMAL_LIMIT).castTo(DataType.FLOAT));
        SDVariable notZ = z.rsub(1.0), notD = d.rsub(1.0);
        SDVariable inv = absmax.mul(notD).add(z).add(d).rdiv(1.0).mul(notZ).mul(notD);
        SDVariable divisor = absmax.mul(d).add(notD);
        SDVariable y = blocks.mul(inv.reshape(nb, 1)).add(blocks.div(divisor.reshape(nb, 1)).mul(d.reshape(nb, 1))).reshape(padded);
        SDVariable thresh = sd.constant(name + "_thresholds", Nd4j.createFromArray(graphThresholds(map)));
        SDVariable code = sd.constant(name + "_code0", Nd4j.zeros(DataType.INT, padded));
        for (int bit = 128; bit >= 1; bit >>= 1) {
            SDVariable candidate = code.add(bit);
            SDVariable t = sd.gather(thresh, candidate, 0);
            code = code.add(y.gte(t).castTo(DataType.INT).mul(bit));
        }
        if (padded > n) code = code.get(org.nd4j.autodiff.samediff.SDIndex.interval(0L, n));
        SDVariable codes = code.castTo(DataType.UBYTE).rename(name + "_codes");
        return new SDVariable[]{codes, absmax.rename(name + "_absmax")};
    }

    /**
     * Adds dequantization of codes (UINT8/any integer type, [n]) and absmax (FLOAT [blocks]) into an
     * array of {@code shape} and type {@code dataType} (rounded by libnd4j's cast when not FLOAT).
     */
    public static SDVariable dequantize(SameDiff sd, String name, SDVariable codes, SDVariable absmax, QuantMap map,
                                        int blocksize, long[] shape, DataType dataType) {
        check(sd, name, map, blocksize);
        requireOwn(sd, codes, "codes");
        requireOwn(sd, absmax, "absmax");
        long n = positiveCount(shape);
        // the graph holds one block index per element as an INT constant
        if (n > Integer.MAX_VALUE) throw new IllegalArgumentException("dequantize in a graph takes up to 2^31 - 1 elements, shape "
                + Arrays.toString(shape) + " has " + n);
        if (dataType == null) throw new IllegalArgumentException("dataType is null");
        if (!dataType.isFPType()) throw new IllegalArgumentException("dequantize output must be a floating-point type, got " + dataType);
        int[] block = new int[Math.toIntExact(n)];
        for (int i = 0; i < block.length; i++) block[i] = i / blocksize;
        SDVariable mapVar = sd.constant(name + "_map", map.toINDArray());
        SDVariable blockIdx = sd.constant(name + "_block_index", Nd4j.createFromArray(block));
        SDVariable values = sd.gather(mapVar, codes.castTo(DataType.INT).reshape(n), 0);
        SDVariable scale = sd.gather(absmax.castTo(DataType.FLOAT).reshape(Blockwise.numBlocks(n, blocksize)), blockIdx, 0);
        SDVariable out = values.mul(scale).reshape(shape);
        return (dataType == DataType.FLOAT ? out : out.castTo(dataType)).rename(name);
    }

    /**
     * The search's transition points with their infinities made finite: -Inf (t[0], never gathered) and
     * +Inf (codes above the map's top, never reached) become -+Float.MAX_VALUE. A normalised y is in
     * [-1, 1] or NaN (a block holding +-Inf normalises to 0 and NaN), so y >= MAX_VALUE is as false as
     * y >= Inf; a constant holding Inf would set off ND4J's INF_PANIC/ANY_PANIC profiling when the graph
     * is built, with nothing infinite in the data.
     */
    static float[] graphThresholds(QuantMap map) {
        float[] t = CodeSearch.thresholds(map.values());
        for (int k = 0; k < t.length; k++) {
            if (t[k] == Float.POSITIVE_INFINITY) t[k] = Float.MAX_VALUE;
            else if (t[k] == Float.NEGATIVE_INFINITY) t[k] = -Float.MAX_VALUE;
        }
        return t;
    }

    /** The element count of shape (no negative or unknown dimension): what the graph is built for. */
    private static long positiveCount(long[] shape) {
        long n = Blockwise.elementCount(shape);
        if (n <= 0) throw new IllegalArgumentException("shape must have a positive element count: " + Arrays.toString(shape));
        return n;
    }

    private static void requireOwn(SameDiff sd, SDVariable v, String what) {
        if (v == null) throw new IllegalArgumentException(what + " is null");
        if (v.getSameDiff() != sd) throw new IllegalArgumentException(what + " (" + v.name() + ") belongs to another SameDiff instance");
    }

    private static void check(SameDiff sd, String name, QuantMap map, int blocksize) {
        if (sd == null || name == null || map == null) throw new IllegalArgumentException("sd, name and map must not be null");
        Blockwise.checkBlocksize(blocksize);
    }
}
