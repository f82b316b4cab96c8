package org.bnb4j.internal.kernels;

/**
 * The nearest-code rules that define the quantization contract; every implementation must agree
 * with these functions bit for bit.
 */
public final class CodeSearch {
    private CodeSearch() {}

    /**
     * bitsandbytes' CUDA search: a 7-step binary search from pivot 127 (steps 64..1), then one
     * compare with the float midpoint {@code (a + b) * 0.5f} of the final bracket. Exact midpoints
     * go to the final pivot, which is always the even index; NaN goes to code 0.
     */
    public static int nearest(float[] c, float x) {
        int pivot = 127, upperPivot = 255, lowerPivot = 0;
        float lower = -1.0f, upper = 1.0f;
        float val = c[pivot];
        for (int step = 64; step > 0; step >>= 1) {
            if (x > val) { lowerPivot = pivot; lower = val; pivot += step; }
            else { upperPivot = pivot; upper = val; pivot -= step; }
            val = c[pivot];
        }
        if (upperPivot == 255) upper = c[255];
        if (lowerPivot == 0) lower = c[0];
        if (x > val) {
            float mid = (upper + val) * 0.5f;
            return x > mid ? upperPivot : pivot;
        }
        float mid = (lower + val) * 0.5f;
        return x < mid ? lowerPivot : pivot;
    }

    /**
     * Stochastic rounding between the two map entries that bracket {@code y}: the upper one is
     * chosen with probability proportional to closeness, so the expected decoded value is y
     * (within the map's range). {@code r} is uniform in [0, 1). NaN goes to code 0.
     */
    public static int stochastic(float[] c, float y, float r) {
        if (y != y || y < c[0]) return 0;
        int lo = 0, hi = 255; // largest f with c[f] <= y
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (c[mid] <= y) lo = mid; else hi = mid - 1;
        }
        if (lo == 255 || c[lo] == y) return lo;
        float pUp = (y - c[lo]) / (c[lo + 1] - c[lo]);
        return r < pUp ? lo + 1 : lo;
    }

    /**
     * The transition points of {@link #nearest}: {@code t[k]} is the smallest float y with
     * nearest(c, y) >= k (k = 1..255; t[0] = -inf). The search is monotone for a sorted map, so
     * nearest(c, y) = max{k : t[k] <= y} (NaN aside). Found by bisection over float bit patterns with
     * the search itself, exactly as the native library builds its tables (codebook.cpp).
     */
    public static float[] thresholds(float[] c) {
        float[] t = new float[256];
        t[0] = Float.NEGATIVE_INFINITY;
        long lo = ord(-Float.MAX_VALUE), hi = ord(Float.MAX_VALUE);
        int top = nearest(c, Float.MAX_VALUE), bottom = nearest(c, -Float.MAX_VALUE);
        for (int k = 1; k <= 255; k++) {
            if (k > top) { t[k] = Float.POSITIVE_INFINITY; continue; }
            if (k <= bottom) { t[k] = -Float.MAX_VALUE; continue; }
            long a = lo, b = hi;
            while (b - a > 1) {
                long m = a + (b - a) / 2;
                if (nearest(c, fromOrd(m)) >= k) b = m; else a = m;
            }
            t[k] = fromOrd(b);
        }
        return t;
    }

    // floats in the order of their values, -0.0 and +0.0 sharing 0
    static long ord(float f) {
        int b = Float.floatToRawIntBits(f);
        return b < 0 ? -(long) (b & 0x7fffffff) : b;
    }

    static float fromOrd(long o) {
        return o >= 0 ? Float.intBitsToFloat((int) o) : Float.intBitsToFloat(0x80000000 | (int) -o);
    }

    /** Counter-based uniform in [0, 1) from (seed, element index): independent of threading. */
    public static float uniform01(long seed, long index) {
        return (mix64(seed ^ mix64(index)) >>> 40) * (1.0f / 16777216.0f);
    }

    static long mix64(long z) {
        z += 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** max |x| over the block; NaN is ignored, Inf propagates. */
    public static float absmax(float[] x, int n) {
        float m = 0.0f;
        for (int i = 0; i < n; i++) {
            float a = Math.abs(x[i]);
            if (a > m) m = a;
        }
        return m;
    }

    /**
     * The normalised value x / absmax as every implementation computes it: multiply by the float
     * reciprocal (as bitsandbytes does); an all-zero block scales by 0 (so zeros get the map's zero
     * code); when 1/absmax overflows (denormal absmax) divide instead.
     */
    public static float normalize(float x, float absmax) {
        if (absmax == 0.0f) return x * 0.0f;
        float inv = 1.0f / absmax;
        return Float.isInfinite(inv) ? x / absmax : x * inv;
    }
}
