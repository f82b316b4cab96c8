package org.bnb4j.internal.kernels;

import org.bnb4j.quant.QuantMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The search table and the vectorised code passes against the reference search, value by value:
 * every 97th float of |y| &lt; 2 in both signs (~44M values per map), and the values the table does
 * not cover (NaN, +-Inf, |y| &gt;= 2), for every map kind the library builds plus custom ones.
 */
class VectorCodesTest {

    @BeforeAll
    static void needsTheModule() {
        assumeTrue(KernelProvider.vectorModulePresent(), "run with --add-modules jdk.incubator.vector");
    }

    static List<QuantMap> maps() {
        List<QuantMap> m = new ArrayList<>();
        m.add(QuantMap.dynamic(true));
        m.add(QuantMap.dynamic(false));
        m.add(QuantMap.linear(true));
        m.add(QuantMap.linear(false));
        m.add(QuantMap.dynamic(true, 4, 8));
        // a map reaching +-MAX
        float[] w = new float[256];
        for (int i = 0; i < 256; i++) w[i] = (i - 127.5f) / 127.5f;
        w[0] = -Float.MAX_VALUE;
        w[255] = Float.MAX_VALUE;
        w[127] = -0.0f;
        w[128] = Float.MIN_VALUE;
        m.add(QuantMap.of(w));
        m.add(repeated());
        return m;
    }

    @Test
    void tableEqualsReferenceSearchOnEvery97thFloat() {
        for (QuantMap map : maps()) {
            SearchTable t = SearchTable.of(map);
            assertNotNull(t.packed(), map + " fits the table");
            float[] c = map.values();
            for (int sign = 0; sign < 2; sign++) {
                for (long b = 0; b < 0x40000000L; b += 97) {
                    float y = Float.intBitsToFloat((int) b | (sign << 31));
                    int expected = CodeSearch.nearest(c, y), got = t.code(y);
                    if (expected != got) fail(map + ": y=" + y + " (bits " + Integer.toHexString(Float.floatToRawIntBits(y)) + ") reference " + expected + ", table " + got);
                }
            }
        }
    }

    /** StateCodec.encode's rules for s = y (what the state tables must give for |y| < 2). */
    static int stateRule(float[] c, int split, float y, boolean signFix, boolean top) {
        int code = CodeSearch.nearest(c, y);
        if (signFix && (code < split) != (Float.floatToRawIntBits(y) < 0)) code += y > 0 ? 1 : -1;
        if (top && (code == 1 || code == 254)) {
            float dl = Math.abs(y - c[code - 1]), dh = Math.abs(y - c[code + 1]);
            code = dh < dl ? code + 1 : code - 1;
        }
        if (top) code = code == 0x7f ? 1 : code == 1 ? 0x7f : code == 0xff ? 254 : code == 254 ? 0xff : code;
        return code;
    }

    /**
     * The optimizers' state tables (sign fix, packed top bytes) against the rules on every 89th
     * float of |y| &lt; 2 and around the top-byte neighbour ties (s = y here; s that underflows to
     * y = +-0 is covered by VectorOptimizerKernelsTest).
     */
    @Test
    void stateTablesEqualTheStateRules() {
        for (QuantMap map : new QuantMap[]{QuantMap.dynamic(true), QuantMap.dynamic(false), QuantMap.dynamic(true, 4, 8), QuantMap.linear(true)}) {
            SearchTable t = SearchTable.of(map);
            float[] c = map.values();
            int split = t.signSplit();
            for (boolean signFix : new boolean[]{false, true}) {
                if (signFix && c[0] >= 0) {
                    assertNull(t.stateTable(true, false), map + ": no sign-fixed table for a map without negative values");
                    continue;
                }
                for (boolean top : new boolean[]{false, true}) {
                    int[] table = t.stateTable(signFix, top);
                    assertNotNull(table, map + " signFix " + signFix + " top " + top);
                    java.util.List<Float> extra = new ArrayList<>();
                    for (float mid : new float[]{(c[0] + c[2]) * 0.5f, (c[253] + c[255]) * 0.5f}) {
                        float y = mid;
                        for (int d = 0; d < 2000; d++) y = Math.nextDown(y);
                        for (int d = 0; d < 4000; d++, y = Math.nextUp(y)) extra.add(y);
                    }
                    for (float y : extra) assertEquals(stateRule(c, split, y, signFix, top), SearchTable.lookup(table, y), map + " y=" + y);
                    for (int sign = 0; sign < 2; sign++) {
                        for (long b = 0; b < 0x40000000L; b += 89) {
                            float y = Float.intBitsToFloat((int) b | (sign << 31));
                            int expected = stateRule(c, split, y, signFix, top), got = SearchTable.lookup(table, y);
                            if (expected != got) fail(map + " signFix " + signFix + " top " + top + ": y=" + y + " rule " + expected + ", table " + got);
                        }
                    }
                }
            }
        }
    }

    @Test
    void tableEqualsReferenceAroundEveryTransition() {
        for (QuantMap map : maps()) {
            SearchTable t = SearchTable.of(map);
            float[] c = map.values(), th = CodeSearch.thresholds(c);
            for (int k = 1; k < 256; k++) {
                float y = th[k];
                if (!(Math.abs(y) < 2)) continue;
                for (int d = 0; d < 5; d++) {
                    for (float z : new float[]{y, -y}) {
                        if (Math.abs(z) < 2) assertEquals(CodeSearch.nearest(c, z), t.code(z), map + " at transition " + k + " " + z);
                    }
                    y = Math.nextDown(y);
                }
            }
        }
    }

    /** Runs of equal values: the search skips codes, but never by more than one inside a bucket. */
    static QuantMap repeated() {
        float[] v = new float[256];
        for (int i = 0; i < 256; i++) v[i] = i < 100 ? -0.5f : i < 200 ? (i - 150) / 1000f : (float) Math.pow((i - 199) / 56.0, 3);
        java.util.Arrays.sort(v);
        return QuantMap.of(v);
    }

    @Test
    void mapsWithSeveralStepsInABucketHaveNoTable() {
        // values packed among the denormals: several transitions inside the bucket of +-0
        float[] v = new float[256];
        for (int i = 0; i < 256; i++) v[i] = (float) Math.sinh((i - 127.5) / 127.5 * 8) / 1490f;
        v[126] = -Float.MIN_VALUE;
        v[127] = -0.0f;
        v[128] = 0.0f;
        v[129] = Float.MIN_VALUE * 3;
        assertNull(SearchTable.of(QuantMap.of(v)).packed(), "no table");
        assertEquals(127, SearchTable.of(QuantMap.dynamic(true)).signSplit());
        assertEquals(0, SearchTable.of(QuantMap.dynamic(false)).signSplit());
    }

    /** The three passes (normalise + key, scalar lookup, code arithmetic) on values of every kind. */
    @Test
    void vectorPassesEqualReferenceSearch() {
        SplittableRandom r = new SplittableRandom(3);
        int n = 4096, cap = n + VectorCodes.SLACK;
        for (QuantMap map : maps()) {
            SearchTable t = SearchTable.of(map);
            float[] c = map.values();
            for (int round = 0; round < 40; round++) {
                float[] x = new float[cap], y = new float[cap];
                int[] keys = new int[cap];
                byte[] out = new byte[cap];
                for (int i = 0; i < n; i++) {
                    switch (r.nextInt(8)) {
                        case 0: x[i] = Float.intBitsToFloat(r.nextInt()); break;              // anything: NaN, Inf, |y| >= 2
                        case 1: { int k = r.nextInt(255); x[i] = (c[k] + c[k + 1]) * 0.5f; break; } // ties
                        case 2: x[i] = c[r.nextInt(256)]; break;
                        case 3: x[i] = r.nextBoolean() ? 0.0f : -0.0f; break;
                        case 4: x[i] = Float.intBitsToFloat(r.nextInt(0x800000) | (r.nextBoolean() ? 0x80000000 : 0)); break; // denormal
                        default: x[i] = (float) (r.nextDouble() * 2.2 - 1.1); break;
                    }
                }
                float absmax = round % 4 == 0 ? 1.0f : round % 4 == 1 ? 0.0f : round % 4 == 2 ? Float.MIN_VALUE * 5 : 0.75f;
                VectorCodes.normalizeAndKey(x, 0, n, absmax, y, keys);
                VectorCodes.lookup(t.packed(), keys, 0, n);
                VectorCodes.codes(c, y, keys, 0, n, out);
                for (int i = 0; i < n; i++) {
                    float expectedY = CodeSearch.normalize(x[i], absmax);
                    assertEquals(Float.floatToRawIntBits(expectedY), Float.floatToRawIntBits(y[i]), "normalised " + x[i] + " by " + absmax);
                    assertEquals(CodeSearch.nearest(c, expectedY), out[i] & 0xff, map + ": code of " + expectedY);
                }
            }
        }
    }

    @Test
    void absmaxIgnoresNaNAndKeepsInf() {
        float[] x = new float[64 + VectorCodes.SLACK];
        for (int i = 0; i < 64; i++) x[i] = i % 5 == 0 ? Float.NaN : -0.0f;
        assertEquals(Float.floatToRawIntBits(CodeSearch.absmax(x, 64)), Float.floatToRawIntBits(VectorCodes.absmax(x, 0, 64)));
        x[17] = -3f;
        assertEquals(3f, VectorCodes.absmax(x, 0, 64));
        x[63] = Float.NEGATIVE_INFINITY;
        assertEquals(Float.POSITIVE_INFINITY, VectorCodes.absmax(x, 0, 64));
    }
}
