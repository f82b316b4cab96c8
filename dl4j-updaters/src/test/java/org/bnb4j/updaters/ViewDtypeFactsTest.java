package org.bnb4j.updaters;

import org.bnb4j.internal.kernels.HostBuffers;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * What ND4J 1.0.0-M2.1 does to arbitrary bit patterns in DOUBLE, HALF and BFLOAT16 arrays, pinned
 * because the packed 8-bit layout of non-FLOAT updater views depends on it.
 *
 * <p>Save (ModelSerializer writes the updater view with Nd4j.write, which calls BaseDataBuffer.write):
 * DOUBLE goes through {@code writeDouble(getDouble(i))}, so {@code Double.doubleToLongBits} turns every
 * NaN into 0x7ff8000000000000; HALF through {@code writeShort(HalfIndexer.fromFloat(getFloat(i)))} and
 * BFLOAT16 through {@code Bfloat16Indexer.fromFloat(getFloat(i))}, both starting with
 * {@code Float.floatToIntBits}, so every NaN becomes one canonical pattern (HALF 0x7e00, BFLOAT16
 * 0x7fc0). Every other pattern (denormals, -0, +-Inf) comes back bit for bit. The in-memory paths
 * (dup, assign: clone() and the restore path instantiate(view, true) + assign) keep every bit.
 */
class ViewDtypeFactsTest {

    static INDArray roundTrip(INDArray a) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            Nd4j.write(a, out);
        }
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            return Nd4j.read(in);
        }
    }

    /** All 65536 16-bit patterns as an array of type t (HALF or BFLOAT16), written as raw bits. */
    static INDArray all16(DataType t) {
        INDArray a = Nd4j.create(t, 65536);
        ByteBuffer b = HostBuffers.of(a);
        for (int i = 0; i < 65536; i++) b.putShort(2 * i, (short) i);
        return a;
    }

    static int bits16(INDArray a, int i) {
        return HostBuffers.of(a).getShort(2 * i) & 0xffff;
    }

    static boolean halfNaN(int h) {
        return (h & 0x7c00) == 0x7c00 && (h & 0x3ff) != 0;
    }

    static boolean bf16NaN(int h) {
        return (h & 0x7f80) == 0x7f80 && (h & 0x7f) != 0;
    }

    @Test
    void halfSaveKeepsEveryPatternButNaNs() throws IOException {
        INDArray back = roundTrip(all16(DataType.HALF));
        assertEquals(DataType.HALF, back.dataType());
        int nans = 0;
        for (int h = 0; h < 65536; h++) {
            if (halfNaN(h)) {
                nans++;
                assertEquals(0x7e00, bits16(back, h), "half NaN " + Integer.toHexString(h) + " is canonicalised");
            } else {
                assertEquals(h, bits16(back, h), "half " + Integer.toHexString(h) + " (denormals, -0, Inf included) survives");
            }
        }
        assertEquals(2046, nans, "2046 of the 65536 half patterns are NaN");
    }

    @Test
    void bfloat16SaveKeepsEveryPatternButNaNs() throws IOException {
        INDArray back = roundTrip(all16(DataType.BFLOAT16));
        assertEquals(DataType.BFLOAT16, back.dataType());
        int nans = 0;
        for (int h = 0; h < 65536; h++) {
            if (bf16NaN(h)) {
                nans++;
                assertEquals(0x7fc0, bits16(back, h), "bfloat16 NaN " + Integer.toHexString(h) + " is canonicalised");
            } else {
                assertEquals(h, bits16(back, h), "bfloat16 " + Integer.toHexString(h) + " survives");
            }
        }
        assertEquals(254, nans);
    }

    static long[] doublePatterns() {
        Random r = new Random(1);
        long[] p = new long[4096];
        long[] special = {0L, 0x8000000000000000L, 1L, 0x000fffffffffffffL, 0x800fffffffffffffL, 0x7ff0000000000000L,
                0xfff0000000000000L, 0x7ff0000000000001L, 0x7ff8000000000000L, 0xfff8000000000001L, 0x7ff4000000000000L,
                0x7fffffffffffffffL, 0x3ff0000000000000L};
        System.arraycopy(special, 0, p, 0, special.length);
        for (int i = special.length; i < p.length; i++) {
            long x = r.nextLong();
            // a third of them with an all-ones exponent (NaN or Inf), the rest as they come
            p[i] = i % 3 == 0 ? x | 0x7ff0000000000000L : x;
        }
        return p;
    }

    static boolean doubleNaN(long x) {
        return (x & 0x7ff0000000000000L) == 0x7ff0000000000000L && (x & 0x000fffffffffffffL) != 0;
    }

    @Test
    void doubleSaveKeepsEveryPatternButNaNs() throws IOException {
        long[] p = doublePatterns();
        INDArray a = Nd4j.create(DataType.DOUBLE, p.length);
        ByteBuffer b = HostBuffers.of(a);
        for (int i = 0; i < p.length; i++) b.putLong(8 * i, p[i]);
        INDArray back = roundTrip(a);
        assertEquals(DataType.DOUBLE, back.dataType());
        ByteBuffer c = HostBuffers.of(back);
        int nans = 0;
        for (int i = 0; i < p.length; i++) {
            long got = c.getLong(8 * i);
            if (doubleNaN(p[i])) {
                nans++;
                assertEquals(0x7ff8000000000000L, got, "double NaN " + Long.toHexString(p[i]) + " is canonicalised");
            } else {
                assertEquals(p[i], got, "double " + Long.toHexString(p[i]) + " survives");
            }
        }
        assertTrue(nans > 1000);
    }

    /** A double is NaN only if its top byte is 0x7f or 0xff: the FLOAT packing rule (byte 3 of each word) covers byte 7. */
    @Test
    void theFloatWordRuleKeepsDoublesFinite() {
        for (int top = 0; top < 256; top++) {
            if (top == 0x7f || top == 0xff) continue;
            for (int next = 0; next < 256; next += 5) {
                long x = ((long) top << 56) | ((long) next << 48) | 0x0000ffffffffffffL;
                assertTrue(Double.isFinite(Double.longBitsToDouble(x)));
            }
        }
        // an absmax or header float in the high half of a double: the double is NaN only if that float
        // is a NaN with its top three mantissa bits set (never a finite absmax, nor +Inf = 0x7f800000)
        assertTrue(Double.isFinite(Double.longBitsToDouble((long) Float.floatToRawIntBits(Float.POSITIVE_INFINITY) << 32)));
        assertTrue(Double.isFinite(Double.longBitsToDouble((long) Float.floatToRawIntBits(Float.MAX_VALUE) << 32 | 0xffffffffL)));
        assertTrue(Double.isNaN(Double.longBitsToDouble(0x7ff00000L << 32 | 1)));
    }

    /** The in-memory paths (clone() dups the view, the restore path assigns it) keep NaN payloads too. */
    @Test
    void dupAndAssignKeepEveryBit() {
        for (DataType t : new DataType[]{DataType.HALF, DataType.BFLOAT16}) {
            INDArray a = all16(t);
            INDArray d = a.dup();
            INDArray z = Nd4j.create(t, 65536);
            z.assign(0);
            z.assign(a);
            for (int h = 0; h < 65536; h++) {
                assertEquals(h, bits16(d, h), t + " dup " + Integer.toHexString(h));
                assertEquals(h, bits16(z, h), t + " assign " + Integer.toHexString(h));
            }
        }
        long[] p = doublePatterns();
        INDArray a = Nd4j.create(DataType.DOUBLE, p.length);
        ByteBuffer b = HostBuffers.of(a);
        for (int i = 0; i < p.length; i++) b.putLong(8 * i, p[i]);
        INDArray d = a.dup(), z = Nd4j.create(DataType.DOUBLE, p.length);
        z.assign(0);
        z.assign(a);
        for (int i = 0; i < p.length; i++) {
            assertEquals(p[i], HostBuffers.of(d).getLong(8 * i), "double dup");
            assertEquals(p[i], HostBuffers.of(z).getLong(8 * i), "double assign");
        }
    }

    /**
     * convertDataType casts the updater state by value: packed bytes become other bytes. FLOAT words
     * cast to DOUBLE keep the value, not the bits, so a word of a FLOAT packed view becomes a double
     * whose low float word holds only the float's 3 lowest mantissa bits.
     */
    @Test
    void castsKeepValuesNotBits() {
        float tag = Float.intBitsToFloat(0x3B4F1235);
        INDArray f = Nd4j.createFromArray(new float[]{tag});
        INDArray d = f.castTo(DataType.DOUBLE);
        long bits = HostBuffers.of(d).getLong(0);
        assertEquals(Double.doubleToRawLongBits(tag), bits);
        assertEquals(0xA0000000L, bits & 0xffffffffL, "the low word: the float's 3 lowest mantissa bits");
        INDArray h = f.castTo(DataType.HALF);
        assertNotEquals(0x1235, bits16(h, 0));
    }

    /**
     * DL4J M2.1 has no BFLOAT16 networks: its builder refuses the type, and a network converted to it
     * (convertDataType only asks for a floating point type) cannot run backprop on CPU (libnd4j's
     * relu_bp fails), whatever the updater.
     */
    @Test
    void dl4jCannotTrainBfloat16Networks() {
        assertThrows(IllegalStateException.class, () -> new NeuralNetConfiguration.Builder().dataType(DataType.BFLOAT16));
        MultiLayerNetwork b = DataTypeNetworksTest.net(new Sgd(0.1), DataType.FLOAT, 8).convertDataType(DataType.BFLOAT16);
        assertEquals(DataType.BFLOAT16, b.params().dataType());
        DataSet d = DataTypeNetworksTest.data(10, 1, DataType.BFLOAT16);
        RuntimeException e = assertThrows(RuntimeException.class, () -> b.fit(d));
        assertTrue(String.valueOf(e.getMessage()).contains("relu_bp"), e.getMessage());
    }
}
