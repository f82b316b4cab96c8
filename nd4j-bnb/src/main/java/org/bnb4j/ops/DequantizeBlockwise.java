package org.bnb4j.ops;

import org.bnb4j.quant.Blockwise;
import org.bnb4j.quant.QuantMap;
import org.bnb4j.quant.QuantState;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.LongShapeDescriptor;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;
import java.util.List;

/**
 * {@code dequantize_blockwise}: inputs [codes (UINT8[n]), absmax (FLOAT[blocks]), map (FLOAT[256])],
 * iArgs [blocksize], output [x] of the given shape and data type (FLOAT [n] by default).
 */
public class DequantizeBlockwise extends BnbOp {
    private final QuantMap map;
    private final long[] shape;
    private final DataType dataType;

    public DequantizeBlockwise(QuantState state) {
        this(state.codes(), state.absmax(), state.map(), state.blocksize(), state.shape(), state.dataType());
    }

    public DequantizeBlockwise(INDArray codes, INDArray absmax, QuantMap map, int blocksize) {
        this(codes, absmax, map, blocksize, new long[]{codes.length()}, DataType.FLOAT);
    }

    public DequantizeBlockwise(INDArray codes, INDArray absmax, QuantMap map, int blocksize, long[] shape, DataType dataType) {
        if (map == null) throw new IllegalArgumentException("quantization map is null");
        if (codes == null || absmax == null) throw new IllegalArgumentException("codes and absmax must not be null");
        this.map = map;
        this.shape = shape.clone();
        this.dataType = dataType;
        inputs.add(codes);
        inputs.add(absmax);
        inputs.add(map.toINDArray());
        iArguments.add((long) blocksize);
    }

    @Override
    public String opName() {
        return "dequantize_blockwise";
    }

    @Override
    public List<LongShapeDescriptor> calculateOutputShape() {
        return List.of(LongShapeDescriptor.fromShape(shape, dataType));
    }

    @Override
    public INDArray[] exec() {
        INDArray out;
        if (outputs.isEmpty()) {
            out = Nd4j.create(dataType, shape, 'c');
            outputs.add(out);
        } else if (outputs.size() == 1) {
            out = outputs.get(0);
        } else {
            throw new IllegalArgumentException(opName() + " needs 0 or 1 output arrays, got " + outputs.size());
        }
        Blockwise.dequantize(inputs.get(0), inputs.get(1), map, Math.toIntExact(iArguments.get(0)), out);
        return new INDArray[]{out};
    }

    @Override
    public String toString() {
        return opName() + "(" + dataType + Arrays.toString(shape) + ", blocksize " + iArguments.get(0) + ")";
    }
}
