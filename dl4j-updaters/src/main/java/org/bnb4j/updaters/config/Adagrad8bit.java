package org.bnb4j.updaters.config;

import lombok.Data;
import lombok.EqualsAndHashCode;
import lombok.ToString;
import org.bnb4j.optim.OptimHyper;
import org.bnb4j.optim.OptimKind;
import org.nd4j.linalg.schedule.ISchedule;

/**
 * Adagrad with 8-bit block-wise state (bitsandbytes' Adagrad8bit), field names as DL4J's AdaGrad:
 * s = s + g^2; update = learningRate * g / (sqrt(s) + epsilon), with s starting at 0 (bitsandbytes'; DL4J's
 * AdaGrad starts its s at epsilon, which damps the first steps of small gradients). Defaults are bitsandbytes'
 * Adagrad8bit's (learningRate 1e-2, epsilon 1e-10), not DL4J's AdaGrad's (0.1, 1e-6).
 */
@Data
@EqualsAndHashCode(callSuper = true)
@ToString(callSuper = true)
public class Adagrad8bit extends BlockwiseUpdaterConfig {
    public static final double DEFAULT_LEARNING_RATE = 1e-2;
    public static final double DEFAULT_EPSILON = 1e-10;

    private double epsilon = DEFAULT_EPSILON;

    public Adagrad8bit() {
        super(DEFAULT_LEARNING_RATE);
    }

    public Adagrad8bit(double learningRate) {
        super(learningRate);
    }

    public Adagrad8bit(double learningRate, double epsilon) {
        super(learningRate);
        this.epsilon = epsilon;
        checkConstructorArguments();
    }

    public Adagrad8bit(ISchedule learningRateSchedule) {
        super(learningRateSchedule);
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public OptimKind kind() {
        return OptimKind.ADAGRAD;
    }

    @Override
    public OptimHyper hyper(double lr, long t) {
        return OptimHyper.adagrad(lr, epsilon);
    }

    @Override
    protected void validateHyper() {
        requirePositive("epsilon", epsilon);
    }

    @Override
    protected BlockwiseUpdaterConfig newInstance() {
        // not the (learningRate, ...) constructor: it checks the rate, and clone() must not throw (DL4J clones per layer;
        // clone() copies the rate after this, and validate() checks it at the first step)
        Adagrad8bit c = new Adagrad8bit();
        c.epsilon = epsilon;
        return c;
    }

    public static final class Builder extends BaseBuilder<Adagrad8bit, Builder> {
        Builder() {
            super(new Adagrad8bit());
        }

        public Builder epsilon(double v) { c.epsilon = v; return this; }
    }
}
