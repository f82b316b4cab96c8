package org.bnb4j.updaters.config;

import lombok.Data;
import lombok.EqualsAndHashCode;
import lombok.ToString;
import org.bnb4j.optim.OptimHyper;
import org.bnb4j.optim.OptimKind;
import org.nd4j.linalg.schedule.ISchedule;

/**
 * RMSprop with 8-bit block-wise state (bitsandbytes' RMSprop8bit), field names as DL4J's RmsProp:
 * s = rmsDecay * s + (1 - rmsDecay) * g^2; update = learningRate * g / (sqrt(s) + epsilon), with s starting at 0
 * (bitsandbytes'; DL4J's RmsProp starts its s at epsilon, which damps the first steps of small gradients).
 * Defaults are bitsandbytes' RMSprop8bit's (learningRate 1e-2, rmsDecay = its alpha 0.99, epsilon 1e-8), not
 * DL4J's RmsProp's (0.1, 0.95); rmsDecay 0 is refused, as bitsandbytes refuses alpha 0.
 */
@Data
@EqualsAndHashCode(callSuper = true)
@ToString(callSuper = true)
public class RMSprop8bit extends BlockwiseUpdaterConfig {
    public static final double DEFAULT_LEARNING_RATE = 1e-2;
    public static final double DEFAULT_RMS_DECAY = 0.99;
    public static final double DEFAULT_EPSILON = 1e-8;

    private double rmsDecay = DEFAULT_RMS_DECAY;
    private double epsilon = DEFAULT_EPSILON;

    public RMSprop8bit() {
        super(DEFAULT_LEARNING_RATE);
    }

    public RMSprop8bit(double learningRate) {
        super(learningRate);
    }

    public RMSprop8bit(double learningRate, double rmsDecay, double epsilon) {
        super(learningRate);
        this.rmsDecay = rmsDecay;
        this.epsilon = epsilon;
        checkConstructorArguments();
    }

    public RMSprop8bit(ISchedule learningRateSchedule) {
        super(learningRateSchedule);
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public OptimKind kind() {
        return OptimKind.RMSPROP;
    }

    @Override
    public OptimHyper hyper(double lr, long t) {
        return OptimHyper.rmsprop(lr, rmsDecay, epsilon);
    }

    @Override
    protected void validateHyper() {
        // bitsandbytes: "RMSprop with alpha==0.0 is not supported" (the state would be g^2 alone)
        requireOpenFraction("rmsDecay", rmsDecay);
        requirePositive("epsilon", epsilon);
    }

    @Override
    protected BlockwiseUpdaterConfig newInstance() {
        // not the (learningRate, ...) constructor: it checks the rate, and clone() must not throw (DL4J clones per layer;
        // clone() copies the rate after this, and validate() checks it at the first step)
        RMSprop8bit c = new RMSprop8bit();
        c.rmsDecay = rmsDecay;
        c.epsilon = epsilon;
        return c;
    }

    public static final class Builder extends BaseBuilder<RMSprop8bit, Builder> {
        Builder() {
            super(new RMSprop8bit());
        }

        public Builder rmsDecay(double v) { c.rmsDecay = v; return this; }
        public Builder epsilon(double v) { c.epsilon = v; return this; }
    }
}
