package org.bnb4j.optim;

/** The per-element update rules (bitsandbytes' kernels), in float, in the native library's order. */
final class OptimMath {
    private OptimMath() {}

    /** The moment bound (native clamp_moment): min then max in SSE operand order, so NaN passes unchanged. */
    static float clamp(float m, float lim) {
        m = lim < m ? lim : m;
        return -lim > m ? -lim : m;
    }

    /** Returns the update; s[0..numStates) hold the states and are advanced. Non-finite g resets them. */
    static float update(OptimHyper h, float g, float[] s) {
        if (!Float.isFinite(g)) {
            java.util.Arrays.fill(s, 0f);
            return 0f;
        }
        // a switch expression: a kind without its case does not compile
        return switch (h.kind) {
            case ADEMAMIX -> {
                float v = h.beta2 * s[1] + h.oneMinusBeta2 * (g * g);
                float sv = (float) Math.sqrt(v);
                float m1 = clamp(h.beta1 * s[0] + h.oneMinusBeta1 * g, h.ratio1 * sv);
                float m2 = clamp(h.beta3 * s[2] + h.oneMinusBeta3 * g, h.ratio3 * sv);
                s[0] = m1;
                s[1] = v;
                s[2] = m2;
                yield h.lr * ((m1 / h.biasCorrection1 + h.alpha * m2) / (sv / h.sqrtBiasCorrection2 + h.eps));
            }
            case ADAM -> {
                float v = h.beta2 * s[1] + h.oneMinusBeta2 * (g * g);
                float sv = (float) Math.sqrt(v);
                float m = clamp(h.beta1 * s[0] + h.oneMinusBeta1 * g, h.ratio1 * sv);
                s[0] = m;
                s[1] = v;
                yield h.stepSize * (m / (sv + h.epsHat));
            }
            case MOMENTUM -> {
                float st = h.firstStep ? g : h.beta1 * s[0] + g;
                s[0] = st;
                yield h.lr * st;
            }
            case RMSPROP -> {
                float st = h.beta1 * s[0] + h.oneMinusBeta1 * (g * g);
                s[0] = st;
                yield h.lr * (g / ((float) Math.sqrt(st) + h.eps));
            }
            case ADAGRAD -> {
                float st = s[0] + g * g;
                s[0] = st;
                yield h.lr * (g / ((float) Math.sqrt(st) + h.eps));
            }
            case LION -> {
                float c = h.beta1 * s[0] + h.oneMinusBeta1 * g;
                s[0] = h.beta2 * s[0] + h.oneMinusBeta2 * g;
                yield c > 0f ? h.lr : c < 0f ? -h.lr : 0f;
            }
        };
    }
}
