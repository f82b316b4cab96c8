package org.bnb4j.ops;

import org.bnb4j.quant.Blockwise;
import org.bnb4j.quant.QuantMap;
import org.bnb4j.quant.QuantState;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.LongShapeDescriptor;
import org.nd4j.linalg.factory.Nd4j;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class OpsTest {

    @Test
    void quantizeOpDescribesAndRunsLikeTheApi() {
        INDArray x = Nd4j.randn(DataType.FLOAT, 30, 100);
        QuantizeBlockwise op = new QuantizeBlockwise(x, QuantMap.dynamic(), 256);
        assertEquals("quantize_blockwise", op.opName());
        assertArrayEquals(new long[]{256, 0, 0}, op.iArgs());
        assertEquals(2, op.numInputArguments());
        List<LongShapeDescriptor> shapes = op.calculateOutputShape();
        assertArrayEquals(new long[]{3000}, shapes.get(0).getShape());
        assertEquals(DataType.UBYTE, shapes.get(0).dataType());
        assertArrayEquals(new long[]{12}, shapes.get(1).getShape());
        assertEquals(DataType.FLOAT, shapes.get(1).dataType());

        INDArray[] out = op.exec();
        QuantState ref = Blockwise.quantize(x, QuantMap.dynamic(), 256);
        assertEquals(ref.codes(), out[0]);
        assertEquals(ref.absmax(), out[1]);
        assertSame(out[0], op.outputArguments()[0]);

        DequantizeBlockwise dq = new DequantizeBlockwise(out[0], out[1], QuantMap.dynamic(), 256, new long[]{30, 100}, DataType.DOUBLE);
        assertEquals(List.of(LongShapeDescriptor.fromShape(new long[]{30, 100}, DataType.DOUBLE)), dq.calculateOutputShape());
        INDArray back = dq.exec()[0];
        assertEquals(DataType.DOUBLE, back.dataType());
        assertEquals(Blockwise.dequantize(ref).castTo(DataType.DOUBLE), back);
    }

    @Test
    void suppliedOutputsAreUsed() {
        INDArray x = Nd4j.randn(DataType.FLOAT, 500);
        INDArray codes = Nd4j.create(DataType.UBYTE, 500);
        INDArray absmax = Nd4j.create(DataType.FLOAT, 8);
        new QuantizeBlockwise(x, QuantMap.dynamic(), 64).setOutputs(codes, absmax).exec();
        assertEquals(Blockwise.quantize(x, 64).codes(), codes);
        INDArray out = Nd4j.create(DataType.FLOAT, 500);
        new DequantizeBlockwise(codes, absmax, QuantMap.dynamic(), 64).setOutputs(out).exec();
        assertEquals(Blockwise.dequantize(Blockwise.quantize(x, 64)), out);
        assertThrows(IllegalArgumentException.class, () -> new QuantizeBlockwise(x, QuantMap.dynamic(), 64).setOutputs(codes).exec());
    }

    @Test
    void stochasticOpIsSeeded() {
        INDArray x = Nd4j.randn(DataType.FLOAT, 5000);
        INDArray a = new QuantizeBlockwise(x, QuantMap.dynamic(), 256, true, 7).exec()[0];
        INDArray b = new QuantizeBlockwise(x, QuantMap.dynamic(), 256, true, 7).exec()[0];
        assertEquals(a, b);
    }

    /** An op runs again: into new arrays when it allocated them (the first result stays), into supplied ones otherwise. */
    @Test
    void opsRunTwice() {
        INDArray x = Nd4j.randn(DataType.FLOAT, 1000);
        QuantizeBlockwise stochastic = new QuantizeBlockwise(x, QuantMap.dynamic(), 256, true, 7);
        INDArray[] first = stochastic.exec();
        INDArray firstCodes = first[0].dup();
        INDArray[] second = stochastic.exec();
        assertEquals(firstCodes, second[0], "same seed, same codes");
        assertNotSame(first[0], second[0]);
        QuantizeBlockwise q = new QuantizeBlockwise(x, QuantMap.dynamic(), 256);
        INDArray[] r1 = q.exec();
        INDArray kept = r1[0].dup();
        x.muli(-1);
        INDArray[] r2 = q.exec();
        assertEquals(kept, r1[0], "the first result is not overwritten");
        assertEquals(Blockwise.quantize(x, QuantMap.dynamic(), 256).codes(), r2[0]);
        DequantizeBlockwise d = new DequantizeBlockwise(Blockwise.quantize(x, QuantMap.dynamic(), 256));
        INDArray o1 = d.exec()[0], o2 = d.exec()[0];
        assertNotSame(o1, o2);
        assertEquals(o1, o2);
        INDArray codes = Nd4j.create(DataType.UBYTE, 1000), absmax = Nd4j.create(DataType.FLOAT, 4);
        QuantizeBlockwise into = new QuantizeBlockwise(x, QuantMap.dynamic(), 256);
        into.setOutputs(codes, absmax);
        assertSame(codes, into.exec()[0]);
        assertSame(codes, into.exec()[0], "supplied outputs are written again");
    }
}
