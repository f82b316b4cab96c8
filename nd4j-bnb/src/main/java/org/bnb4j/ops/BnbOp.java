package org.bnb4j.ops;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.LongShapeDescriptor;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Base of bnb4j's operations, shaped like ND4J's {@code DynamicCustomOp}: input and output arrays,
 * integer and floating-point arguments, and an output shape calculation, so code written against
 * ND4J ops reads the same. They cannot be handed to {@code Nd4j.exec}: ND4J 1.0.0-M2.1 only
 * executes ops compiled into libnd4j, and offers no way to register external ones. {@link #exec()}
 * runs them on bnb4j's kernels instead.
 */
public abstract class BnbOp {
    protected final List<INDArray> inputs = new ArrayList<>();
    protected final List<INDArray> outputs = new ArrayList<>();
    /** True once the caller supplied outputs: exec() writes into them; otherwise each exec() allocates new ones. */
    protected boolean outputsSupplied;
    protected final List<Long> iArguments = new ArrayList<>();
    protected final List<Double> tArguments = new ArrayList<>();

    /** The op's name, as libnd4j would register it. */
    public abstract String opName();

    /** Shapes and types of the outputs for the current inputs and arguments. */
    public abstract List<LongShapeDescriptor> calculateOutputShape();

    /**
     * Runs the op and returns the outputs: the supplied ones, written again on every call, or new
     * arrays each call (a second exec() does not overwrite what the first returned).
     */
    public abstract INDArray[] exec();

    public INDArray[] inputArguments() {
        return inputs.toArray(new INDArray[0]);
    }

    public INDArray[] outputArguments() {
        return outputs.toArray(new INDArray[0]);
    }

    public long[] iArgs() {
        return iArguments.stream().mapToLong(Long::longValue).toArray();
    }

    public double[] tArgs() {
        return tArguments.stream().mapToDouble(Double::doubleValue).toArray();
    }

    public int numInputArguments() {
        return inputs.size();
    }

    public int numOutputArguments() {
        return outputs.size();
    }

    /** Supplies output arrays (in {@link #calculateOutputShape()} order) to write into. */
    public BnbOp setOutputs(INDArray... out) {
        if (out == null) throw new IllegalArgumentException(opName() + ": outputs array is null");
        for (int i = 0; i < out.length; i++) {
            if (out[i] == null) throw new IllegalArgumentException(opName() + ": output " + i + " is null");
        }
        outputs.clear();
        outputs.addAll(Arrays.asList(out));
        outputsSupplied = true;
        return this;
    }

    /**
     * Describes a C-order output; arrays without elements are marked empty, as ND4J marks them
     * ({@code fromShape(shape, type)} leaves the flag unset). Rank 0 with {@code empty} set is ND4J's
     * empty scalar.
     */
    protected static LongShapeDescriptor describe(long[] shape, DataType type, boolean empty) {
        if (!empty) return LongShapeDescriptor.fromShape(shape, type);
        if (shape.length == 0) return LongShapeDescriptor.empty(type);
        return LongShapeDescriptor.fromShape(shape, Nd4j.getStrides(shape, 'c'), 1, 'c', type, true);
    }

    @Override
    public String toString() {
        return opName() + "(iArgs=" + iArguments + ", tArgs=" + tArguments + ")";
    }
}
