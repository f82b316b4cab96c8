package org.bnb4j.internal.kernels;

import org.bnb4j.quant.QuantMap;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

class CodeSearchTest {

    // Independent statement of the contract for a strictly increasing map: the code is the number
    // of float midpoints m_k = (c[k] + c[k+1]) * 0.5f below x, where x == m_k goes to the even index.
    static int byMidpoints(float[] c, float x) {
        if (x != x) return 0;
        int code = 0;
        for (int k = 0; k < 255; k++) {
            float m = (c[k] + c[k + 1]) * 0.5f;
            if (x > m || (x == m && (k & 1) == 1)) code++;
        }
        return code;
    }

    @Test
    void referenceSearchIsNearestWithTiesToEven() {
        for (QuantMap map : new QuantMap[]{QuantMap.dynamic(true), QuantMap.dynamic(false), QuantMap.linear(false)}) {
            float[] c = map.values();
            for (int k = 0; k < 255; k++) {
                float m = (c[k] + c[k + 1]) * 0.5f;
                for (int d = -3; d <= 3; d++) {
                    float x = m;
                    for (int s = 0; s < Math.abs(d); s++) x = d < 0 ? Math.nextDown(x) : Math.nextUp(x);
                    assertEquals(byMidpoints(c, x), CodeSearch.nearest(c, x), map + " near midpoint " + k + " offset " + d);
                }
                assertEquals((k & 1) == 0 ? k : k + 1, CodeSearch.nearest(c, m), "tie at midpoint " + k + " goes to the even index");
            }
            for (int i = 0; i < 256; i++) assertEquals(byMidpoints(c, c[i]), CodeSearch.nearest(c, c[i]));
            SplittableRandom r = new SplittableRandom(7);
            for (int i = 0; i < 200_000; i++) {
                float x = (float) (r.nextDouble() * 2.2 - 1.1);
                if (i % 3 == 0) x *= (float) Math.pow(10, -r.nextInt(8));
                assertEquals(byMidpoints(c, x), CodeSearch.nearest(c, x), map + " x=" + x);
            }
        }
    }

    @Test
    void specialValues() {
        float[] s = QuantMap.dynamic(true).values();
        assertEquals(0, CodeSearch.nearest(s, Float.NaN));
        assertEquals(127, CodeSearch.nearest(s, 0.0f));
        assertEquals(127, CodeSearch.nearest(s, -0.0f));
        assertEquals(255, CodeSearch.nearest(s, 1.0f));
        assertEquals(255, CodeSearch.nearest(s, 1.5f));
        assertEquals(0, CodeSearch.nearest(s, -1.0f));
        assertEquals(0, CodeSearch.stochastic(s, Float.NaN, 0.3f));
    }

    @Test
    void normalizeHandlesZeroAndDenormalBlocks() {
        assertEquals(0.0f, CodeSearch.normalize(0.0f, 0.0f));
        assertTrue(Float.isNaN(CodeSearch.normalize(Float.NaN, 0.0f)));
        float tiny = Float.MIN_VALUE * 8; // 1/tiny overflows
        assertEquals(1.0f, CodeSearch.normalize(tiny, tiny));
        assertEquals(0.5f, CodeSearch.normalize(tiny / 2, tiny));
        assertEquals(0.25f * (1.0f / 0.75f), CodeSearch.normalize(0.25f, 0.75f));
    }

    @Test
    void stochasticRoundingIsUnbiased() {
        float[] c = QuantMap.dynamic(true).values();
        float y = 0.3337f;
        int lo = 0;
        while (c[lo + 1] <= y) lo++;
        double sum = 0;
        int n = 200_000;
        for (int i = 0; i < n; i++) {
            int code = CodeSearch.stochastic(c, y, CodeSearch.uniform01(42, i));
            assertTrue(code == lo || code == lo + 1, "brackets only");
            sum += c[code];
        }
        assertEquals(y, sum / n, 2e-4);
        assertEquals(CodeSearch.uniform01(1, 5), CodeSearch.uniform01(1, 5));
        assertNotEquals(CodeSearch.uniform01(1, 5), CodeSearch.uniform01(2, 5));
    }

    @Test
    void absmaxIgnoresNanAndKeepsInf() {
        assertEquals(3.0f, CodeSearch.absmax(new float[]{1, Float.NaN, -3, 2}, 4));
        assertEquals(Float.POSITIVE_INFINITY, CodeSearch.absmax(new float[]{1, Float.NEGATIVE_INFINITY}, 2));
        assertEquals(0.0f, CodeSearch.absmax(new float[]{Float.NaN}, 1));
    }
}
