package org.bnb4j.kernels;

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
 * code at the bucket's lowest value and where inside the bucket the code goes up by one:
 * {@code entry = c0 | (t << 8)}, t being the position as the low 16 bits of y, flipped for negative
 * y so that a larger t is always a larger y (0x10000: no step). Every entry is found with the
 * reference search itself (the code at both ends of the bucket, then bisection for the step), so the
 * table is exact by construction:
 *
 * <pre>
 * key  = ((bits &gt;&gt;&gt; 17) &amp; 0x4000) | ((bits &gt;&gt;&gt; 16) &amp; 0x3fff)
 * low  = (bits ^ (bits &gt;&gt; 31)) &amp; 0xffff
 * code = (entry &amp; 0xff) + (low &gt;= entry &gt;&gt;&gt; 8 ? 1 : 0)      valid for |y| &lt; 2, y not NaN
 * </pre>
 *
 * A map for which some bucket holds more than one step (repeated or extremely dense values) has no
 * table ({@link #packed()} is null) and the kernels use the reference search for it. Values the
 * table does not cover (NaN, |y| &gt;= 2) never occur for a value normalised by its block's absmax,
 * except NaN: the kernels send such lanes to the reference search.
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
    private final int[] signFixed;

    private SearchTable(float[] values) {
        this.values = values;
        this.packed = build(values);
        this.signSplit = signSplit(values);
        this.signFixed = buildSignFixed(packed, signSplit);
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

    /** The bucket entries, or null when the map does not fit (use {@link CodeSearch#nearest}). */
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
     * The same table for the optimizers' search with bitsandbytes' sign fix folded in, or null when it
     * cannot be: code' = code + (sign bit of values[code] != sign bit of s ? (s &gt; 0 ? 1 : -1) : 0),
     * for y = s / absmax (any of CodeSearch.normalize's three forms).
     *
     * <p>Why a function of y suffices: y's sign bit is s's (y is s times or over a positive number, or
     * times +0), and s &gt; 0 exactly when y's sign bit is clear and y != 0. The one value where s
     * is not determined by y is y = +0 (s = +0, or a tiny positive s that underflowed), and there the
     * fix changes nothing provided values[code(+0)] has a clear sign bit, which is checked. Inside a
     * bucket the sign is fixed, so the fixed code is a function of the plain code, which takes at most
     * two consecutive values c0, c0 + 1; the fixed codes must again differ by 0 or 1.
     */
    public int[] signFixed() {
        return signFixed;
    }

    private static int[] buildSignFixed(int[] packed, int split) {
        if (packed == null || split < 0) return null;
        int zeroCode = packed[0] & 0xff;                         // code(+0): the entry at the bottom of bucket 0
        if (zeroCode < split) return null;
        int[] t = new int[BUCKETS];
        for (int key = 0; key < BUCKETS; key++) {
            boolean negative = (key & 0x4000) != 0;
            int e = packed[key], c0 = e & 0xff, step = e >>> 8, c1 = step <= 0xffff ? c0 + 1 : c0;
            int f0 = fix(c0, negative, split), f1 = fix(c1, negative, split);
            if (f0 < 0 || f1 > 255) return null;                  // codes -1 / 256 (a byte wraps): not in a table
            if (f1 == f0) t[key] = f0 | (0x10000 << 8);
            else if (f1 == f0 + 1) t[key] = f0 | (step << 8);
            else return null;
        }
        return t;
    }

    private static int fix(int c, boolean negative, int split) {
        return (c < split) != negative ? c + (negative ? -1 : 1) : c;
    }

    /** The bucket of a float's bits (meaningful for |y| &lt; 2). */
    public static int key(int bits) {
        return ((bits >>> 17) & 0x4000) | ((bits >>> 16) & 0x3fff);
    }

    /** The position inside the bucket, growing with y in both signs. */
    public static int low(int bits) {
        return (bits ^ (bits >> 31)) & 0xffff;
    }

    /** The code of y by the table (|y| &lt; 2, not NaN, {@link #packed()} not null): equals {@link CodeSearch#nearest}. */
    public int code(float y) {
        int bits = Float.floatToRawIntBits(y);
        int e = packed[key(bits)];
        return (e & 0xff) + (low(bits) >= (e >>> 8) ? 1 : 0);
    }

    private static float element(int key, int j) {
        int mag = key & 0x3fff;
        return (key & 0x4000) == 0 ? Float.intBitsToFloat((mag << 16) | j)
                : Float.intBitsToFloat(0x80000000 | (mag << 16) | (0xffff - j));
    }

    private static int[] build(float[] c) {
        int[] t = new int[BUCKETS];
        for (int key = 0; key < BUCKETS; key++) {
            int c0 = CodeSearch.nearest(c, element(key, 0)), c1 = CodeSearch.nearest(c, element(key, 0xffff));
            if (c1 == c0) {
                t[key] = c0 | (0x10000 << 8);
            } else if (c1 == c0 + 1) {
                int a = 0, b = 0xffff;           // nearest(a) == c0, nearest(b) == c1
                while (b - a > 1) {
                    int m = (a + b) >>> 1;
                    if (CodeSearch.nearest(c, element(key, m)) == c1) b = m; else a = m;
                }
                t[key] = c0 | (b << 8);
            } else {
                return null;                     // two steps in one bucket: no table for this map
            }
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
