package org.bnb4j.internal.kernels;

import org.bnb4j.quant.QuantMap;

import java.util.concurrent.ConcurrentHashMap;

/**
 * {@link CodeSearch#nearest} as a table, for the vectorised Java kernels (plain Java: it never
 * touches the Vector API, so the scalar path can build and test it too).
 *
 * <p>The reference search is monotone in y for every sorted map (its binary search only locates y
 * among the sorted values, and the final midpoint compare picks one of the two codes of that gap),
 * so inside a range of floats where it changes at most once it is a step function. The table cuts
 * the normalised values |y| &lt; 2 into 32768 buckets by their top bits (sign and 14 bits of
 * exponent and mantissa, the same cut as the native library's codebook) and stores, per bucket, the
 * code below and from the point where it changes, and that point as the low 16 bits of y, flipped
 * for negative y so that a larger position is always a larger y: {@code entry = c0 | c1 << 8 | t << 16}
 * (c1 == c0: no change). Every entry is found with the reference search itself (the code at both ends
 * of the bucket, then bisection for the step), so the table is exact by construction:
 *
 * <pre>
 * key  = ((bits &gt;&gt;&gt; 17) &amp; 0x4000) | ((bits &gt;&gt;&gt; 16) &amp; 0x3fff)
 * low  = (bits ^ (bits &gt;&gt; 31)) &amp; 0xffff
 * code = low &gt;= entry &gt;&gt;&gt; 16 ? (entry &gt;&gt;&gt; 8) &amp; 0xff : entry &amp; 0xff      for |y| &lt; 2, y not NaN
 * </pre>
 *
 * A map for which some bucket holds more than one step (values packed among the denormals) has no
 * table ({@link #packed()} is null) and the kernels use the reference search for it. Values the
 * table does not cover (NaN, |y| &gt;= 2) never occur for a value normalised by its block's absmax,
 * except NaN: the kernels send such lanes to the reference search.
 *
 * <p>For the optimizers the same cut also gives the final state byte directly ({@link #stateTable}):
 * the search, then bitsandbytes' sign fix and, for the bytes at word position 3 of a packed state,
 * the NaN-safe rule (codes 1 and 254 replaced by the nearer neighbour, then sigma), as
 * StateCodec.encode does; the arbitrary c0/c1 of an entry hold the jumps sigma makes.
 */
public final class SearchTable {
    /** Bucket count: sign bit + 14 bits. */
    public static final int BUCKETS = 1 << 15;
    /** Tables kept for maps seen so far (custom maps beyond this are built per call). */
    private static final int MAX_CACHED = 64;
    private static final ConcurrentHashMap<QuantMap, SearchTable> CACHE = new ConcurrentHashMap<>();

    private final float[] values;
    private final int[] packed;
    private final int signSplit;
    private final int[][] state = new int[4][];   // [signFix * 2 + top]

    private SearchTable(float[] values) {
        this.values = values;
        this.packed = build(values);
        this.signSplit = signSplit(values);
        for (int f = 0; f < 2; f++) for (int t = 0; t < 2; t++) state[f * 2 + t] = buildState(f == 1, t == 1);
    }

    /** The table of {@code map}, built once per map and cached. */
    public static SearchTable of(QuantMap map) {
        SearchTable t = CACHE.get(map);
        if (t != null) return t;
        if (CACHE.size() >= MAX_CACHED) return new SearchTable(map.values());
        return CACHE.computeIfAbsent(map, m -> new SearchTable(m.values()));
    }

    /** The map's values (shared: do not modify). */
    public float[] values() {
        return values;
    }

    /** The bucket entries of the plain search, or null when the map does not fit (use {@link CodeSearch#nearest}). */
    public int[] packed() {
        return packed;
    }

    /**
     * s such that values[c] has its sign bit set exactly when c &lt; s (the optimizers' sign fix
     * reads the sign of the chosen value this way), or -1 when the map's signs are not split so.
     */
    public int signSplit() {
        return signSplit;
    }

    /**
     * The optimizers' state byte for y = s / absmax (any of CodeSearch.normalize's forms), as
     * StateCodec.encode gives it: the search; with {@code signFix}, code + (sign bit of values[code]
     * != sign bit of s ? (s &gt; 0 ? 1 : -1) : 0); with {@code top} (a byte at word position 3 of a
     * packed state), codes 1 and 254 replaced by the nearer neighbour (|y - values[c + 1]| &lt;
     * |y - values[c - 1]| ? c + 1 : c - 1) and then sigma (0x7f &lt;-&gt; 1, 0xff &lt;-&gt; 254).
     * Null when the map has no table, or the result does not fit one (then the kernels do not use
     * the vectorised steps).
     *
     * <p>Why a function of y suffices for the sign fix: y's sign bit is s's (y is s times or over a
     * positive number, or times +0), and s &gt; 0 exactly when y's sign bit is clear and y != 0. The
     * one value where s is not determined by y is y = +0 (s = +0, or a tiny positive s that
     * underflowed), and there the fix must change nothing: values[code(+0)] must have a clear sign
     * bit, which is checked. The neighbour rule is monotone in y for a given code (the distance to the
     * lower neighbour grows, to the upper one shrinks), so it adds at most one change inside the
     * range of one code, found by bisection.
     */
    public int[] stateTable(boolean signFix, boolean top) {
        return state[(signFix ? 2 : 0) + (top ? 1 : 0)];
    }

    /** The bucket of a float's bits (meaningful for |y| &lt; 2). */
    public static int key(int bits) {
        return ((bits >>> 17) & 0x4000) | ((bits >>> 16) & 0x3fff);
    }

    /** The position inside the bucket, growing with y in both signs. */
    public static int low(int bits) {
        return (bits ^ (bits >> 31)) & 0xffff;
    }

    /** An entry's code for y (|y| &lt; 2, not NaN). */
    public static int lookup(int[] table, float y) {
        int bits = Float.floatToRawIntBits(y);
        int e = table[key(bits)];
        return low(bits) >= e >>> 16 ? (e >>> 8) & 0xff : e & 0xff;
    }

    /** The code of y by the table (|y| &lt; 2, not NaN, {@link #packed()} not null): equals {@link CodeSearch#nearest}. */
    public int code(float y) {
        return lookup(packed, y);
    }

    private static float element(int key, int j) {
        int mag = key & 0x3fff;
        return (key & 0x4000) == 0 ? Float.intBitsToFloat((mag << 16) | j)
                : Float.intBitsToFloat(0x80000000 | (mag << 16) | (0xffff - j));
    }

    private static int entry(int c0, int c1, int t) {
        return c1 == c0 ? c0 | (c0 << 8) : c0 | (c1 << 8) | (t << 16);
    }

    private static int[] build(float[] c) {
        int[] t = new int[BUCKETS];
        for (int key = 0; key < BUCKETS; key++) {
            int c0 = CodeSearch.nearest(c, element(key, 0)), c1 = CodeSearch.nearest(c, element(key, 0xffff));
            if (c1 == c0) {
                t[key] = entry(c0, c0, 0);
            } else if (c1 == c0 + 1) {
                int a = 0, b = 0xffff;           // nearest(a) == c0, nearest(b) == c1
                while (b - a > 1) {
                    int m = (a + b) >>> 1;
                    if (CodeSearch.nearest(c, element(key, m)) == c1) b = m; else a = m;
                }
                t[key] = entry(c0, c1, b);
            } else {
                return null;                     // two steps in one bucket: no table for this map
            }
        }
        return t;
    }

    private static int sigma(int c) {
        switch (c) {
            case 0x7f: return 1;
            case 1: return 0x7f;
            case 0xff: return 254;
            case 254: return 0xff;
            default: return c;
        }
    }

    /** The state byte rule for the plain code c at y (inside a bucket of the given sign). */
    private int rule(int c, float y, boolean negative, boolean signFix, boolean top) {
        if (signFix && (c < signSplit) != negative) c += negative ? -1 : 1;
        if (top && (c == 1 || c == 254)) {
            float dl = Math.abs(y - values[c - 1]), dh = Math.abs(y - values[c + 1]);
            c = dh < dl ? c + 1 : c - 1;
        }
        return top ? sigma(c) : c;
    }

    private int[] buildState(boolean signFix, boolean top) {
        if (packed == null) return null;
        if (!signFix && !top) return packed;
        if (signFix && (signSplit < 0 || (packed[0] & 0xff) < signSplit)) return null;   // code(+0) must not be fixed
        int[] t = new int[BUCKETS];
        int[] pieceValue = new int[4], pieceStart = new int[4];
        for (int key = 0; key < BUCKETS; key++) {
            boolean negative = (key & 0x4000) != 0;
            int e = packed[key], c0 = e & 0xff, c1 = (e >>> 8) & 0xff, step = c1 == c0 ? 0x10000 : e >>> 16;
            int pieces = 0;
            // the plain code is c0 on [0, step) and c1 on [step, 0xffff]; each range may split once more
            for (int seg = 0; seg < 2; seg++) {
                int a = seg == 0 ? 0 : step, b = seg == 0 ? step - 1 : 0xffff, c = seg == 0 ? c0 : c1;
                if (a > b) continue;
                int lo = rule(c, element(key, a), negative, signFix, top), hi = rule(c, element(key, b), negative, signFix, top);
                int p = b + 1;                               // first position with the upper value
                if (lo != hi) {
                    int x = a, z = b;                        // rule(x) == lo, rule(z) == hi
                    while (z - x > 1) {
                        int m = (x + z) >>> 1;
                        if (rule(c, element(key, m), negative, signFix, top) == hi) z = m; else x = m;
                    }
                    p = z;
                }
                pieceValue[pieces] = lo;
                pieceStart[pieces++] = a;
                if (p <= b) {
                    pieceValue[pieces] = hi;
                    pieceStart[pieces++] = p;
                }
            }
            int n = 0;                                       // merge equal neighbours
            for (int i = 0; i < pieces; i++) {
                if (n > 0 && pieceValue[n - 1] == pieceValue[i]) continue;
                pieceValue[n] = pieceValue[i];
                pieceStart[n++] = pieceStart[i];
            }
            for (int i = 0; i < n; i++) if (pieceValue[i] < 0 || pieceValue[i] > 255) return null;   // a byte would wrap
            if (n > 2) return null;
            t[key] = n == 1 ? entry(pieceValue[0], pieceValue[0], 0) : entry(pieceValue[0], pieceValue[1], pieceStart[1]);
        }
        return t;
    }

    private static int signSplit(float[] c) {
        int s = 0;
        while (s < c.length && Float.floatToRawIntBits(c[s]) < 0) s++;
        for (int i = s; i < c.length; i++) if (Float.floatToRawIntBits(c[i]) < 0) return -1;
        return s;
    }
}
