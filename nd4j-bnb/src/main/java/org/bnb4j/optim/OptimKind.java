package org.bnb4j.optim;

/** The fused optimizer steps; the codes match the native library's {@code bnb_optim}. */
public enum OptimKind {
    /** Two states: m (signed map) and v (unsigned map). */
    ADAM(0, 2),
    /** SGD with momentum: s = (t == 1) ? g : beta1 * s + g; update = lr * s. */
    MOMENTUM(1, 1),
    /** s = beta1 * s + (1 - beta1) * g^2; update = lr * g / (sqrt(s) + eps). */
    RMSPROP(2, 1),
    /** s = s + g^2; update = lr * g / (sqrt(s) + eps). */
    ADAGRAD(3, 1),
    /** update = lr * sign(beta1 * s + (1 - beta1) * g); s = beta2 * s + (1 - beta2) * g. */
    LION(4, 1),
    /**
     * AdEMAMix: fast EMA m1 (beta1), slow EMA m2 (beta3), v (beta2); update = lr * (m1 / (1 - beta1^t)
     * + alpha * m2) / (sqrt(v) / sqrt(1 - beta2^t) + eps). States: m1, v, m2.
     */
    ADEMAMIX(5, 3);

    final int code;
    private final int states;

    OptimKind(int code, int states) {
        this.code = code;
        this.states = states;
    }

    public int numStates() {
        return states;
    }
}
