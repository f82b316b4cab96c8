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
