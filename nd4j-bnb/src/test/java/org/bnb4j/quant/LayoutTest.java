package org.bnb4j.quant;

import org.bnb4j.internal.kernels.BlockwiseQuantizer;
import org.bnb4j.internal.kernels.KernelProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import static org.bnb4j.quant.TestArrays.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Views, F order and strided arrays are read and written in place, in C order: the result equals
 * that of a C-contiguous copy, and a dequantized view leaves the rest of its base untouched.
 */
class LayoutTest {

    static INDArray[] layouts(DataType t) {
        INDArray base = randn(t, 11, 40, 300);
        INDArray fOrder = base.dup('f');
        INDArray offsetRows = base.get(NDArrayIndex.interval(5, 25), NDArrayIndex.all());          // contiguous view with offset
        INDArray window = base.get(NDArrayIndex.interval(3, 30), NDArrayIndex.interval(7, 290));  // strided view
        INDArray stepped = base.get(NDArrayIndex.interval(0, 3, 40), NDArrayIndex.interval(1, 2, 300));
        INDArray transposed = base.transpose();
        INDArray rank3 = randn(t, 12, 6, 50, 40).permute(2, 0, 1);
        return new INDArray[]{base, fOrder, offsetRows, window, stepped, transposed, rank3};
    }

    @ParameterizedTest
    @EnumSource(value = DataType.class, names = {"FLOAT", "DOUBLE", "HALF", "BFLOAT16"})
    void everyLayoutQuantizesLikeItsCOrderCopy(DataType t) {
        for (INDArray x : layouts(t)) {
            QuantState s = Blockwise.quantize(x, QuantMap.dynamic(), 256);
            QuantState ref = Blockwise.quantize(x.dup('c'), QuantMap.dynamic(), 256);
            assertSameBits(ref.codes(), s.codes(), "codes of " + x.ordering() + " view " + java.util.Arrays.toString(x.stride()));
            assertSameBits(ref.absmax(), s.absmax(), "absmax");
            assertArrayEquals(x.shape(), s.shape());
            assertEquals(t, s.dataType());

            INDArray back = Blockwise.dequantize(s);
            assertEquals(t, back.dataType());
            assertArrayEquals(x.shape(), back.shape());
            // the Java oracle agrees on views too
            QuantState j = new BlockwiseQuantizer(KernelProvider.reference().quantKernels()).quantize(x, QuantMap.dynamic(), 256);
            assertSameBits(ref.codes(), j.codes(), "java codes on view");
        }
    }

    @ParameterizedTest
    @EnumSource(value = DataType.class, names = {"FLOAT", "DOUBLE", "HALF", "BFLOAT16"})
    void dequantizeWritesIntoViewsInPlace(DataType t) {
        INDArray x = randn(DataType.FLOAT, 3, 20, 50);
        QuantState s = Blockwise.quantize(x, QuantMap.dynamic(), 64);
        INDArray expected = Blockwise.dequantize(s, Nd4j.create(t, 20, 50));

        INDArray big = Nd4j.valueArrayOf(new long[]{30, 80}, 7.0).castTo(t);
        INDArray window = big.get(NDArrayIndex.interval(4, 24), NDArrayIndex.interval(10, 60));
        INDArray same = Blockwise.dequantize(s, window);
        assertSame(window, same);
        assertSameBits(expected, window.dup('c'), "view contents");
        INDArray untouched = big.dup();
        untouched.get(NDArrayIndex.interval(4, 24), NDArrayIndex.interval(10, 60)).assign(7.0);
        assertEquals(30 * 80, untouched.eq(7.0).castTo(DataType.INT).sumNumber().intValue(),
                "every element outside the view still holds 7");

        INDArray fOut = Nd4j.create(t, new long[]{20, 50}, 'f');
        Blockwise.dequantize(s, fOut);
        assertSameBits(expected, fOut.dup('c'), "F-order output");
    }

    @Test
    void scalarsEmptyAndVectors() {
        INDArray scalar = Nd4j.scalar(0.75f);
        QuantState s = Blockwise.quantize(scalar, 64);
        assertEquals(1, s.length());
        assertEquals(0.75f, s.absmax().getFloat(0));
        assertEquals(0.75f, Blockwise.dequantize(s).getFloat(0), 1e-7);
        assertEquals(0, Blockwise.dequantize(s).rank());

        INDArray empty = Nd4j.create(DataType.FLOAT, 0);
        QuantState e = Blockwise.quantize(empty);
        assertEquals(0, e.length());
        assertEquals(0, e.numBlocks());
        assertEquals(0, Blockwise.dequantize(e).length());
    }

    @Test
    void zeroBlocksDecodeToPositiveZeroAndNanToCodeZero() {
        INDArray x = Nd4j.zeros(DataType.FLOAT, 512);
        x.putScalar(300, Float.NaN);
        x.putScalar(400, 2.0f);
        QuantState s = Blockwise.quantize(x, QuantMap.dynamic(), 256);
        assertEquals(0.0f, s.absmax().getFloat(0));
        assertEquals(2.0f, s.absmax().getFloat(1));
        byte[] codes = bytes(s.codes());
        for (int i = 0; i < 256; i++) assertEquals(127, codes[i] & 0xff, "zero code");
        assertEquals(0, codes[300] & 0xff, "NaN -> code 0");
        assertEquals(255, codes[400] & 0xff, "absmax -> 1.0");
        INDArray d = Blockwise.dequantize(s);
        for (int i = 0; i < 256; i++) assertEquals(0, Float.floatToRawIntBits(d.getFloat(i)), "+0.0 at " + i);
        assertEquals(2.0f, d.getFloat(400));
    }

    @Test
    void denormalBlocksStillQuantize() {
        float[] v = new float[128];
        for (int i = 0; i < v.length; i++) v[i] = Float.MIN_VALUE * (i - 64) * 3;
        INDArray x = Nd4j.createFromArray(v);
        INDArray d = Blockwise.dequantize(Blockwise.quantize(x, QuantMap.dynamic(), 128));
        for (int i = 0; i < v.length; i++) {
            assertEquals(v[i], d.getFloat(i), Math.abs(v[i]) * 0.03 + 2 * Float.MIN_VALUE, "element " + i);
        }
    }
}
