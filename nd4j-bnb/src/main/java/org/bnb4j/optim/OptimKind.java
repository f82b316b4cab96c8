package org.bnb4j.optim;

import java.util.List;

/**
 * The fused optimizer steps; the codes match the native library's {@code bnb_optim}. Each kind also
 * has a {@link #persistentId()}, fixed forever: saved 8-bit states are tagged with it, so the order
 * of these constants (and the native codes) may change without invalidating checkpoints.
 */
public enum OptimKind {
    /** Two states: m (signed map) and v (unsigned map). */
    ADAM(0, 0, StateSpec.signed("m"), StateSpec.unsigned("v")),
    /** SGD with momentum: s = (t == 1) ? g : beta1 * s + g; update = lr * s. */
    MOMENTUM(1, 1, StateSpec.signed("momentum")),
    /**
     * s = beta1 * s + (1 - beta1) * g^2; update = lr * g / (sqrt(s) + eps). Its non-negative state (and
     * Adagrad's) is on the signed map, as in bitsandbytes' 1-state optimizers: saved states depend on it.
     */
    RMSPROP(2, 2, StateSpec.signed("v")),
    /** s = s + g^2; update = lr * g / (sqrt(s) + eps). */
    ADAGRAD(3, 3, StateSpec.signed("sum")),
    /** update = lr * sign(beta1 * s + (1 - beta1) * g); s = beta2 * s + (1 - beta2) * g. */
    LION(4, 4, StateSpec.signed("m")),
    /**
     * AdEMAMix: fast EMA m1 (beta1), slow EMA m2 (beta3), v (beta2); update = lr * (m1 / (1 - beta1^t)
     * + alpha * m2) / (sqrt(v) / sqrt(1 - beta2^t) + eps). States: m1, v, m2.
     */
    ADEMAMIX(5, 5, StateSpec.signed("m1"), StateSpec.unsigned("v"), StateSpec.signed("m2"));

    final int code;
    private final int persistentId;
    private final List<StateSpec> states;

    OptimKind(int code, int persistentId, StateSpec... states) {
        this.code = code;
        this.persistentId = persistentId;
        this.states = List.of(states);
    }

    /** The states this optimizer keeps, in the order every kernel, view and saved file holds them. */
    public List<StateSpec> states() {
        return states;
    }

    /** State s (0-based). */
    public StateSpec state(int s) {
        return states.get(s);
    }

    /** The number saved states are tagged with: never reused, never changed (golden checkpoints pin it). */
    public int persistentId() {
        return persistentId;
    }

    public int numStates() {
        return states.size();
    }
}
