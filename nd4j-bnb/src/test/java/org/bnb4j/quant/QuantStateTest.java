package org.bnb4j.quant;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.*;

class QuantStateTest {

    static byte[] serialize(QuantState s) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        s.write(out);
        return out.toByteArray();
    }

    @Test
    void roundTripIsExact() throws IOException {
        INDArray x = TestArrays.randn(DataType.HALF, 1, 33, 77);
        QuantState s = Blockwise.quantize(x, QuantMap.dynamic(false), 512);
        QuantState r = QuantState.read(new ByteArrayInputStream(serialize(s)));
        TestArrays.assertSameBits(s.codes(), r.codes(), "codes");
        TestArrays.assertSameBits(s.absmax(), r.absmax(), "absmax");
        assertEquals(s.map(), r.map());
        assertEquals(512, r.blocksize());
        assertArrayEquals(new long[]{33, 77}, r.shape());
        assertEquals(DataType.HALF, r.dataType());
        TestArrays.assertSameBits(Blockwise.dequantize(s), Blockwise.dequantize(r), "dequantized");
        assertEquals(33 * 77 + 4 * 5, s.sizeInBytes());
    }

    /** Parts of any C-contiguous shape are kept as vectors of the same memory, so a state reads back as it was made. */
    @Test
    void partsOfOtherShapesAreKeptAsVectors() throws IOException {
        QuantState q = Blockwise.quantize(TestArrays.randn(DataType.FLOAT, 1, 10, 100), QuantMap.dynamic(), 256);
        INDArray codes2d = q.codes().reshape('c', new long[]{10, 100}), absmax2d = q.absmax().reshape('c', new long[]{2, 2});
        QuantState s = QuantState.of(codes2d, absmax2d, q.map(), 256, new long[]{10, 100}, DataType.FLOAT);
        assertArrayEquals(new long[]{1000}, s.codes().shape());
        assertArrayEquals(new long[]{4}, s.absmax().shape());
        codes2d.putScalar(0, 7, 3);     // the same memory: no copy was made
        assertEquals(3, s.codes().getInt(7));
        QuantState r = QuantState.read(new ByteArrayInputStream(serialize(s)));
        assertArrayEquals(s.codes().shape(), r.codes().shape());
        TestArrays.assertSameBits(s.codes(), r.codes(), "codes");
        // an f-order array is named as such, not as a view
        INDArray fCodes = q.codes().reshape('c', new long[]{10, 100}).dup('f');
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> QuantState.of(fCodes, q.absmax(), q.map(), 256, new long[]{10, 100}, DataType.FLOAT));
        assertTrue(e.getMessage().contains("an array in 'f' order"), e.getMessage());
        INDArray strided = org.nd4j.linalg.factory.Nd4j.create(DataType.UBYTE, 2000).get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 2, 2000));
        e = assertThrows(IllegalArgumentException.class, () -> QuantState.of(strided, q.absmax(), q.map(), 256, new long[]{10, 100}, DataType.FLOAT));
        assertTrue(e.getMessage().contains("a strided view"), e.getMessage());
    }

    @Test
    void twoStatesInOneStream() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        QuantState a = Blockwise.quantize(TestArrays.randn(DataType.FLOAT, 2, 300), 64);
        QuantState b = Blockwise.quantize(TestArrays.rand(DataType.FLOAT, 3, 100), QuantMap.linear(false), 128);
        a.write(out);
        b.write(out);
        ByteArrayInputStream in = new ByteArrayInputStream(out.toByteArray());
        TestArrays.assertSameBits(a.codes(), QuantState.read(in).codes(), "first");
        assertEquals(QuantMap.linear(false), QuantState.read(in).map());
    }

    @Test
    void corruptedForeignAndTruncatedStreamsAreRejected() throws IOException {
        byte[] good = serialize(Blockwise.quantize(TestArrays.randn(DataType.FLOAT, 4, 1000), 256));
        byte[] flipped = good.clone();
        flipped[good.length / 2] ^= 0x10;
        IOException e = assertThrows(IOException.class, () -> QuantState.read(new ByteArrayInputStream(flipped)));
        assertTrue(e.getMessage().contains("corrupted"), e.getMessage());
        e = assertThrows(IOException.class, () -> QuantState.read(new ByteArrayInputStream("hello, world, not a state".getBytes())));
        assertTrue(e.getMessage().contains("not a bnb4j QuantState"), e.getMessage());
        e = assertThrows(IOException.class, () -> QuantState.read(new ByteArrayInputStream(Arrays.copyOf(good, good.length - 20))));
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    }
}
