package org.bnb4j.ops;

import org.bnb4j.quant.Blockwise;
import org.bnb4j.quant.QuantMap;
import org.bnb4j.quant.QuantState;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.LongShapeDescriptor;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The op classes reject bad arguments when constructed, naming them, and handle empty inputs. */
class OpArgumentsTest {

    interface Call {
        void run();
    }

    static void assertIae(String fragment, Call call) {
        try {
            call.run();
            fail("expected IllegalArgumentException naming " + fragment);
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage() != null && e.getMessage().toLowerCase().contains(fragment), e.getMessage());
        } catch (RuntimeException e) {
            throw new AssertionError("expected IllegalArgumentException naming " + fragment + ", got " + e, e);
        }
    }

    @Test
    void quantizeOpArguments() {
        INDArray x = Nd4j.randn(DataType.FLOAT, 100);
        QuantMap m = QuantMap.dynamic();
        assertIae("input", () -> new QuantizeBlockwise(null, m, 64));
        assertIae("input", () -> new QuantizeBlockwise(null, m, 64, true, 1));
        assertIae("map", () -> new QuantizeBlockwise(x, null, 64));
        for (int bs : new int[]{0, -64, Integer.MIN_VALUE}) {
            assertIae("blocksize", () -> new QuantizeBlockwise(x, m, bs));
            assertIae("blocksize", () -> new QuantizeBlockwise(x, m, bs, true, 7));
        }
        QuantizeBlockwise op = new QuantizeBlockwise(x, m, 64);
        assertIae("outputs", () -> op.setOutputs((INDArray[]) null));
        assertIae("output 1", () -> op.setOutputs(Nd4j.create(DataType.UBYTE, 100), null));
    }

    @Test
    void dequantizeOpArguments() {
        QuantState s = Blockwise.quantize(Nd4j.randn(DataType.FLOAT, 100), 64);
        INDArray c = s.codes(), a = s.absmax();
        QuantMap m = s.map();
        long[] sh = {10, 10};
        assertIae("state", () -> new DequantizeBlockwise(null));
        assertIae("codes", () -> new DequantizeBlockwise(null, a, m, 64));
        assertIae("absmax", () -> new DequantizeBlockwise(c, null, m, 64));
        assertIae("map", () -> new DequantizeBlockwise(c, a, null, 64));
        assertIae("codes", () -> new DequantizeBlockwise(null, a, m, 64, sh, DataType.FLOAT));
        assertIae("absmax", () -> new DequantizeBlockwise(c, null, m, 64, sh, DataType.FLOAT));
        assertIae("map", () -> new DequantizeBlockwise(c, a, null, 64, sh, DataType.FLOAT));
        for (int bs : new int[]{0, -64, Integer.MIN_VALUE}) {
            assertIae("blocksize", () -> new DequantizeBlockwise(c, a, m, bs));
            assertIae("blocksize", () -> new DequantizeBlockwise(c, a, m, bs, sh, DataType.FLOAT));
        }
        assertIae("shape", () -> new DequantizeBlockwise(c, a, m, 64, null, DataType.FLOAT));
        assertIae("[10, -10]", () -> new DequantizeBlockwise(c, a, m, 64, new long[]{10, -10}, DataType.FLOAT));
        long[] wraps = {8, (1L << 61) + 125};  // 2^64 + 1000 elements
        assertIae(Arrays.toString(wraps), () -> new DequantizeBlockwise(c, a, m, 64, wraps, DataType.FLOAT));
        // a shape that disagrees with the codes is refused before exec() allocates an output for it
        assertIae("shape [1099511627776] has 1099511627776 elements and codes has 100", () -> new DequantizeBlockwise(c, a, m, 64, new long[]{1L << 40}, DataType.FLOAT));
        assertIae("shape [10, 11] has 110 elements and codes has 100", () -> new DequantizeBlockwise(c, a, m, 64, new long[]{10, 11}, DataType.FLOAT));
        assertIae("data type", () -> new DequantizeBlockwise(c, a, m, 64, sh, null));
        assertIae("data type", () -> new DequantizeBlockwise(c, a, m, 64, sh, DataType.INT));
        DequantizeBlockwise op = new DequantizeBlockwise(s);
        assertIae("outputs", () -> op.setOutputs((INDArray[]) null));
        assertIae("output 0", () -> op.setOutputs((INDArray) null));
        // valid arguments still work
        assertEquals(Blockwise.dequantize(s).reshape(10, 10), new DequantizeBlockwise(c, a, m, 64, sh, DataType.FLOAT).exec()[0]);
    }

    @Test
    void emptyInputsGoThroughTheOps() {
        List<INDArray> inputs = List.of(Nd4j.create(DataType.FLOAT, 0), Nd4j.create(DataType.HALF, 0, 5),
                Nd4j.create(DataType.DOUBLE, 3, 0), Nd4j.empty(DataType.FLOAT), Nd4j.createFromArray(new double[0]));
        for (INDArray x : inputs) {
            String what = x.dataType() + Arrays.toString(x.shape());
            QuantizeBlockwise q = new QuantizeBlockwise(x, QuantMap.dynamic(), 256);
            List<LongShapeDescriptor> qs = q.calculateOutputShape();
            assertArrayEquals(new long[]{0}, qs.get(0).getShape(), what);
            assertArrayEquals(new long[]{0}, qs.get(1).getShape(), what);
            QuantState s = q.execState();
            DequantizeBlockwise d = new DequantizeBlockwise(s);
            LongShapeDescriptor ds = d.calculateOutputShape().get(0);
            assertArrayEquals(x.shape(), ds.getShape(), what);
            assertEquals(x.dataType(), ds.dataType(), what);
            assertTrue(ds.isEmpty(), what + ": the described output is empty");
            INDArray out = d.exec()[0];
            assertArrayEquals(x.shape(), out.shape(), what);
            assertEquals(x.dataType(), out.dataType(), what);
            assertTrue(out.isEmpty(), what);
        }
    }
}
