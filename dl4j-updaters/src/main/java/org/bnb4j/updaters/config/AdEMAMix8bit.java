package org.bnb4j.updaters.config;

import lombok.Data;
import lombok.EqualsAndHashCode;
import lombok.ToString;
import org.bnb4j.optim.OptimHyper;
import org.bnb4j.optim.OptimKind;
import org.nd4j.linalg.schedule.ISchedule;

/**
 * AdEMAMix (Pagliardini et al. 2024) with 8-bit block-wise state (bitsandbytes' AdEMAMix8bit): Adam
 * plus a slow EMA of the gradient (beta3) mixed in with weight alpha:
 * update = learningRate * (m1 / (1 - beta1^t) + alpha * m2) / (sqrt(v) / sqrt(1 - beta2^t) + epsilon).
 * Optional schedulers as in bitsandbytes: {@code tAlpha} ramps alpha up linearly, {@code tBeta3}
 * moves beta3 from beta1 to its final value (0 disables either). Three states: 3.05 bytes/param.
 * Weight decay is DL4J's to give, on the layer ({@code .weightDecay(1e-2)}: decoupled, as bitsandbytes'
 * AdEMAMix applies its default weight_decay of 1e-2); this config adds none of its own.
 */
@Data
@EqualsAndHashCode(callSuper = true)
@ToString(callSuper = true)
public class AdEMAMix8bit extends BlockwiseUpdaterConfig {
    public static final double DEFAULT_LEARNING_RATE = 1e-3;

    private double beta1 = 0.9;
    private double beta2 = 0.999;
    private double beta3 = 0.9999;
    private double alpha = 5.0;
    private double epsilon = 1e-8;
    private long tAlpha;
    private long tBeta3;

    public AdEMAMix8bit() {
        super(DEFAULT_LEARNING_RATE);
    }

    public AdEMAMix8bit(double learningRate) {
        super(learningRate);
    }

    public AdEMAMix8bit(ISchedule learningRateSchedule) {
        super(learningRateSchedule);
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public OptimKind kind() {
        return OptimKind.ADEMAMIX;
    }

    @Override
    public OptimHyper hyper(double lr, long t) {
        return OptimHyper.ademamix(lr, beta1, beta2, beta3, alpha, epsilon, t, tAlpha, tBeta3);
    }

    @Override
    protected void validateHyper() {
        requireFraction("beta2", beta2);
        if (tBeta3 > 0) {
            // the beta3 scheduler interpolates log(beta1) and log(beta3): 0 has no logarithm (bitsandbytes fails the same way)
            requireOpenFraction("beta1 (with tBeta3)", beta1);
            requireOpenFraction("beta3 (with tBeta3)", beta3);
        } else {
            requireFraction("beta1", beta1);
            requireFraction("beta3", beta3);
        }
        requireNonNegative("alpha", alpha);
        requirePositive("epsilon", epsilon);
        if (tAlpha < 0 || tBeta3 < 0) throw new IllegalStateException("tAlpha and tBeta3 must be >= 0 (0: no scheduler)");
    }

    @Override
    protected BlockwiseUpdaterConfig newInstance() {
        AdEMAMix8bit a = blank();
        a.beta1 = beta1;
        a.beta2 = beta2;
        a.beta3 = beta3;
        a.alpha = alpha;
        a.epsilon = epsilon;
        a.tAlpha = tAlpha;
        a.tBeta3 = tBeta3;
        return a;
    }

    /** A new instance of this class at its defaults (PagedAdEMAMix8bit's clones stay PagedAdEMAMix8bit). */
    protected AdEMAMix8bit blank() {
        return new AdEMAMix8bit();
    }

    public static final class Builder extends BaseBuilder<AdEMAMix8bit, Builder> {
        Builder() {
            super(new AdEMAMix8bit());
        }

        Builder(AdEMAMix8bit start) {
            super(start);
        }

        public Builder beta1(double v) { c.beta1 = v; return this; }
        public Builder beta2(double v) { c.beta2 = v; return this; }
        public Builder beta3(double v) { c.beta3 = v; return this; }
        public Builder alpha(double v) { c.alpha = v; return this; }
        public Builder epsilon(double v) { c.epsilon = v; return this; }
        public Builder tAlpha(long v) { c.tAlpha = v; return this; }
        public Builder tBeta3(long v) { c.tBeta3 = v; return this; }
    }
}
