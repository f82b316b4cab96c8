package org.bnb4j.internal.nativeops;

import org.bnb4j.internal.kernels.KernelProvider;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class NativeLibraryTest {

    /** CI sets -Dbnb4j.requireNative=true: there the library must load from the jar, or the build fails. */
    @Test
    void nativeLibraryLoadsFromTheJarWhenRequired() {
        NativeLibraryLoader.Result r = NativeLibraryLoader.load();
        if (Boolean.getBoolean("bnb4j.requireNative")) {
            assertTrue(r.loaded, "native library did not load: " + r.detail);
            assertTrue(KernelProvider.get().quantKernels().name().startsWith("native"), KernelProvider.get().quantKernels().name());
        } else if (!r.loaded) {
            assertTrue(KernelProvider.get().quantKernels().name().startsWith("pure-Java"), KernelProvider.get().quantKernels().name());
        }
    }

    @Test
    void isaSelection() {
        assumeTrue(NativeLibraryLoader.load().loaded);
        String[] isas = BnbNative.supportedIsas().split(",");
        assertEquals("scalar", isas[0]);
        String before = BnbNative.activeIsa();
        assertTrue(BnbNative.selectIsa("scalar"));
        assertEquals("scalar", BnbNative.activeIsa());
        assertFalse(BnbNative.selectIsa("sse9"));
        assertTrue(BnbNative.selectIsa(before));
        assertTrue(BnbNative.maxThreads() >= 1);
        assertEquals("linux-x86_64", NativeLibraryLoader.platform());
    }
}
