package org.bnb4j.optim;

import java.util.List;

import static org.bnb4j.optim.OptimMath.clamp;

/**
 * The fused optimizer steps, each declared once on the Java side: its native code (its struct in optimizers.h),
 * its {@link #persistentId()}, its states ({@link StateSpec}: role, map, sign fix), its update rule
 * (the scalar reference every Java kernel runs, bit for bit the native library's: the same float
 * operations in the same order, separate multiply and add, IEEE sqrt and divide) and the
 * hyper-parameters of an example step ({@link #example}, what the self-check, the tests and the
 * benchmarks run). Every constant must give both methods: a constant without them does not compile.
 * The persistent id is fixed forever: saved 8-bit states are tagged with it, so the order of these
 * constants (and the native codes) may change without invalidating checkpoints.
 */
public enum OptimKind {
    /**
     * Adam, two states m (signed map) and v (unsigned map): v = b2 v + (1-b2) g^2; m = b1 m + (1-b1) g,
     * clamped to the moment bound; update = stepSize * m / (sqrt(v) + epsHat) (bias corrections folded
     * into stepSize and epsHat, see {@link OptimHyper#adam}).
     */
    ADAM(0, 0, "Adam8bit", StateSpec.signed("m"), StateSpec.unsigned("v")) {
        @Override
        float update(OptimHyper h, float g, float[] s) {
            float v = h.beta2 * s[1] + h.oneMinusBeta2 * (g * g);
            float sv = (float) Math.sqrt(v);
            float m = clamp(h.beta1 * s[0] + h.oneMinusBeta1 * g, h.ratio1 * sv);
            s[0] = m;
            s[1] = v;
            return h.stepSize * (m / (sv + h.epsHat));
        }

        @Override
        public OptimHyper example(long t) {
            return OptimHyper.adam(1e-3, 0.9, 0.999, 1e-8, t);
        }
    },
    /** SGD with momentum: s = (t == 1) ? g : beta1 * s + g; update = lr * s. */
    MOMENTUM(1, 1, "SGD8bit", StateSpec.signed("momentum")) {
        @Override
        float update(OptimHyper h, float g, float[] s) {
            float st = h.firstStep ? g : h.beta1 * s[0] + g;
            s[0] = st;
            return h.lr * st;
        }

        @Override
        public OptimHyper example(long t) {
            return OptimHyper.momentum(1e-2, 0.9, t);
        }
    },
    /**
     * s = beta1 * s + (1 - beta1) * g^2; update = lr * g / (sqrt(s) + eps). Its non-negative state (and
     * Adagrad's) is on the signed map, as in bitsandbytes' 1-state optimizers: saved states depend on it.
     */
    RMSPROP(2, 2, "RMSprop8bit", StateSpec.signed("v")) {
        @Override
        float update(OptimHyper h, float g, float[] s) {
            float st = h.beta1 * s[0] + h.oneMinusBeta1 * (g * g);
            s[0] = st;
            return h.lr * (g / ((float) Math.sqrt(st) + h.eps));
        }

        @Override
        public OptimHyper example(long t) {
            return OptimHyper.rmsprop(1e-2, 0.9, 1e-8);
        }
    },
    /** s = s + g^2; update = lr * g / (sqrt(s) + eps). */
    ADAGRAD(3, 3, "Adagrad8bit", StateSpec.signed("sum")) {
        @Override
        float update(OptimHyper h, float g, float[] s) {
            float st = s[0] + g * g;
            s[0] = st;
            return h.lr * (g / ((float) Math.sqrt(st) + h.eps));
        }

        @Override
        public OptimHyper example(long t) {
            return OptimHyper.adagrad(1e-2, 1e-8);
        }
    },
    /** update = lr * sign(beta1 * s + (1 - beta1) * g); s = beta2 * s + (1 - beta2) * g. */
    LION(4, 4, "Lion8bit", StateSpec.signed("m")) {
        @Override
        float update(OptimHyper h, float g, float[] s) {
            float c = h.beta1 * s[0] + h.oneMinusBeta1 * g;
            s[0] = h.beta2 * s[0] + h.oneMinusBeta2 * g;
            return c > 0f ? h.lr : c < 0f ? -h.lr : 0f;
        }

        @Override
        public OptimHyper example(long t) {
            return OptimHyper.lion(1e-4, 0.9, 0.99);
        }
    },
    /**
     * AdEMAMix: fast EMA m1 (beta1), slow EMA m2 (beta3), v (beta2); update = lr * (m1 / (1 - beta1^t)
     * + alpha * m2) / (sqrt(v) / sqrt(1 - beta2^t) + eps), m1 and m2 clamped to their moment bounds.
     * States: m1, v, m2.
     */
    ADEMAMIX(5, 5, "AdEMAMix8bit", StateSpec.signed("m1"), StateSpec.unsigned("v"), StateSpec.signed("m2")) {
        @Override
        float update(OptimHyper h, float g, float[] s) {
            float v = h.beta2 * s[1] + h.oneMinusBeta2 * (g * g);
            float sv = (float) Math.sqrt(v);
            float m1 = clamp(h.beta1 * s[0] + h.oneMinusBeta1 * g, h.ratio1 * sv);
            float m2 = clamp(h.beta3 * s[2] + h.oneMinusBeta3 * g, h.ratio3 * sv);
            s[0] = m1;
            s[1] = v;
            s[2] = m2;
            return h.lr * ((m1 / h.biasCorrection1 + h.alpha * m2) / (sv / h.sqrtBiasCorrection2 + h.eps));
        }

        @Override
        public OptimHyper example(long t) {
            return OptimHyper.ademamix(1e-3, 0.9, 0.999, 0.9999, 5.0, 1e-8, t, 0, 0);
        }
    };

    final int code;
    private final int persistentId;
    private final String updaterConfig;
    private final List<StateSpec> states;

    OptimKind(int code, int persistentId, String updaterConfig, StateSpec... states) {
        this.updaterConfig = updaterConfig;
        this.code = code;
        this.persistentId = persistentId;
        this.states = List.of(states);
    }

    /**
     * The update rule of one element whose gradient g is finite: s[0..numStates()) hold the decoded
     * states and are advanced in place; returns the update (the caller subtracts it). Only float
     * operations, in the native library's order; no fused multiply-add. (A non-finite g never gets
     * here: {@link OptimMath#step} resets the states and gives a zero update.)
     */
    abstract float update(OptimHyper h, float g, float[] s);

    /**
     * The hyper-parameters of a typical step t (1-based) of this optimizer, with its usual defaults:
     * what the vectorised kernels' start-up self-check, the tests and the benchmarks run.
     */
    public abstract OptimHyper example(long t);

    /** The states this optimizer keeps, in the order every kernel, view and saved file holds them. */
    public List<StateSpec> states() {
        return states;
    }

    /** State s (0-based). */
    public StateSpec state(int s) {
        return states.get(s);
    }

    /** The code of this optimizer in the native library (bnb4j.h, optimizers.h). */
    public int nativeCode() {
        return code;
    }

    /** The number saved states are tagged with: never reused, never changed (golden checkpoints pin it). */
    /**
     * The simple name of its DL4J updater config in {@code org.bnb4j.updaters.config} (dl4j-updaters), e.g.
     * "Adam8bit": how code that offers every optimizer finds its config without a list of its own.
     */
    public String updaterConfig() {
        return updaterConfig;
    }

    public int persistentId() {
        return persistentId;
    }

    public int numStates() {
        return states.size();
    }

    /** The largest number of states of any optimizer (what work arrays that serve every kind hold). */
    public static int maxStates() {
        int k = 0;
        for (OptimKind kind : values()) k = Math.max(k, kind.numStates());
        return k;
    }
}
