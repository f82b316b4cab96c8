package org.bnb4j.quant;

import org.bnb4j.internal.kernels.HostBuffers;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.ByteBuffer;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Test inputs, including the adversarial ones, and exact comparisons of array memory. */
final class TestArrays {
    private TestArrays() {}

    static final int[] BLOCKSIZES = {64, 128, 256, 512, 1024, 2048, 4096};
    static final DataType[] FLOAT_TYPES = {DataType.FLOAT, DataType.DOUBLE, DataType.HALF, DataType.BFLOAT16};

    /**
     * Values chosen to hit every corner of the contract, block by block: exact midpoints of the map
     * (ties) at power-of-two scales, denormal blocks (1/absmax overflows), huge and tiny magnitudes,
     * NaN, all-zero and all-NaN blocks, signed zeros, and wide dynamic range within one block.
     */
    static double[] adversarial(int blocksize, int blocks, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] c = QuantMap.dynamic(true).values();
        float[] u = QuantMap.dynamic(false).values();
        double[] v = new double[blocksize * blocks + blocksize / 3];
        for (int b = 0; b * blocksize < v.length; b++) {
            int start = b * blocksize, end = Math.min(v.length, start + blocksize);
            int kind = b % 9;
            for (int i = start; i < end; i++) {
                double x;
                switch (kind) {
                    case 0: { // ties of the signed map, scale 2^k keeps them exact
                        float[] m = r.nextBoolean() ? c : u;
                        int k = r.nextInt(255);
                        float mid = (m[k] + m[k + 1]) * 0.5f;
                        x = i == start ? 1.0 : mid;
                        x *= Math.scalb(1.0, (b % 5) - 2);
                        break;
                    }
                    case 1: x = r.nextGaussian() * Float.MIN_VALUE * 1000; break;             // denormals
                    case 2: x = r.nextGaussian() * 1e37; break;                               // huge
                    case 3: x = (r.nextInt(4) == 0 ? Float.NaN : r.nextGaussian() * 1e-30); break; // tiny + NaN
                    case 4: x = (i % 2 == 0) ? 0.0 : -0.0; break;                              // all zero
                    case 5: x = Double.NaN; break;                                            // all NaN
                    case 6: x = Math.copySign(Math.pow(10, r.nextDouble() * 60 - 30), r.nextDouble() - 0.5); break;
                    case 7: x = i == start + 1 ? -Float.MAX_VALUE : r.nextGaussian(); break;  // extreme absmax
                    default: x = r.nextGaussian() * 0.01 + (r.nextInt(50) == 0 ? 3.0 : 0.0); break; // outliers
                }
                v[i] = x;
            }
        }
        return v;
    }

    /** The adversarial values, with magnitudes clamped to what type {@code t} holds finitely. */
    static INDArray adversarialArray(DataType t, int blocksize, int blocks, long seed) {
        double max = t == DataType.HALF ? 65504 : t == DataType.BFLOAT16 ? 3.38e38 : Float.MAX_VALUE;
        double[] v = adversarial(blocksize, blocks, seed);
        for (int i = 0; i < v.length; i++) v[i] = Math.max(-max, Math.min(max, v[i]));
        return Nd4j.createFromArray(v).castTo(t);
    }

    static INDArray randn(DataType t, long seed, long... shape) {
        Nd4j.getRandom().setSeed(seed);
        return Nd4j.randn(DataType.FLOAT, shape).castTo(t);
    }

    static INDArray rand(DataType t, long seed, long... shape) {
        Nd4j.getRandom().setSeed(seed);
        return Nd4j.rand(DataType.FLOAT, shape).castTo(t);
    }

    static byte[] bytes(INDArray contiguous) {
        // the buffer does not keep the array alive: a temporary (bytes(x.dup())) could be freed, and its
        // memory reused by malloc, while it is read
        try {
            ByteBuffer b = HostBuffers.of(contiguous);
            byte[] out = new byte[b.remaining()];
            b.get(0, out);
            return out;
        } finally {
            java.lang.ref.Reference.reachabilityFence(contiguous);
        }
    }

    static INDArray dense(INDArray x) {
        return org.bnb4j.internal.kernels.ArrayMemory.of(x).isContiguous() ? x : x.dup('c');
    }

    /** Asserts bit-identical memory, reporting the first differing element. */
    static void assertSameBits(INDArray expected, INDArray actual, String what) {
        assertEquals(expected.dataType(), actual.dataType(), what + ": data type");
        assertEquals(expected.length(), actual.length(), what + ": length");
        byte[] e = bytes(dense(expected));
        byte[] a = bytes(dense(actual));
        for (int i = 0; i < e.length; i++) {
            if (e[i] != a[i]) {
                int size = e.length / (int) Math.max(1, expected.length());
                throw new AssertionError(what + ": element " + i / size + " differs (expected "
                        + expected.reshape(expected.length()).getDouble(i / size) + ", got "
                        + actual.reshape(actual.length()).getDouble(i / size) + ")");
            }
        }
    }
}
