package org.bnb4j.ops;

import org.bnb4j.quant.Blockwise;
import org.bnb4j.quant.QuantMap;
import org.bnb4j.quant.QuantState;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.LongShapeDescriptor;

import java.util.List;

/**
 * {@code quantize_blockwise}: inputs [x, map (FLOAT[256])], iArgs [blocksize, stochastic (0/1),
 * seed], outputs [codes (UINT8[n]), absmax (FLOAT[ceil(n / blocksize)])].
 */
public class QuantizeBlockwise extends BnbOp {
    private final QuantMap map;

    public QuantizeBlockwise(INDArray x, QuantMap map, int blocksize) {
        this(x, map, blocksize, false, 0L);
    }

    public QuantizeBlockwise(INDArray x, QuantMap map, int blocksize, boolean stochastic, long seed) {
        if (x == null) throw new IllegalArgumentException("input array x is null");
        if (map == null) throw new IllegalArgumentException("quantization map is null");
        Blockwise.checkBlocksize(blocksize); // here, so calculateOutputShape never divides by a bad blocksize
        this.map = map;
        inputs.add(x);
        inputs.add(map.toINDArray());
        iArguments.add((long) blocksize);
        iArguments.add(stochastic ? 1L : 0L);
        iArguments.add(seed);
    }

    @Override
    public String opName() {
        return "quantize_blockwise";
    }

    @Override
    public List<LongShapeDescriptor> calculateOutputShape() {
        long n = inputs.get(0).length();
        return List.of(describe(new long[]{n}, DataType.UBYTE, n == 0),
                describe(new long[]{Blockwise.numBlocks(n, blocksize())}, DataType.FLOAT, n == 0));
    }

    @Override
    public INDArray[] exec() {
        QuantState s = execState();
        return new INDArray[]{s.codes(), s.absmax()};
    }

    /** Runs the op and returns the full state (codes, absmax, map, shape, type). */
    public QuantState execState() {
        INDArray x = inputs.get(0);
        boolean stochastic = iArguments.get(1) != 0;
        QuantState s;
        if (!outputsSupplied) outputs.clear(); // the previous call's own arrays belong to its caller now
        if (outputs.size() == 2) {
            if (stochastic) throw new IllegalArgumentException("stochastic rounding into supplied outputs is not supported");
            s = Blockwise.quantize(x, map, blocksize(), outputs.get(0), outputs.get(1));
        } else if (outputs.isEmpty()) {
            s = stochastic ? Blockwise.quantizeStochastic(x, map, blocksize(), iArguments.get(2))
                    : Blockwise.quantize(x, map, blocksize());
            outputs.add(s.codes());
            outputs.add(s.absmax());
        } else {
            throw new IllegalArgumentException(opName() + " needs 0 or 2 output arrays, got " + outputs.size());
        }
        return s;
    }

    private int blocksize() {
        return Math.toIntExact(iArguments.get(0));
    }
}
