package org.bnb4j.quant;

import org.bnb4j.quant.NonFiniteInputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import static org.junit.jupiter.api.Assertions.*;

/** Wrong input gets an exception that names the problem, and the caller's arrays are left intact. */
class BadInputTest {

    static void assertMessage(Class<? extends Throwable> type, String fragment, Executable e) {
        Throwable t = assertThrows(type, e);
        assertTrue(t.getMessage().contains(fragment), "message '" + t.getMessage() + "' should mention '" + fragment + "'");
    }

    @Test
    void wrongInputTypes() {
        assertMessage(IllegalArgumentException.class, "got INT", () -> Blockwise.quantize(Nd4j.ones(DataType.INT, 100)));
        assertMessage(IllegalArgumentException.class, "got LONG", () -> Blockwise.quantize(Nd4j.ones(DataType.LONG, 100)));
        assertMessage(IllegalArgumentException.class, "null", () -> Blockwise.quantize(null));
        assertMessage(IllegalArgumentException.class, "map is null", () -> Blockwise.quantize(Nd4j.ones(10), null, 64));
    }

    @Test
    void badBlocksizes() {
        INDArray x = Nd4j.rand(DataType.FLOAT, 1000);
        for (int b : new int[]{0, -64, Integer.MIN_VALUE}) {
            assertMessage(IllegalArgumentException.class, "blocksize", () -> Blockwise.quantize(x, b));
        }
    }

    @Test
    void infinityIsRejectedWithTheBlockAndInputIsUntouched() {
        INDArray x = Nd4j.rand(DataType.FLOAT, 3000);
        x.putScalar(2100, Float.NEGATIVE_INFINITY);
        INDArray before = x.dup();
        NonFiniteInputException e = assertThrows(NonFiniteInputException.class, () -> Blockwise.quantize(x, QuantMap.dynamic(), 1024));
        assertEquals(2, e.block());
        assertTrue(e.getMessage().contains("block 2"), e.getMessage());
        assertFalse(e.getMessage().contains("overwritten"), "no caller arrays involved: " + e.getMessage());
        assertEquals(before, x);
        // into caller-owned arrays: the message says they no longer hold a state
        INDArray codes = Nd4j.create(DataType.UBYTE, 3000), absmax = Nd4j.create(DataType.FLOAT, 3);
        e = assertThrows(NonFiniteInputException.class, () -> Blockwise.quantize(x, QuantMap.dynamic(), 1024, codes, absmax));
        assertEquals(2, e.block());
        assertTrue(e.getMessage().contains("block 2") && e.getMessage().contains("partly overwritten"), e.getMessage());
        assertEquals(before, x);
    }

    /** The range of the last, partial block ends at the last element; a finite DOUBLE beyond float range is named as such. */
    @Test
    void infinityMessagesNameWhatTheCallerHas() {
        INDArray x = Nd4j.rand(DataType.FLOAT, 1000);
        x.putScalar(970, Float.POSITIVE_INFINITY);
        NonFiniteInputException e = assertThrows(NonFiniteInputException.class, () -> Blockwise.quantize(x, QuantMap.dynamic(), 64));
        assertTrue(e.getMessage().contains("elements 960..999)"), e.getMessage());

        for (char order : new char[]{'c', 'f'}) {
            INDArray d = Nd4j.rand(DataType.DOUBLE, 30, 40).dup(order);
            d.putScalar(new long[]{10, 3}, 1e300);          // C-order element 403: block 6 at blocksize 64
            d.putScalar(new long[]{20, 0}, -4e38);          // also beyond float, in block 12
            INDArray before = d.dup();
            e = assertThrows(NonFiniteInputException.class, () -> Blockwise.quantize(d, QuantMap.dynamic(), 64));
            assertEquals(6, e.block(), order + ": " + e.getMessage());
            assertTrue(e.getMessage().contains("element 403") && e.getMessage().contains("1.0E300")
                    && e.getMessage().contains("beyond the float range") && !e.getMessage().contains("+-Inf in"), order + ": " + e.getMessage());
            INDArray codes = Nd4j.create(DataType.UBYTE, 1200), absmax = Nd4j.create(DataType.FLOAT, 19);
            e = assertThrows(NonFiniteInputException.class, () -> Blockwise.quantize(d, QuantMap.dynamic(), 64, codes, absmax));
            assertTrue(e.getMessage().contains("beyond the float range") && e.getMessage().contains("partly overwritten"), e.getMessage());
            assertEquals(before, d);
            // a real Inf in the same block as an overflow is reported as the Inf
            d.putScalar(new long[]{10, 5}, Double.NEGATIVE_INFINITY);
            e = assertThrows(NonFiniteInputException.class, () -> Blockwise.quantize(d, QuantMap.dynamic(), 64));
            assertTrue(e.getMessage().contains("+-Inf in block 6 (elements 384..447)"), e.getMessage());
        }
        // a strided view of DOUBLEs
        INDArray big = Nd4j.rand(DataType.DOUBLE, 50, 50);
        big.putScalar(new long[]{7, 4}, -2e39);
        INDArray view = big.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(1, 2, 50), org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 2, 50));
        e = assertThrows(NonFiniteInputException.class, () -> Blockwise.quantize(view, QuantMap.dynamic(), 16));
        // row 7 is view row 3, column 4 view column 2: element 3 * 25 + 2 = 77, block 4
        assertTrue(e.getMessage().contains("element 77 (block 4)") && e.getMessage().contains("-2.0E39"), e.getMessage());
        // rounding to Float.MAX_VALUE is not an overflow
        INDArray edge = Nd4j.createFromArray(3.4028235e38, 1.0, -3.4028235677e38);
        assertEquals(3, Blockwise.quantize(edge, QuantMap.dynamic(), 64).length());
    }

    @Test
    void dequantizeIntoAWrongSizeOutputNamesTheOutput() {
        QuantState s = Blockwise.quantize(Nd4j.rand(DataType.FLOAT, 301), QuantMap.dynamic(), 64);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Blockwise.dequantize(s, Nd4j.create(DataType.FLOAT, 300)));
        assertTrue(e.getMessage().startsWith("output has 300 elements, the state holds 301"), e.getMessage());
    }

    @Test
    void wrongOutputArrays() {
        INDArray x = Nd4j.rand(DataType.FLOAT, 1000);
        QuantMap m = QuantMap.dynamic();
        assertMessage(IllegalArgumentException.class, "UINT8", () -> Blockwise.quantize(x, m, 256, Nd4j.create(DataType.INT, 1000), Nd4j.create(DataType.FLOAT, 4)));
        assertMessage(IllegalArgumentException.class, "1000 elements", () -> Blockwise.quantize(x, m, 256, Nd4j.create(DataType.UBYTE, 999), Nd4j.create(DataType.FLOAT, 4)));
        assertMessage(IllegalArgumentException.class, "one value per block (4)", () -> Blockwise.quantize(x, m, 256, Nd4j.create(DataType.UBYTE, 1000), Nd4j.create(DataType.FLOAT, 3)));
        assertMessage(IllegalArgumentException.class, "absmax must be FLOAT", () -> Blockwise.quantize(x, m, 256, Nd4j.create(DataType.UBYTE, 1000), Nd4j.create(DataType.DOUBLE, 4)));
        INDArray strided = Nd4j.create(DataType.UBYTE, 2000).get(NDArrayIndex.interval(0, 2, 2000));
        assertMessage(IllegalArgumentException.class, "contiguous", () -> Blockwise.quantize(x, m, 256, strided, Nd4j.create(DataType.FLOAT, 4)));

        QuantState s = Blockwise.quantize(x, m, 256);
        assertMessage(IllegalArgumentException.class, "output must be FLOAT, DOUBLE, HALF or BFLOAT16", () -> Blockwise.dequantize(s, Nd4j.create(DataType.INT, 1000)));
        assertMessage(IllegalArgumentException.class, "output has 999 elements, the state holds 1000", () -> Blockwise.dequantize(s, Nd4j.create(DataType.FLOAT, 999)));
        assertMessage(IllegalArgumentException.class, "the output has 999 elements and codes has 1000", () -> Blockwise.dequantize(s.codes(), s.absmax(), m, 256, Nd4j.create(DataType.FLOAT, 999)));
        assertMessage(IllegalArgumentException.class, "null", () -> Blockwise.dequantize(null));
    }

    @Test
    void preallocatedOutputsAreFilledInPlace() {
        INDArray x = Nd4j.rand(DataType.FLOAT, 1000);
        INDArray codes = Nd4j.create(DataType.UBYTE, 1000);
        INDArray absmax = Nd4j.create(DataType.FLOAT, 4);
        QuantState s = Blockwise.quantize(x, QuantMap.dynamic(), 256, codes, absmax);
        assertSame(codes, s.codes());
        assertSame(absmax, s.absmax());
        QuantState fresh = Blockwise.quantize(x, QuantMap.dynamic(), 256);
        TestArrays.assertSameBits(fresh.codes(), codes, "codes");
        TestArrays.assertSameBits(fresh.absmax(), absmax, "absmax");
    }

    @Test
    void inconsistentStatesAreRejected() {
        QuantMap m = QuantMap.dynamic();
        assertMessage(IllegalArgumentException.class, "one value per block", () -> QuantState.of(Nd4j.create(DataType.UBYTE, 1000), Nd4j.create(DataType.FLOAT, 2), m, 256, new long[]{1000}, DataType.FLOAT));
        assertMessage(IllegalArgumentException.class, "codes must have 1200", () -> QuantState.of(Nd4j.create(DataType.UBYTE, 1000), Nd4j.create(DataType.FLOAT, 5), m, 256, new long[]{40, 30}, DataType.FLOAT));
        assertMessage(IllegalArgumentException.class, "original data type", () -> QuantState.of(Nd4j.create(DataType.UBYTE, 1000), Nd4j.create(DataType.FLOAT, 4), m, 256, new long[]{1000}, DataType.INT));
    }
}
