package org.bnb4j.optim;

import java.util.Arrays;

/**
 * What every update rule shares (bitsandbytes' kernels, in float, in the native library's order): the
 * reset on a non-finite gradient or new state, and the moment clamp. The rules themselves are declared with their
 * optimizer, {@link OptimKind#update}.
 */
public final class OptimMath {
    private OptimMath() {}

    /** The moment bound (native clamp_moment): min then max in SSE operand order, so NaN passes unchanged. */
    public static float clamp(float m, float lim) {
        m = lim < m ? lim : m;
        return -lim > m ? -lim : m;
    }

    /**
     * One element of h's optimizer: returns the update; s[0..numStates) hold the states and are
     * advanced. A non-finite g resets them to 0 and gives a zero update; so does a finite g whose new
     * states are not all finite (g * g overflowing float past |g| ~ 1.8e19, or a NaN state read back):
     * an infinite state would become its block's scale and decode every other element of the block to
     * NaN at the next step.
     */
    public static float step(OptimHyper h, float g, float[] s) {
        if (h == null || s == null) throw new IllegalArgumentException(h == null ? "hyper-parameters are null" : "state array is null");
        int k = h.kind.numStates();
        if (s.length < k) throw new IllegalArgumentException(h.kind + " keeps " + k + " states per element, the state array has " + s.length);
        if (Float.isFinite(g)) {
            float u = h.kind.update(h, g, s);
            boolean finite = true;
            for (int j = 0; j < k; j++) finite &= Float.isFinite(s[j]);
            if (finite) return u;
        }
        Arrays.fill(s, 0, k, 0f);
        return 0f;
    }
}
