package org.bnb4j.optim;

import java.util.Arrays;

/**
 * What every update rule shares (bitsandbytes' kernels, in float, in the native library's order): the
 * reset on a non-finite gradient and the moment clamp. The rules themselves are declared with their
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
     * advanced. A non-finite g resets them to 0 and gives a zero update.
     */
    public static float step(OptimHyper h, float g, float[] s) {
        if (!Float.isFinite(g)) {
            Arrays.fill(s, 0, h.kind.numStates(), 0f);
            return 0f;
        }
        return h.kind.update(h, g, s);
    }
}
