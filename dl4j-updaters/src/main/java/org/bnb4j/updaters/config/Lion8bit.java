package org.bnb4j.updaters.config;

import lombok.Data;
import lombok.EqualsAndHashCode;
import lombok.ToString;
import org.bnb4j.optim.OptimHyper;
import org.bnb4j.optim.OptimKind;
import org.nd4j.linalg.schedule.ISchedule;

/**
 * Lion with 8-bit block-wise state (bitsandbytes' Lion8bit): update = learningRate *
 * sign(beta1 * s + (1 - beta1) * g); then s = beta2 * s + (1 - beta2) * g.
 */
@Data
@EqualsAndHashCode(callSuper = true)
@ToString(callSuper = true)
public class Lion8bit extends BlockwiseUpdaterConfig {
    public static final double DEFAULT_LEARNING_RATE = 1e-4;
    public static final double DEFAULT_BETA1 = 0.9;
    public static final double DEFAULT_BETA2 = 0.99;

    private double beta1 = DEFAULT_BETA1;
    private double beta2 = DEFAULT_BETA2;

    public Lion8bit() {
        super(DEFAULT_LEARNING_RATE);
    }

    public Lion8bit(double learningRate) {
        super(learningRate);
    }

    public Lion8bit(double learningRate, double beta1, double beta2) {
        super(learningRate);
        this.beta1 = beta1;
        this.beta2 = beta2;
        checkConstructorArguments();
    }

    public Lion8bit(ISchedule learningRateSchedule) {
        super(learningRateSchedule);
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public OptimKind kind() {
        return OptimKind.LION;
    }

    @Override
    public OptimHyper hyper(double lr, long t) {
        return OptimHyper.lion(lr, beta1, beta2);
    }

    @Override
    protected void validateHyper() {
        requireFraction("beta1", beta1);
        requireFraction("beta2", beta2);
    }

    @Override
    protected BlockwiseUpdaterConfig newInstance() {
        Lion8bit a = blank();
        a.beta1 = beta1;
        a.beta2 = beta2;
        return a;
    }

    /** A new instance of this class at its defaults (PagedLion8bit's clones stay PagedLion8bit). */
    protected Lion8bit blank() {
        return new Lion8bit();
    }

    public static final class Builder extends BaseBuilder<Lion8bit, Builder> {
        Builder() {
            super(new Lion8bit());
        }

        Builder(Lion8bit start) {
            super(start);
        }

        public Builder beta1(double v) { c.beta1 = v; return this; }
        public Builder beta2(double v) { c.beta2 = v; return this; }
    }
}
