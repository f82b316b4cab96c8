package org.bnb4j.quant;

import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;

import static org.junit.jupiter.api.Assertions.*;

class QuantMapTest {
    static final String SIGNED_SHA = "e732639a65f497b4ad684bb166a4467708255edd5207757de8b8f0c7e1fda89c";
    static final String UNSIGNED_SHA = "305f002cc11278fb769d13b25b9fd0c7c83c8402c40a878fe086f4039fde6398";

    static String sha256(float[] v) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) b.putFloat(f);
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b.array()));
    }

    @Test
    void dynamicMapsMatchBitsandbytesHashes() throws Exception {
        assertEquals(SIGNED_SHA, sha256(QuantMap.dynamic(true).values()));
        assertEquals(UNSIGNED_SHA, sha256(QuantMap.dynamic(false).values()));
        assertSame(QuantMap.dynamic(), QuantMap.dynamic(true));
        assertEquals(QuantMap.dynamic(true, 7, 8), QuantMap.dynamic(true));
    }

    @Test
    void dynamicMapsMatchReferenceTableEntryByEntry() throws Exception {
        int[][] ref = new int[2][256];
        try (BufferedReader r = new BufferedReader(new InputStreamReader(
                getClass().getResourceAsStream("/dynamic-maps-reference.tsv"), StandardCharsets.UTF_8))) {
            int table = -1;
            String line;
            while ((line = r.readLine()) != null) {
                if (line.equals("signed")) { table = 0; continue; }
                if (line.equals("unsigned")) { table = 1; continue; }
                String[] f = line.split("\t");
                ref[table][Integer.parseInt(f[0])] = Integer.parseUnsignedInt(f[1], 16);
            }
        }
        for (int t = 0; t < 2; t++) {
            float[] v = QuantMap.dynamic(t == 0).values();
            for (int i = 0; i < 256; i++) {
                assertEquals(ref[t][i], Float.floatToRawIntBits(v[i]), (t == 0 ? "signed" : "unsigned") + " entry " + i);
            }
        }
    }

    @Test
    void dynamicMapStructure() {
        float[] s = QuantMap.dynamic(true).values();
        for (int i = 0; i < 127; i++) assertTrue(s[i] < 0, "negative at " + i);
        assertEquals(0.0f, s[127]);
        for (int i = 128; i < 256; i++) assertTrue(s[i] > 0, "positive at " + i);
        assertEquals(1.0f, s[255]);
        assertTrue(s[0] > -1.0f, "signed dynamic map has no -1.0");
        float[] u = QuantMap.dynamic(false).values();
        assertEquals(0.0f, u[0]);
        assertEquals(1.0f, u[255]);
        for (int i = 1; i < 256; i++) assertTrue(u[i] > u[i - 1]);
    }

    @Test
    void linearMaps() {
        float[] s = QuantMap.linear(true).values();
        assertEquals(-1.0f, s[0]);
        assertEquals(0.0f, s[127]);
        assertEquals(1.0f, s[255]);
        for (int i = 1; i < 256; i++) assertTrue(s[i] >= s[i - 1]);
        float[] u = QuantMap.linear(false).values();
        assertEquals(0.0f, u[0]);
        assertEquals(1.0f, u[255]);
        assertEquals(1.0f / 255, u[1], 1e-8);
    }

    @Test
    void linspaceFollowsPytorchHalves() {
        float[] l = QuantMap.linspace(0.1f, 1.0f, 5);
        float step = (1.0f - 0.1f) / 4;
        assertEquals(Math.fma(step, 1f, 0.1f), l[1]);
        assertEquals(Math.fma(-step, 1f, 1.0f), l[3]);
        assertEquals(1.0f, l[4]);
        assertEquals(0.1f, l[0]);
    }

    @Test
    void customMapsAreValidated() {
        float[] ok = QuantMap.dynamic().values();
        assertEquals(QuantMap.dynamic(), QuantMap.of(ok));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> QuantMap.of(new float[255]));
        assertTrue(e.getMessage().contains("256"), e.getMessage());
        float[] unsorted = ok.clone();
        unsorted[10] = 0.5f;
        e = assertThrows(IllegalArgumentException.class, () -> QuantMap.of(unsorted));
        assertTrue(e.getMessage().contains("sorted"), e.getMessage());
        float[] nan = ok.clone();
        nan[255] = Float.NaN;
        e = assertThrows(IllegalArgumentException.class, () -> QuantMap.of(nan));
        assertTrue(e.getMessage().contains("finite"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> QuantMap.of((float[]) null));
        assertThrows(IllegalArgumentException.class, () -> QuantMap.dynamic(true, 9, 8));
        // unsigned maps fill 2^totalBits values only with maxExponentBits = totalBits - 1 (bitsandbytes asserts the same)
        e = assertThrows(IllegalArgumentException.class, () -> QuantMap.dynamic(false, 6, 8));
        assertTrue(e.getMessage().startsWith("an unsigned dynamic map needs maxExponentBits = totalBits - 1 (7 for totalBits 8), got 6: "
                + "the construction gives 255 values"), e.getMessage());
        for (int total = 2; total <= 8; total++) {
            assertEquals(256, QuantMap.dynamic(false, total - 1, total).values().length);
            for (int bits = 1; bits < total; bits++) assertEquals(256, QuantMap.dynamic(true, bits, total).values().length);
        }
    }

    @Test
    void mapFromIndarray() {
        QuantMap m = QuantMap.of(QuantMap.linear(false).toINDArray());
        assertEquals(QuantMap.linear(false), m);
        assertNotEquals(QuantMap.linear(true), m);
        assertThrows(IllegalArgumentException.class,
                () -> QuantMap.of(org.nd4j.linalg.factory.Nd4j.zeros(org.nd4j.linalg.api.buffer.DataType.INT, 256)));
        // a DOUBLE value beyond float range is named as such, not as the Infinity it casts to
        double[] big = new double[256];
        for (int i = 0; i < 256; i++) big[i] = i;
        big[255] = 1e300;
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> QuantMap.of(org.nd4j.linalg.factory.Nd4j.createFromArray(big)));
        assertTrue(e.getMessage().contains("value 255 is 1.0E300, beyond float range"), e.getMessage());
    }
}
