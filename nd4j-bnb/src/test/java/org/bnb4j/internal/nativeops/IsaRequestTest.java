package org.bnb4j.internal.nativeops;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** BNB4J_ISA as the dispatcher reads it: exact names, and only those this CPU has. */
class IsaRequestTest {
    private static final String AVX2_CPU = "scalar,avx2";

    @Test
    void unsetOrEmptySaysNothing() {
        for (String v : new String[]{null, ""}) {
            IsaRequest r = IsaRequest.check(v, AVX2_CPU, "avx2");
            assertFalse(r.warn);
            assertNull(r.message);
        }
    }

    @Test
    void honouredValueIsInfoForTheStartUpLine() {
        for (String v : new String[]{"scalar", "avx2"}) {
            IsaRequest r = IsaRequest.check(v, AVX2_CPU, v);
            assertFalse(r.warn, v);
            assertEquals("BNB4J_ISA=\"" + v + "\"", r.message);
        }
    }

    @Test
    void unknownNamesWarnWithTheSupportedAndActiveIsas() {
        // Misspelt, wrong case and padded: dispatch.cpp compares with strcmp, so all are ignored.
        for (String v : new String[]{"avx3", "AVX2", " avx2", "avx2 ", "avx-512", "sse4.2", " "}) {
            IsaRequest r = IsaRequest.check(v, AVX2_CPU, "avx2");
            assertTrue(r.warn, v);
            assertTrue(r.message.contains("\"" + v + "\" is not an instruction set name"), r.message);
            assertTrue(r.message.contains("scalar, avx2, avx512, avx512vbmi"), r.message);
            assertTrue(r.message.contains("this CPU supports scalar,avx2; using avx2"), r.message);
        }
    }

    @Test
    void namesThisCpuLacksWarn() {
        for (String v : new String[]{"avx512", "avx512vbmi"}) {
            IsaRequest r = IsaRequest.check(v, AVX2_CPU, "avx2");
            assertTrue(r.warn, v);
            assertTrue(r.message.contains("\"" + v + "\" is not supported by this CPU and was ignored"), r.message);
            assertTrue(r.message.endsWith("this CPU supports scalar,avx2; using avx2"), r.message);
        }
        // "avx512" must not pass because "avx512vbmi" contains it.
        assertTrue(IsaRequest.check("avx512", "scalar,avx2,avx512vbmi", "avx512vbmi").warn);
    }

    @Test
    void switchedAfterStartUpIsInfo() {
        IsaRequest r = IsaRequest.check("avx2", AVX2_CPU, "scalar");
        assertFalse(r.warn);
        assertTrue(r.message.contains("since switched to scalar"), r.message);
    }
}
