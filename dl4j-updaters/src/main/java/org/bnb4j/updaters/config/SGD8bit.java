package org.bnb4j.updaters.config;

import lombok.Data;
import lombok.EqualsAndHashCode;
import lombok.ToString;
import org.bnb4j.optim.OptimHyper;
import org.bnb4j.optim.OptimKind;
import org.nd4j.linalg.schedule.ISchedule;

/**
 * SGD with momentum and 8-bit block-wise momentum state (bitsandbytes' SGD8bit): s = g on the first
 * step, then s = momentum * s + g; update = learningRate * s. Classic (heavy-ball) momentum, not
 * DL4J's Nesterovs; weight decay through DL4J's L2/WeightDecay regularization. momentum must be in (0, 1):
 * bitsandbytes refuses SGD without momentum (there is no state to keep; DL4J's Sgd is that updater).
 * bitsandbytes has no default learning rate; this config's is 1e-2.
 */
@Data
@EqualsAndHashCode(callSuper = true)
@ToString(callSuper = true)
public class SGD8bit extends BlockwiseUpdaterConfig {
    public static final double DEFAULT_LEARNING_RATE = 1e-2;
    public static final double DEFAULT_MOMENTUM = 0.9;

    private double momentum = DEFAULT_MOMENTUM;

    public SGD8bit() {
        super(DEFAULT_LEARNING_RATE);
    }

    public SGD8bit(double learningRate) {
        super(learningRate);
    }

    public SGD8bit(double learningRate, double momentum) {
        super(learningRate);
        this.momentum = momentum;
        checkConstructorArguments();
    }

    public SGD8bit(ISchedule learningRateSchedule) {
        super(learningRateSchedule);
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public OptimKind kind() {
        return OptimKind.MOMENTUM;
    }

    @Override
    public OptimHyper hyper(double lr, long t) {
        return OptimHyper.momentum(lr, momentum, t);
    }

    @Override
    protected void validateHyper() {
        String problem = org.bnb4j.optim.HyperRanges.openFraction("momentum", momentum);
        if (problem != null) {
            throw new IllegalStateException(problem
                    + (momentum == 0 ? ": SGD without momentum keeps no state (as bitsandbytes' SGD8bit, this config refuses it); use DL4J's Sgd" : ""));
        }
    }

    @Override
    protected BlockwiseUpdaterConfig newInstance() {
        // not the (learningRate, ...) constructor: it checks the rate, and clone() must not throw (DL4J clones per layer;
        // clone() copies the rate after this, and validate() checks it at the first step)
        SGD8bit c = new SGD8bit();
        c.momentum = momentum;
        return c;
    }

    public static final class Builder extends BaseBuilder<SGD8bit, Builder> {
        Builder() {
            super(new SGD8bit());
        }

        public Builder momentum(double v) { c.momentum = v; return this; }
    }
}
