package org.bnb4j.optim;

/**
 * The fused optimizer steps; the codes match the native library's {@code bnb_optim}. Each kind also
 * has a {@link #persistentId()}, fixed forever: saved 8-bit states are tagged with it, so the order
 * of these constants (and the native codes) may change without invalidating checkpoints.
 */
public enum OptimKind {
    /** Two states: m (signed map) and v (unsigned map). */
    ADAM(0, 2, 0),
    /** SGD with momentum: s = (t == 1) ? g : beta1 * s + g; update = lr * s. */
    MOMENTUM(1, 1, 1),
    /** s = beta1 * s + (1 - beta1) * g^2; update = lr * g / (sqrt(s) + eps). */
    RMSPROP(2, 1, 2),
    /** s = s + g^2; update = lr * g / (sqrt(s) + eps). */
    ADAGRAD(3, 1, 3),
    /** update = lr * sign(beta1 * s + (1 - beta1) * g); s = beta2 * s + (1 - beta2) * g. */
    LION(4, 1, 4),
    /**
     * AdEMAMix: fast EMA m1 (beta1), slow EMA m2 (beta3), v (beta2); update = lr * (m1 / (1 - beta1^t)
     * + alpha * m2) / (sqrt(v) / sqrt(1 - beta2^t) + eps). States: m1, v, m2.
     */
    ADEMAMIX(5, 3, 5);

    final int code;
    private final int states;
    private final int persistentId;

    OptimKind(int code, int states, int persistentId) {
        this.code = code;
        this.states = states;
        this.persistentId = persistentId;
    }

    /** The number saved states are tagged with: never reused, never changed (golden checkpoints pin it). */
    public int persistentId() {
        return persistentId;
    }

    public int numStates() {
        return states;
    }
}
