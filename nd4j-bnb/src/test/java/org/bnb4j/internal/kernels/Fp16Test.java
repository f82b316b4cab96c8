package org.bnb4j.internal.kernels;

import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

class Fp16Test {

    @Test
    void everyHalfRoundTrips() {
        for (int h = 0; h < 65536; h++) {
            float f = Fp16.halfToFloat((short) h);
            boolean nan = (h & 0x7c00) == 0x7c00 && (h & 0x3ff) != 0;
            if (nan) {
                assertTrue(Float.isNaN(f));
                assertTrue(Float.isNaN(Fp16.halfToFloat(Fp16.floatToHalf(f))));
            } else {
                assertEquals(h, Fp16.floatToHalf(f) & 0xffff, "half " + Integer.toHexString(h));
            }
        }
    }

    // Round-to-nearest-even against exact decimal arithmetic over all finite halves.
    @Test
    void floatToHalfRoundsToNearestEven() {
        float[] halves = new float[31 * 1024];
        int n = 0;
        for (int h = 0; h < 0x7c00; h++) halves[n++] = Fp16.halfToFloat((short) h);
        SplittableRandom r = new SplittableRandom(3);
        for (int i = 0; i < 100_000; i++) {
            float x = Float.intBitsToFloat(r.nextInt(0x477ff000));
            short got = Fp16.floatToHalf(x);
            int lo = java.util.Arrays.binarySearch(halves, 0, n, x);
            if (lo >= 0) { assertEquals(lo, got); continue; }
            int hi = -lo - 1;
            lo = hi - 1;
            BigDecimal dx = new BigDecimal(x);
            int cmp = dx.subtract(new BigDecimal(halves[lo])).compareTo(new BigDecimal(halves[hi]).subtract(dx));
            int expected = cmp < 0 ? lo : cmp > 0 ? hi : ((lo & 1) == 0 ? lo : hi);
            assertEquals(expected, got, "x=" + x);
        }
        assertEquals(0x7c00, Fp16.floatToHalf(65520f));
        assertEquals(0x7bff, Fp16.floatToHalf(65519f));
        assertEquals((short) 0xfc00, Fp16.floatToHalf(Float.NEGATIVE_INFINITY));
    }

    @Test
    void bfloat16RoundsToNearestEven() {
        assertEquals(0x3f80, Fp16.floatToBf16(1.0f));
        assertEquals(0x3f80, Fp16.floatToBf16(Float.intBitsToFloat(0x3f808000))); // tie -> even
        assertEquals(0x3f82, Fp16.floatToBf16(Float.intBitsToFloat(0x3f818000))); // tie -> even (up)
        assertEquals(0x3f81, Fp16.floatToBf16(Float.intBitsToFloat(0x3f808001)));
        assertTrue(Float.isNaN(Fp16.bf16ToFloat(Fp16.floatToBf16(Float.NaN))));
        assertEquals(1.5f, Fp16.bf16ToFloat(Fp16.floatToBf16(1.5f)));
    }
}
