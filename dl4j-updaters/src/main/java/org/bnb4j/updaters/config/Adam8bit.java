package org.bnb4j.updaters.config;

import org.bnb4j.optim.OptimKind;
import org.bnb4j.optim.OptimState8bit;
import org.bnb4j.updaters.impl.Adam8bitUpdater;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.schedule.ISchedule;

import java.util.Map;
import java.util.Objects;

/**
 * Adam with 8-bit block-wise state (bitsandbytes' Adam8bit), a drop-in for DL4J's
 * {@code org.nd4j.linalg.learning.config.Adam}: same field names (learningRate, learningRateSchedule,
 * beta1, beta2, epsilon) and defaults, plus {@code blocksize} (256), {@code min8bitSize} (4096: an
 * updater block with fewer parameters keeps 32-bit state) and {@code optimBits} (8 or 32).
 * Weight decay: use DL4J's {@code WeightDecay} regularization (decoupled, as in AdamW).
 */
public class Adam8bit implements IUpdater {
    public static final double DEFAULT_LEARNING_RATE = 1e-3;
    public static final double DEFAULT_BETA1 = 0.9;
    public static final double DEFAULT_BETA2 = 0.999;
    public static final double DEFAULT_EPSILON = 1e-8;
    public static final int DEFAULT_BLOCKSIZE = 256;
    public static final int DEFAULT_MIN_8BIT_SIZE = 4096;

    private double learningRate = DEFAULT_LEARNING_RATE;
    private ISchedule learningRateSchedule;
    private double beta1 = DEFAULT_BETA1;
    private double beta2 = DEFAULT_BETA2;
    private double epsilon = DEFAULT_EPSILON;
    private int blocksize = DEFAULT_BLOCKSIZE;
    private int min8bitSize = DEFAULT_MIN_8BIT_SIZE;
    private int optimBits = 8;

    public Adam8bit() {}

    public Adam8bit(double learningRate) {
        this.learningRate = learningRate;
    }

    public Adam8bit(ISchedule learningRateSchedule) {
        this.learningRateSchedule = learningRateSchedule;
    }

    public Adam8bit(double learningRate, double beta1, double beta2, double epsilon) {
        this.learningRate = learningRate;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.epsilon = epsilon;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** True when an updater block of {@code n} parameters keeps 8-bit state. */
    public boolean uses8bit(long n) {
        return optimBits == 8 && n >= min8bitSize;
    }

    @Override
    public long stateSize(long numParams) {
        validate();
        return uses8bit(numParams) ? OptimState8bit.packedLength(OptimKind.ADAM, numParams, blocksize) : 2 * numParams;
    }

    @Override
    public GradientUpdater instantiate(INDArray viewArray, boolean initializeViewArray) {
        validate();
        Adam8bitUpdater u = new Adam8bitUpdater(this);
        u.setStateViewArray(viewArray, viewArray == null ? null : viewArray.shape(), 'c', initializeViewArray);
        return u;
    }

    @Override
    public GradientUpdater instantiate(Map<String, INDArray> state, boolean initializeStateArrays) {
        throw new UnsupportedOperationException("Adam8bit keeps its state in DL4J's updater view array; "
                + "SameDiff state maps are not supported yet");
    }

    void validate() {
        if (optimBits != 8 && optimBits != 32) throw new IllegalStateException("optimBits must be 8 or 32, got " + optimBits);
        if (blocksize < 64 || blocksize > 4096 || Integer.bitCount(blocksize) != 1) {
            throw new IllegalStateException("blocksize must be a power of two between 64 and 4096, got " + blocksize);
        }
        if (beta1 < 0 || beta1 >= 1 || beta2 < 0 || beta2 >= 1) {
            throw new IllegalStateException("beta1 and beta2 must be in [0, 1), got " + beta1 + ", " + beta2);
        }
        if (!(epsilon > 0)) throw new IllegalStateException("epsilon must be > 0, got " + epsilon);
    }

    @Override
    public Adam8bit clone() {
        Adam8bit c = new Adam8bit(learningRate, beta1, beta2, epsilon);
        c.learningRateSchedule = learningRateSchedule == null ? null : learningRateSchedule.clone();
        c.blocksize = blocksize;
        c.min8bitSize = min8bitSize;
        c.optimBits = optimBits;
        return c;
    }

    @Override
    public double getLearningRate(int iteration, int epoch) {
        return learningRateSchedule != null ? learningRateSchedule.valueAt(iteration, epoch) : learningRate;
    }

    @Override
    public boolean hasLearningRate() {
        return true;
    }

    @Override
    public void setLrAndSchedule(double lr, ISchedule lrSchedule) {
        this.learningRate = lr;
        this.learningRateSchedule = lrSchedule;
    }

    public double getLearningRate() { return learningRate; }
    public void setLearningRate(double learningRate) { this.learningRate = learningRate; }
    public ISchedule getLearningRateSchedule() { return learningRateSchedule; }
    public void setLearningRateSchedule(ISchedule s) { this.learningRateSchedule = s; }
    public double getBeta1() { return beta1; }
    public void setBeta1(double beta1) { this.beta1 = beta1; }
    public double getBeta2() { return beta2; }
    public void setBeta2(double beta2) { this.beta2 = beta2; }
    public double getEpsilon() { return epsilon; }
    public void setEpsilon(double epsilon) { this.epsilon = epsilon; }
    public int getBlocksize() { return blocksize; }
    public void setBlocksize(int blocksize) { this.blocksize = blocksize; }
    public int getMin8bitSize() { return min8bitSize; }
    public void setMin8bitSize(int min8bitSize) { this.min8bitSize = min8bitSize; }
    public int getOptimBits() { return optimBits; }
    public void setOptimBits(int optimBits) { this.optimBits = optimBits; }

    @Override
    public boolean equals(Object o) {
        if (this == o) return true;
        if (!(o instanceof Adam8bit)) return false;
        Adam8bit a = (Adam8bit) o;
        return Double.compare(learningRate, a.learningRate) == 0 && Double.compare(beta1, a.beta1) == 0
                && Double.compare(beta2, a.beta2) == 0 && Double.compare(epsilon, a.epsilon) == 0
                && blocksize == a.blocksize && min8bitSize == a.min8bitSize && optimBits == a.optimBits
                && Objects.equals(learningRateSchedule, a.learningRateSchedule);
    }

    @Override
    public int hashCode() {
        return Objects.hash(learningRate, learningRateSchedule, beta1, beta2, epsilon, blocksize, min8bitSize, optimBits);
    }

    @Override
    public String toString() {
        return "Adam8bit(learningRate=" + learningRate + ", learningRateSchedule=" + learningRateSchedule + ", beta1=" + beta1
                + ", beta2=" + beta2 + ", epsilon=" + epsilon + ", blocksize=" + blocksize + ", min8bitSize=" + min8bitSize
                + ", optimBits=" + optimBits + ")";
    }

    /** Builder with DL4J's field names. */
    public static final class Builder {
        private final Adam8bit a = new Adam8bit();

        public Builder learningRate(double v) { a.learningRate = v; return this; }
        public Builder learningRateSchedule(ISchedule v) { a.learningRateSchedule = v; return this; }
        public Builder beta1(double v) { a.beta1 = v; return this; }
        public Builder beta2(double v) { a.beta2 = v; return this; }
        public Builder epsilon(double v) { a.epsilon = v; return this; }
        public Builder blocksize(int v) { a.blocksize = v; return this; }
        public Builder min8bitSize(int v) { a.min8bitSize = v; return this; }
        public Builder optimBits(int v) { a.optimBits = v; return this; }

        public Adam8bit build() {
            a.validate();
            return a.clone();
        }
    }
}
