package org.bnb4j.optim;

/**
 * The ranges of the optimizers' hyper-parameters, one place for {@link OptimHyper}'s factories
 * (which throw IllegalArgumentException) and the DL4J updater configs (IllegalStateException, their
 * validate() convention). Each check is on the float the value is rounded to, because the kernels
 * compute in float: 0.99999999999 is a beta of 1 there, 1e-50 an epsilon of 0, 1e40 an infinite rate.
 * A check returns null when the value is in range, else the message naming it.
 */
public final class HyperRanges {
    private HyperRanges() {}

    /** Finite and >= 0 (so not NaN). */
    public static String learningRate(String name, double v) {
        return v >= 0 && (float) v < Float.POSITIVE_INFINITY ? null : name + " must be finite and >= 0, got " + v + asFloat(v);
    }

    /** In [0, 1): betas, momentum, decay rates. */
    public static String fraction(String name, double v) {
        return v >= 0 && (float) v < 1f ? null : name + " must be in [0, 1), got " + v + asFloat(v);
    }

    /** In [0, 1]: momentum (1 sums the gradients, which stays finite). */
    public static String closedFraction(String name, double v) {
        return v >= 0 && (float) v <= 1f ? null : name + " must be in [0, 1], got " + v + asFloat(v);
    }

    /** In (0, 1): where a logarithm of the value is taken. */
    public static String openFraction(String name, double v) {
        return (float) v > 0f && (float) v < 1f ? null : name + " must be in (0, 1), got " + v + asFloat(v);
    }

    /** Finite and > 0: epsilons (0 gives 0/0 where a state is 0). */
    public static String positive(String name, double v) {
        return (float) v > 0f && (float) v < Float.POSITIVE_INFINITY ? null : name + " must be finite and > 0, got " + v + asFloat(v);
    }

    /** Finite and >= 0: weights such as AdEMAMix's alpha. */
    public static String nonNegative(String name, double v) {
        return v >= 0 && (float) v < Float.POSITIVE_INFINITY ? null : name + " must be finite and >= 0, got " + v + asFloat(v);
    }

    /**
     * The float v becomes, in parentheses, where that differs in kind from v (1.0, 0.0 or Infinity from
     * a value that is none of them); else "".
     */
    public static String asFloat(double v) {
        float f = (float) v;
        boolean changed = (f == 0f && v != 0) || (f == 1f && v != 1) || (Float.isInfinite(f) && !Double.isInfinite(v));
        return changed ? " (" + f + " as the float the kernels compute in)" : "";
    }
}
