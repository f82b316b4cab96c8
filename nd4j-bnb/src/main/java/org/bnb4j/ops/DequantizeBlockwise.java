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
    private final boolean emptyScalar; // rank 0 without codes: ND4J's empty scalar, not a 1-element one

    public DequantizeBlockwise(QuantState state) {
        this(requireState(state).codes(), state.absmax(), state.map(), state.blocksize(), state.shape(), state.dataType());
    }

    public DequantizeBlockwise(INDArray codes, INDArray absmax, QuantMap map, int blocksize) {
        this(codes, absmax, map, blocksize, new long[]{lengthOf(codes)}, DataType.FLOAT);
    }

    /** @throws IllegalArgumentException naming a null argument, a bad blocksize, shape or data type */
    public DequantizeBlockwise(INDArray codes, INDArray absmax, QuantMap map, int blocksize, long[] shape, DataType dataType) {
        if (codes == null) throw new IllegalArgumentException("codes array is null");
        if (absmax == null) throw new IllegalArgumentException("absmax array is null");
        if (map == null) throw new IllegalArgumentException("quantization map is null");
        Blockwise.checkBlocksize(blocksize);
        long n = Blockwise.elementCount(shape); // null, negative or overflowing shapes are rejected here, not at exec
        // before exec() allocates the output for shape: 2^40 elements against 300 codes was an allocation failure
        if (n != codes.length() && !(shape.length == 0 && codes.length() == 0)) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " has " + n + " elements and codes has "
                    + codes.length() + ": one code per output element");
        }
        Blockwise.checkFloatType(dataType, "output data type");
        this.map = map;
        this.shape = shape.clone();
        this.dataType = dataType;
        this.emptyScalar = shape.length == 0 && codes.length() == 0;
        inputs.add(codes);
        inputs.add(absmax);
        inputs.add(map.toINDArray());
        iArguments.add((long) blocksize);
    }

    // checks that must run before this(...) delegates
    private static QuantState requireState(QuantState state) {
        if (state == null) throw new IllegalArgumentException("quant state is null");
        return state;
    }

    private static long lengthOf(INDArray codes) {
        if (codes == null) throw new IllegalArgumentException("codes array is null");
        return codes.length();
    }

    @Override
    public String opName() {
        return "dequantize_blockwise";
    }

    @Override
    public List<LongShapeDescriptor> calculateOutputShape() {
        return List.of(describe(shape, dataType, emptyScalar || Blockwise.elementCount(shape) == 0));
    }

    @Override
    public INDArray[] exec() {
        INDArray out;
        if (!outputsSupplied) outputs.clear(); // the previous call's own array belongs to its caller now
        if (outputs.isEmpty()) {
            out = emptyScalar ? Nd4j.empty(dataType) : Nd4j.create(dataType, shape, 'c');
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
