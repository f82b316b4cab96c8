package org.bnb4j.optim;

/**
 * A bound on |m| / sqrt(v) that exact 32-bit Adam-type state always satisfies; the 8-bit step clamps
 * m to it (after advancing the EMAs, before the update), so it acts only where quantization broke it.
 *
 * <p>With m_t = sum_i w_i g_i, where every weight w_i <= (1 - bw) * bd^(t-i) (bw: the smallest
 * "new gradient" weight, bd: the largest decay; both beta1 for Adam's m), and
 * v_t = (1 - b2) sum_i b2^(t-i) g_i^2, Cauchy-Schwarz gives
 * <pre>  |m_t| <= (1 - bw) / sqrt(1 - b2) * sqrt(S_t) * sqrt(v_t),   S_t = sum_{j<t} (bd^2 / b2)^j.</pre>
 * For bd^2 < b2 (Adam's defaults: 0.81 < 0.999), S_t < 1 / (1 - bd^2/b2) for every t, so the bound
 * holds whatever the step count says (DL4J's iteration count may restart, e.g. ComputationGraph.clone()).
 * Otherwise (AdEMAMix's slow EMA, 0.9999^2 > 0.999) S_t grows with t, and max(t, 1 / (1 - bd)) is used:
 * the floor at the EMA's horizon keeps the bound loose in the first steps, where it is nearly tight
 * (equality at t = 1) and 8-bit rounding noise alone would cross it, and covers a step count that restarts.
 * The update divides by sqrt(v) + eps, never less than sqrt(v), so then |update| <= step size * ratio.
 *
 * <p>An 8-bit v decodes to 0 for elements far below their block's absmax while m may not (one huge
 * gradient in a block): then m / eps is used as the update, 10^4 or more times what 32-bit Adam gives,
 * and parameters diverge. Clamping m (not only the update) also drops the stale momentum, which would
 * otherwise push full-size updates in the outlier's direction for as long as v's block scale stays
 * dominated by it (thousands of steps). The slack factor covers float rounding of the 32-bit
 * recurrences (relative errors of order 1e-4 at most), so the clamp never acts on a state that 32-bit
 * arithmetic could have produced.
 */
public final class UpdateBound {
    private UpdateBound() {}

    /** Multiplicative slack over the exact bound. */
    public static final double SLACK = 1.01;

    /**
     * The bound on |m_t| / sqrt(v_t) for an EMA m with new-gradient weight at most (1 - weightBeta),
     * decay at most decayBeta, second moment decay beta2, after t steps; +inf when there is none.
     */
    public static double emaRatio(double weightBeta, double decayBeta, double beta2, long t) {
        if (!(beta2 > 0 && beta2 < 1)) return Double.POSITIVE_INFINITY;
        double gamma = decayBeta * decayBeta / beta2;
        double s;
        if (gamma < 1) {
            s = 1 / (1 - gamma);
        } else {
            double tt = Math.max(Math.max(1, t), Math.rint(1 / (1 - decayBeta)));
            s = gamma == 1 ? tt : Math.expm1(tt * Math.log(gamma)) / (gamma - 1);
        }
        return (1 - weightBeta) / Math.sqrt(1 - beta2) * Math.sqrt(s);
    }

    /** Adam's ratio bound (m: weight and decay beta1). */
    public static double adamRatio(double beta1, double beta2, long t) {
        return emaRatio(beta1, beta1, beta2, t);
    }

    /** The clamp value (float) for an exact bound: slack added; +inf stays +inf, NaN becomes +inf. */
    static float cap(double bound) {
        double c = bound * SLACK;
        return c >= 0 && c < Double.POSITIVE_INFINITY ? (float) c : Float.POSITIVE_INFINITY;
    }
}
