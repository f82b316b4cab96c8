package org.bnb4j.internal.nativeops;

import org.bnb4j.internal.kernels.KernelProvider;
import org.bnb4j.internal.kernels.NativeQuantKernels;
import org.bnb4j.quant.QuantMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The search tables built once per map from the reference rules: the avx512vbmi kernels' two-level
 * tables read by byte permutes (kernels.h FastEnc, variants 0-1) and the state byte tables of the avx2
 * and avx512 steps (kernels.h StateByteTables, variants 2-5). These tests compare them with the
 * reference on a dense sample of all floats |y| < 2 (every 13th bit pattern, both signs: ~165M values)
 * for the maps bnb4j uses and on a sparser one for custom maps; a map that does not fit must say so
 * (-1), so that the kernels take the gather path for it.
 */
class FastSearchTablesTest {
    static final int STRIDE = 13;

    @BeforeAll
    static void needsNative() {
        assumeTrue(KernelProvider.nativeKernels().isPresent(), "native library not loaded");
    }

    static long check(QuantMap map, int variant) {
        return check(map, variant, STRIDE);
    }

    static long check(QuantMap map, int variant, int stride) {
        return BnbNative.codebookCheckFast(NativeQuantKernels.codebook(map), variant, stride);
    }

    /** 256 sorted gaussian values (sd 0.3): a map with no structure. */
    static QuantMap randomMap(long seed) {
        Random r = new Random(seed);
        float[] v = new float[256];
        for (int i = 0; i < 256; i++) v[i] = (float) (r.nextGaussian() * 0.3);
        Arrays.sort(v);
        return QuantMap.of(v);
    }

    @Test
    void dynamicMapsFitAndAgreeWithTheReferenceSearch() {
        assertEquals(0, check(QuantMap.dynamic(true), 0), "signed dynamic map, plain search");
        assertEquals(0, check(QuantMap.dynamic(true), 1), "signed dynamic map, sign-fixed search (optimizer m)");
        assertEquals(0, check(QuantMap.dynamic(false), 0), "unsigned dynamic map (optimizer v)");
        // a sign fix of negative inputs would need a code below 0: no sign-fixed table for this map
        assertEquals(-1, check(QuantMap.dynamic(false), 1));
    }

    /**
     * The avx2 and avx512 steps store states through one table lookup per lane (kernels.h StateByteTables): the
     * search, the sign fix, the nearer neighbour at top bytes of packed FLOAT words and the byte swap
     * folded in. Variants 2-5: plain bytes, plain with the sign fix, top bytes, top with the sign fix.
     */
    @Test
    void stateByteTablesOfTheDynamicMapsEqualTheStoredByteRule() {
        for (int variant = 2; variant <= 5; variant++) {
            assertEquals(0, check(QuantMap.dynamic(true), variant), "signed dynamic map, variant " + variant);
        }
        assertEquals(0, check(QuantMap.dynamic(false), 2), "unsigned dynamic map, plain bytes");
        assertEquals(0, check(QuantMap.dynamic(false), 4), "unsigned dynamic map, top bytes");
        // the sign fix of a negative state would need a code below 0: no such tables
        assertEquals(-1, check(QuantMap.dynamic(false), 3));
        assertEquals(-1, check(QuantMap.dynamic(false), 5));
    }

    @Test
    void stateByteTablesOfOtherMapsAgreeWhereTheyFit() {
        for (QuantMap m : new QuantMap[]{QuantMap.linear(true), QuantMap.linear(false), randomMap(11)}) {
            for (int variant = 2; variant <= 5; variant++) {
                long bad = check(m, variant, 101);
                assertTrue(bad == 0 || bad == -1, "mismatches " + bad + " for variant " + variant + " of " + m);
            }
        }
        // bitsandbytes' linear maps fit: the signed one every table, the unsigned one those without the sign fix
        for (int variant = 2; variant <= 5; variant++) assertEquals(0, check(QuantMap.linear(true), variant, 101));
        assertEquals(0, check(QuantMap.linear(false), 2, 101));
        assertEquals(0, check(QuantMap.linear(false), 4, 101));
        // a zero stored as -0.0: a positive state whose normalised value underflows to +0 lands on a code
        // of the wrong sign, which the tables (keyed by the normalised value) cannot see: no sign-fixed tables
        float[] nz = QuantMap.dynamic(true).values().clone();
        for (int i = 0; i < nz.length; i++) if (nz[i] == 0f) nz[i] = -0f;
        assertEquals(-1, check(QuantMap.of(nz), 3, 101));
        assertEquals(0, check(QuantMap.of(nz), 2, 101));
    }

    @Test
    void linearAndRandomMapsAgreeWhereTheyFit() {
        for (QuantMap m : new QuantMap[]{QuantMap.linear(true), QuantMap.linear(false), randomMap(7)}) {
            for (int variant = 0; variant <= 1; variant++) {
                long bad = check(m, variant);
                assertTrue(bad == 0 || bad == -1, "mismatches " + bad + " for variant " + variant);
            }
        }
        assertEquals(0, check(QuantMap.linear(true), 0), "the signed linear map fits");
    }

    @Test
    void aMapWithSkippedCodesDoesNotFit() {
        // repeated values make the reference search jump over codes: the tables refuse the map
        float[] v = QuantMap.dynamic(true).values().clone();
        for (int i = 200; i < 210; i++) v[i] = v[200];
        assertEquals(-1, check(QuantMap.of(v), 0));
        for (int variant = 2; variant <= 5; variant++) assertEquals(-1, check(QuantMap.of(v), variant));
    }
}
