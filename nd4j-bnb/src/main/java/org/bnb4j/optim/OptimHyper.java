package org.bnb4j.optim;

/**
 * The float hyper-parameters of one step, computed once per step in double and rounded to float,
 * so that the Java and native kernels see identical values (bias corrections included); only
 * 1 - beta is taken in float from the float beta, as bitsandbytes' and DL4J's kernels compute it. Made by the
 * factories of the built-in optimizers ({@link #adam}, ...) or, for any optimizer, by {@link #builder}.
 */
public final class OptimHyper {
    // Read-only fields, public for the kernels in org.bnb4j.internal.optim (a value object, set once).
    public final OptimKind kind;
    public final float lr, beta1, beta2, eps, stepSize, epsHat, oneMinusBeta1, oneMinusBeta2;
    public final float beta3, oneMinusBeta3, alpha, biasCorrection1, sqrtBiasCorrection2; // AdEMAMix
    /** Adam, AdEMAMix: moment bounds |m1| <= ratio1 sqrt(v), |m2| <= ratio3 sqrt(v) (+inf: none); see {@link UpdateBound}. */
    public final float ratio1, ratio3;
    public final boolean firstStep;

    private OptimHyper(OptimKind kind, double lr, double beta1, double beta2, double eps, double stepSize, double epsHat,
                       boolean firstStep, double beta3, double alpha, double c1, double sqrtC2, double ratio1, double ratio3) {
        this.kind = kind;
        this.lr = (float) lr;
        this.beta1 = (float) beta1;
        this.beta2 = (float) beta2;
        this.eps = (float) eps;
        this.stepSize = (float) stepSize;
        this.epsHat = (float) epsHat;
        this.oneMinusBeta1 = 1f - (float) beta1;
        this.oneMinusBeta2 = 1f - (float) beta2;
        this.firstStep = firstStep;
        this.beta3 = (float) beta3;
        this.oneMinusBeta3 = 1f - (float) beta3;
        this.alpha = (float) alpha;
        this.biasCorrection1 = (float) c1;
        this.sqrtBiasCorrection2 = (float) sqrtC2;
        this.ratio1 = UpdateBound.cap(ratio1);
        this.ratio3 = UpdateBound.cap(ratio3);
    }

    private OptimHyper(OptimHyper h, float ratio1, float ratio3) {
        this.kind = h.kind;
        this.lr = h.lr;
        this.beta1 = h.beta1;
        this.beta2 = h.beta2;
        this.eps = h.eps;
        this.stepSize = h.stepSize;
        this.epsHat = h.epsHat;
        this.oneMinusBeta1 = h.oneMinusBeta1;
        this.oneMinusBeta2 = h.oneMinusBeta2;
        this.firstStep = h.firstStep;
        this.beta3 = h.beta3;
        this.oneMinusBeta3 = h.oneMinusBeta3;
        this.alpha = h.alpha;
        this.biasCorrection1 = h.biasCorrection1;
        this.sqrtBiasCorrection2 = h.sqrtBiasCorrection2;
        this.ratio1 = ratio1;
        this.ratio3 = ratio3;
    }

    /** The same step without the moment bounds (the plain bitsandbytes rule). */
    public OptimHyper withoutUpdateBound() {
        return new OptimHyper(this, Float.POSITIVE_INFINITY, Float.POSITIVE_INFINITY);
    }

    /** The learning rate of this step (as rounded to float for the kernels). */
    public float learningRate() {
        return lr;
    }

    /** The bound on |m| / sqrt(v) the step enforces for Adam's m and AdEMAMix's m1 (slack included; +inf: none). */
    public float momentBound() {
        return ratio1;
    }

    /** AdEMAMix's bound on |m2| / sqrt(v) (slack included; +inf: none). */
    public float slowMomentBound() {
        return ratio3;
    }

    /**
     * Adam at step t (1-based): update = lr * sqrt(1-b2^t)/(1-b1^t) * m / (sqrt(v) + eps * sqrt(1-b2^t)),
     * with m clamped to +-{@link UpdateBound#adamRatio} * sqrt(v) (1% slack) first: a bound that exact
     * 32-bit Adam always satisfies (Cauchy-Schwarz), so the clamp only acts where a decoded 8-bit v has
     * lost the mass of the m it belongs to (v of code 0 under a large block scale); the clamped m is
     * what is stored, so a stale momentum does not outlive it.
     */
    public static OptimHyper adam(double lr, double beta1, double beta2, double eps, long t) {
        checkStep(t);
        check(HyperRanges.learningRate("lr", lr), HyperRanges.fraction("beta1", beta1), HyperRanges.fraction("beta2", beta2),
                HyperRanges.positive("eps", eps));
        double c1 = 1 - Math.pow(beta1, t), c2 = Math.sqrt(1 - Math.pow(beta2, t));
        if (Float.isInfinite((float) (lr * c2 / c1))) {
            throw new IllegalArgumentException("lr " + lr + " times the bias correction sqrt(1 - beta2^t) / (1 - beta1^t) = "
                    + c2 / c1 + " at step " + t + " overflows float");
        }
        return builder(OptimKind.ADAM).learningRate(lr).beta1(beta1).beta2(beta2).eps(eps)
                .stepSize(lr * c2 / c1).epsHat(eps * c2).firstStep(t == 1)
                .momentBound(UpdateBound.adamRatio(beta1, beta2, t)).build();
    }

    /**
     * AdEMAMix at step t (1-based) with bitsandbytes' schedulers: with tAlpha > 0, alpha ramps up
     * linearly as min(t * alpha / tAlpha, alpha); with tBeta3 > 0, beta3 follows
     * min(exp(ln b1 ln b3 / ((1 - t/tBeta3) ln b3 + (t/tBeta3) ln b1)), b3). 0 disables a scheduler.
     */
    public static OptimHyper ademamix(double lr, double beta1, double beta2, double beta3, double alpha, double eps,
                                      long t, long tAlpha, long tBeta3) {
        checkStep(t);
        // the beta3 scheduler interpolates log(beta1) and log(beta3): 0 has no logarithm
        check(HyperRanges.learningRate("lr", lr),
                tBeta3 > 0 ? HyperRanges.openFraction("beta1 (with tBeta3)", beta1) : HyperRanges.fraction("beta1", beta1),
                HyperRanges.fraction("beta2", beta2),
                tBeta3 > 0 ? HyperRanges.openFraction("beta3 (with tBeta3)", beta3) : HyperRanges.fraction("beta3", beta3),
                HyperRanges.nonNegative("alpha", alpha), HyperRanges.positive("eps", eps),
                tAlpha < 0 || tBeta3 < 0 ? "tAlpha and tBeta3 must be >= 0 (0: no scheduler), got " + tAlpha + " and " + tBeta3 : null);
        double alphaT = tAlpha > 0 ? Math.min(t * alpha / tAlpha, alpha) : alpha;
        double beta3T = beta3;
        if (tBeta3 > 0) {
            double lnB1 = Math.log(beta1), lnB3 = Math.log(beta3), scale = (double) t / tBeta3;
            beta3T = Math.min(Math.exp((lnB1 * lnB3) / ((1 - scale) * lnB3 + scale * lnB1)), beta3);
        }
        double c1 = 1 - Math.pow(beta1, t), sqrtC2 = Math.sqrt(1 - Math.pow(beta2, t));
        // m1 is bounded as Adam's m. m2's weights: a scheduled beta3 runs from min(beta1, beta3) up to
        // beta3, so each new-gradient weight is at most 1 - min(beta1, beta3) and each decay at most beta3.
        double m2Weight = tBeta3 > 0 ? Math.min(beta1, beta3) : beta3;
        return builder(OptimKind.ADEMAMIX).learningRate(lr).beta1(beta1).beta2(beta2).eps(eps).firstStep(t == 1)
                .beta3(beta3T).alpha(alphaT).biasCorrection1(c1).sqrtBiasCorrection2(sqrtC2)
                .momentBound(UpdateBound.adamRatio(beta1, beta2, t))
                .slowMomentBound(UpdateBound.emaRatio(m2Weight, beta3, beta2, t)).build();
    }

    public static OptimHyper momentum(double lr, double momentum, long t) {
        checkStep(t);
        check(HyperRanges.learningRate("lr", lr), HyperRanges.closedFraction("momentum", momentum));
        return builder(OptimKind.MOMENTUM).learningRate(lr).beta1(momentum).firstStep(t == 1).build();
    }

    public static OptimHyper rmsprop(double lr, double decay, double eps) {
        check(HyperRanges.learningRate("lr", lr), HyperRanges.fraction("decay", decay), HyperRanges.positive("eps", eps));
        return builder(OptimKind.RMSPROP).learningRate(lr).beta1(decay).eps(eps).build();
    }

    public static OptimHyper adagrad(double lr, double eps) {
        check(HyperRanges.learningRate("lr", lr), HyperRanges.positive("eps", eps));
        return builder(OptimKind.ADAGRAD).learningRate(lr).eps(eps).build();
    }

    public static OptimHyper lion(double lr, double beta1, double beta2) {
        check(HyperRanges.learningRate("lr", lr), HyperRanges.fraction("beta1", beta1), HyperRanges.fraction("beta2", beta2));
        return builder(OptimKind.LION).learningRate(lr).beta1(beta1).beta2(beta2).build();
    }

    /**
     * The hyper-parameters of one step of {@code kind}, field by field: how an optimizer's config
     * builds them without a factory here. Every value is given in double and rounded to float once
     * (1 - beta1, 1 - beta2 and 1 - beta3 are then computed in float, from the rounded betas). Unset values: 0 for lr,
     * betas, eps, alpha; 1 for the bias corrections; stepSize = lr; epsHat = eps; no moment bounds;
     * not the first step.
     */
    public static Builder builder(OptimKind kind) {
        return new Builder(kind);
    }

    /** See {@link #builder}. What each value means is up to the optimizer's rule ({@link OptimKind}). */
    public static final class Builder {
        private final OptimKind kind;
        private double lr, beta1, beta2, eps, beta3, alpha, biasCorrection1 = 1, sqrtBiasCorrection2 = 1;
        private double momentBound = Double.POSITIVE_INFINITY, slowMomentBound = Double.POSITIVE_INFINITY;
        private Double stepSize, epsHat;
        private boolean firstStep;

        private Builder(OptimKind kind) {
            if (kind == null) throw new IllegalArgumentException("kind is null");
            this.kind = kind;
        }

        public Builder learningRate(double v) { lr = v; return this; }
        public Builder beta1(double v) { beta1 = v; return this; }
        public Builder beta2(double v) { beta2 = v; return this; }
        public Builder beta3(double v) { beta3 = v; return this; }
        public Builder eps(double v) { eps = v; return this; }
        public Builder alpha(double v) { alpha = v; return this; }
        /** The factor of the update where the rule folds bias corrections into it (Adam); default: the learning rate. */
        public Builder stepSize(double v) { stepSize = v; return this; }
        /** The epsilon as the rule adds it (Adam: eps * sqrt(1 - beta2^t)); default: eps. */
        public Builder epsHat(double v) { epsHat = v; return this; }
        /** 1 - beta1^t (default 1). */
        public Builder biasCorrection1(double v) { biasCorrection1 = v; return this; }
        /** sqrt(1 - beta2^t) (default 1). */
        public Builder sqrtBiasCorrection2(double v) { sqrtBiasCorrection2 = v; return this; }
        /** The exact bound on |first moment| / sqrt(v) ({@link UpdateBound}; the slack is added here); +inf: none. */
        public Builder momentBound(double exactBound) { momentBound = exactBound; return this; }
        /** The exact bound on |second EMA| / sqrt(v) (AdEMAMix's m2); +inf: none. */
        public Builder slowMomentBound(double exactBound) { slowMomentBound = exactBound; return this; }
        /** Whether this is step 1 (momentum starts from the gradient itself). */
        public Builder firstStep(boolean v) { firstStep = v; return this; }

        public OptimHyper build() {
            return new OptimHyper(kind, lr, beta1, beta2, eps, stepSize != null ? stepSize : lr, epsHat != null ? epsHat : eps,
                    firstStep, beta3, alpha, biasCorrection1, sqrtBiasCorrection2, momentBound, slowMomentBound);
        }
    }

    /** Throws the first of the range checks' messages (HyperRanges: null where a value is in range). */
    private static void check(String... problems) {
        for (String p : problems) if (p != null) throw new IllegalArgumentException(p);
    }

    private static void checkStep(long t) {
        if (t < 1) throw new IllegalArgumentException("optimizer step count starts at 1, got " + t);
    }

    public OptimKind kind() {
        return kind;
    }

    // Word offsets of bnb4j.h's struct bnb_optim_hyper (jni_bridge.cpp asserts each one against the struct).
    public static final int W_SIZE = 0, W_KIND = 1, W_FIRST_STEP = 2, W_LR = 3, W_BETA1 = 4, W_BETA2 = 5, W_EPS = 6,
            W_STEP_SIZE = 7, W_EPS_HAT = 8, W_ONE_MINUS_BETA1 = 9, W_ONE_MINUS_BETA2 = 10, W_BETA3 = 11,
            W_ONE_MINUS_BETA3 = 12, W_ALPHA = 13, W_BIAS_CORRECTION1 = 14, W_SQRT_BIAS_CORRECTION2 = 15, W_RATIO1 = 16,
            W_RATIO3 = 17;
    /** Words of struct bnb_optim_hyper; its size field holds 4 * WORDS bytes. */
    public static final int WORDS = 18;

    /**
     * This step as the words of the native {@code struct bnb_optim_hyper} (bnb4j.h): uint32 size (bytes),
     * int32 kind (the optimizer's code), int32 first_step (t == 1), then the floats as raw bits at their
     * W_* offsets. The native entry points reject another size.
     */
    public int[] toWords() {
        int[] w = new int[WORDS];
        w[W_SIZE] = 4 * WORDS;
        w[W_KIND] = kind.code;
        w[W_FIRST_STEP] = firstStep ? 1 : 0;
        w[W_LR] = Float.floatToRawIntBits(lr);
        w[W_BETA1] = Float.floatToRawIntBits(beta1);
        w[W_BETA2] = Float.floatToRawIntBits(beta2);
        w[W_EPS] = Float.floatToRawIntBits(eps);
        w[W_STEP_SIZE] = Float.floatToRawIntBits(stepSize);
        w[W_EPS_HAT] = Float.floatToRawIntBits(epsHat);
        w[W_ONE_MINUS_BETA1] = Float.floatToRawIntBits(oneMinusBeta1);
        w[W_ONE_MINUS_BETA2] = Float.floatToRawIntBits(oneMinusBeta2);
        w[W_BETA3] = Float.floatToRawIntBits(beta3);
        w[W_ONE_MINUS_BETA3] = Float.floatToRawIntBits(oneMinusBeta3);
        w[W_ALPHA] = Float.floatToRawIntBits(alpha);
        w[W_BIAS_CORRECTION1] = Float.floatToRawIntBits(biasCorrection1);
        w[W_SQRT_BIAS_CORRECTION2] = Float.floatToRawIntBits(sqrtBiasCorrection2);
        w[W_RATIO1] = Float.floatToRawIntBits(ratio1);
        w[W_RATIO3] = Float.floatToRawIntBits(ratio3);
        return w;
    }
}
