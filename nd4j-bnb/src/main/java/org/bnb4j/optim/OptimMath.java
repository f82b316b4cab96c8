package org.bnb4j.optim;

/** The per-element update rules (bitsandbytes' kernels), in float, in the native library's order. */
final class OptimMath {
    private OptimMath() {}

    /** Returns the update; s[0] (and s[1]) hold the states and are advanced. Non-finite g resets them. */
    static float update(OptimHyper h, float g, float[] s) {
        if (!Float.isFinite(g)) {
            s[0] = 0f;
            s[1] = 0f;
            return 0f;
        }
        switch (h.kind) {
            case ADAM: {
                float m = h.beta1 * s[0] + h.oneMinusBeta1 * g;
                float v = h.beta2 * s[1] + h.oneMinusBeta2 * (g * g);
                s[0] = m;
                s[1] = v;
                return h.stepSize * (m / ((float) Math.sqrt(v) + h.epsHat));
            }
            case MOMENTUM: {
                float st = h.firstStep ? g : h.beta1 * s[0] + g;
                s[0] = st;
                return h.lr * st;
            }
            case RMSPROP: {
                float st = h.beta1 * s[0] + h.oneMinusBeta1 * (g * g);
                s[0] = st;
                return h.lr * (g / ((float) Math.sqrt(st) + h.eps));
            }
            case ADAGRAD: {
                float st = s[0] + g * g;
                s[0] = st;
                return h.lr * (g / ((float) Math.sqrt(st) + h.eps));
            }
            default: { // LION
                float c = h.beta1 * s[0] + h.oneMinusBeta1 * g;
                s[0] = h.beta2 * s[0] + h.oneMinusBeta2 * g;
                return c > 0f ? h.lr : c < 0f ? -h.lr : 0f;
            }
        }
    }
}
