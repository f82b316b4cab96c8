package org.bnb4j.ops;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.LongShapeDescriptor;

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
    protected final List<Long> iArguments = new ArrayList<>();
    protected final List<Double> tArguments = new ArrayList<>();

    /** The op's name, as libnd4j would register it. */
    public abstract String opName();

    /** Shapes and types of the outputs for the current inputs and arguments. */
    public abstract List<LongShapeDescriptor> calculateOutputShape();

    /** Runs the op, allocating outputs that were not supplied; returns the outputs. */
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
        outputs.clear();
        outputs.addAll(Arrays.asList(out));
        return this;
    }

    @Override
    public String toString() {
        return opName() + "(iArgs=" + iArguments + ", tArgs=" + tArguments + ")";
    }
}
