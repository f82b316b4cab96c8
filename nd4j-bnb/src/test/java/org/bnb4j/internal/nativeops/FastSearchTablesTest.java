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
 * The avx512vbmi kernels search with two-level tables read by byte permutes (kernels.h FastEnc),
 * built once per map from the reference search. These tests compare the tables with the reference
 * search on a dense sample of all floats |y| < 2 (every 13th bit pattern, both signs: ~165M values),
 * for the maps bnb4j uses and for custom ones; a map that does not fit must say so (-1), so that
 * the kernels take the gather path for it.
 */
class FastSearchTablesTest {
    static final int STRIDE = 13;

    @BeforeAll
    static void needsNative() {
        assumeTrue(KernelProvider.nativeKernels().isPresent(), "native library not loaded");
    }

    static long check(QuantMap map, int variant) {
        return BnbNative.codebookCheckFast(NativeQuantKernels.codebook(map), variant, STRIDE);
    }

    @Test
    void dynamicMapsFitAndAgreeWithTheReferenceSearch() {
        assertEquals(0, check(QuantMap.dynamic(true), 0), "signed dynamic map, plain search");
        assertEquals(0, check(QuantMap.dynamic(true), 1), "signed dynamic map, sign-fixed search (optimizer m)");
        assertEquals(0, check(QuantMap.dynamic(false), 0), "unsigned dynamic map (optimizer v)");
        // a sign fix of negative inputs would need a code below 0: no sign-fixed table for this map
        assertEquals(-1, check(QuantMap.dynamic(false), 1));
    }

    @Test
    void linearAndRandomMapsAgreeWhereTheyFit() {
        Random r = new Random(7);
        float[] rnd = new float[256];
        for (int i = 0; i < 256; i++) rnd[i] = (float) (r.nextGaussian() * 0.3);
        Arrays.sort(rnd);
        for (QuantMap m : new QuantMap[]{QuantMap.linear(true), QuantMap.linear(false), QuantMap.of(rnd)}) {
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
    }
}
