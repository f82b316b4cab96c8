package org.bnb4j.updaters.config;

import lombok.Data;
import lombok.EqualsAndHashCode;
import lombok.ToString;
import org.bnb4j.optim.OptimHyper;
import org.bnb4j.optim.OptimKind;
import org.nd4j.linalg.schedule.ISchedule;

/**
 * Adam with 8-bit block-wise state (bitsandbytes' Adam8bit), a drop-in for DL4J's
 * {@code org.nd4j.linalg.learning.config.Adam}: same field names (learningRate, learningRateSchedule,
 * beta1, beta2, epsilon) and defaults. Weight decay: use DL4J's {@code WeightDecay} regularization
 * (decoupled, as in AdamW). {@code optimBits(32)} gives the 32-bit twin.
 *
 * <p>One difference in the math: epsilon is added to the bias-corrected root, as bitsandbytes and
 * PyTorch add it ({@code m_hat / (sqrt(v_hat) + epsilon)}); DL4J's Adam adds it before the correction
 * ({@code sqrt(v) + epsilon}), which is epsilon / sqrt(1 - beta2^t) on the corrected root: 31.6x
 * epsilon at the first step with beta2 0.999, epsilon itself after a few thousand steps. The two differ
 * only where sqrt(v_hat) is within a few orders of magnitude of epsilon (gradients near 1e-7 with the
 * default 1e-8).
 */
@Data
@EqualsAndHashCode(callSuper = true)
@ToString(callSuper = true)
public class Adam8bit extends BlockwiseUpdaterConfig {
    public static final double DEFAULT_LEARNING_RATE = 1e-3;
    public static final double DEFAULT_BETA1 = 0.9;
    public static final double DEFAULT_BETA2 = 0.999;
    public static final double DEFAULT_EPSILON = 1e-8;

    private double beta1 = DEFAULT_BETA1;
    private double beta2 = DEFAULT_BETA2;
    private double epsilon = DEFAULT_EPSILON;

    public Adam8bit() {
        super(DEFAULT_LEARNING_RATE);
    }

    public Adam8bit(double learningRate) {
        super(learningRate);
    }

    public Adam8bit(ISchedule learningRateSchedule) {
        super(learningRateSchedule);
    }

    public Adam8bit(double learningRate, double beta1, double beta2, double epsilon) {
        super(learningRate);
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.epsilon = epsilon;
        checkConstructorArguments();
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public OptimKind kind() {
        return OptimKind.ADAM;
    }

    @Override
    public OptimHyper hyper(double lr, long t) {
        return OptimHyper.adam(lr, beta1, beta2, epsilon, t);
    }

    @Override
    protected void validateHyper() {
        requireFraction("beta1", beta1);
        requireFraction("beta2", beta2);
        requirePositive("epsilon", epsilon);
    }

    @Override
    protected BlockwiseUpdaterConfig newInstance() {
        Adam8bit a = blank();
        a.beta1 = beta1;
        a.beta2 = beta2;
        a.epsilon = epsilon;
        return a;
    }

    /** A new instance of this class at its defaults (PagedAdam8bit's clones stay PagedAdam8bit). */
    protected Adam8bit blank() {
        return new Adam8bit();
    }

    public static final class Builder extends BaseBuilder<Adam8bit, Builder> {
        Builder() {
            super(new Adam8bit());
        }

        Builder(Adam8bit start) {
            super(start);
        }

        public Builder beta1(double v) { c.beta1 = v; return this; }
        public Builder beta2(double v) { c.beta2 = v; return this; }
        public Builder epsilon(double v) { c.epsilon = v; return this; }
    }
}
