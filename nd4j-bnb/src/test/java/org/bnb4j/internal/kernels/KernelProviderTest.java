package org.bnb4j.internal.kernels;

import org.bnb4j.internal.nativeops.BnbNative;
import org.bnb4j.internal.optim.JavaOptimizerKernels;
import org.bnb4j.optim.OptimHyper;
import org.bnb4j.optim.OptimKind;
import org.bnb4j.internal.optim.OptimState8bit;
import org.bnb4j.internal.optim.OptimizerKernels;
import org.bnb4j.quant.Blockwise;
import org.bnb4j.quant.QuantMap;
import org.bnb4j.quant.QuantState;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Which Java kernels run: runs in every surefire execution (with and without the Vector API module,
 * with and without the native library) and checks the choice fits the JVM it runs in, and that the
 * chosen kernels work (without the module, touching a vectorised class would fail to link).
 */
class KernelProviderTest {

    static boolean nativeLoaded() {
        return KernelProvider.nativeKernels().isPresent();
    }

    @Test
    void choiceFollowsTheModule() {
        boolean module = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
        assertEquals(module, KernelProvider.vectorModulePresent());
        boolean disabled = "false".equals(System.getProperty("bnb4j.vector"));
        boolean vectorized = KernelProvider.vectorized().isPresent();
        assertEquals(module && !disabled, vectorized, String.valueOf(KernelProvider.vectorUnavailableReason()));
        assertEquals(vectorized, KernelProvider.vectorUnavailableReason() == null);
        if (!module) {
            assertTrue(KernelProvider.vectorUnavailableReason().contains("--add-modules jdk.incubator.vector"),
                    KernelProvider.vectorUnavailableReason());
        } else if (vectorized) {
            KernelProvider v = KernelProvider.vectorized().get();
            assertTrue(v.name().startsWith("pure-Java vectorized"), v.name());
            assertFalse(v.quantKernels() instanceof JavaQuantKernels);
            assertNotSame(JavaOptimizerKernels.INSTANCE, v.optimizerKernels());
        }
        KernelProvider ref = KernelProvider.reference();
        assertTrue(ref.quantKernels() instanceof JavaQuantKernels);
        assertSame(JavaOptimizerKernels.INSTANCE, ref.optimizerKernels());
        assertFalse(ref.isNative());
    }

    /** The native library's scalar kernels give way to the vectorized Java ones only on a CPU without AVX2, unless asked for. */
    @Test
    void javaVectorsReplaceNativeScalarKernelsOnlyWithoutSimd() {
        assertTrue(KernelProvider.prefersJavaVectors("scalar", null));
        assertTrue(KernelProvider.prefersJavaVectors("scalar", ""));
        assertFalse(KernelProvider.prefersJavaVectors("scalar", "scalar"));
        assertFalse(KernelProvider.prefersJavaVectors("scalar,avx2", null));
        assertFalse(KernelProvider.prefersJavaVectors("scalar,avx2,avx512,avx512vbmi", null));
        assertFalse(KernelProvider.prefersJavaVectors("scalar,avx2", "scalar"));
        if (nativeLoaded() && !BnbNative.supportedIsas().equals("scalar")) {
            // a CPU with SIMD: the native kernels stay the choice
            assertTrue(KernelProvider.get().isNative(), KernelProvider.get().name());
        }
    }

    /** One object gives both kinds of kernels: the same implementation family, chosen once. */
    @Test
    void oneProviderGivesBothKernels() {
        KernelProvider p = KernelProvider.get();
        assertSame(p, KernelProvider.get());
        if (nativeLoaded()) {
            assertSame(KernelProvider.nativeKernels().get(), p);
            assertTrue(p.isNative());
            assertTrue(p.name().startsWith("native ("), p.name());
        } else {
            assertSame(KernelProvider.vectorized().orElse(KernelProvider.reference()), p);
            assertFalse(p.isNative());
        }
        assertEquals(p.name(), org.bnb4j.Bnb4j.kernels());
        assertEquals(p.isNative(), org.bnb4j.Bnb4j.nativeKernels());
    }

    /** The active kernels (whichever they are here) give the scalar oracle's results through the public API. */
    @Test
    void activeKernelsMatchTheScalarOracle() {
        Nd4j.getRandom().setSeed(1);
        INDArray x = Nd4j.randn(DataType.FLOAT, 3, 10_001);
        QuantState a = Blockwise.quantize(x, QuantMap.dynamic(), 256);
        QuantState b = new BlockwiseQuantizer(KernelProvider.reference().quantKernels()).quantize(x, QuantMap.dynamic(), 256);
        assertArrayEquals(b.codes().toIntVector(), a.codes().toIntVector());
        assertArrayEquals(b.absmax().toFloatVector(), a.absmax().toFloatVector());
        assertArrayEquals(Blockwise.dequantize(b).reshape(x.length()).toFloatVector(), Blockwise.dequantize(a).reshape(x.length()).toFloatVector());

        long n = 30_001;
        OptimState8bit s1 = OptimState8bit.allocate(OptimKind.ADAM, n, 256), s2 = OptimState8bit.allocate(OptimKind.ADAM, n, 256);
        for (int t = 1; t <= 3; t++) {
            INDArray g = Nd4j.randn(DataType.FLOAT, n).muli(0.01), g1 = g.dup(), g2 = g.dup();
            KernelProvider.get().optimizerKernels().step8bit(OptimHyper.adam(1e-3, 0.9, 0.999, 1e-8, t), g1, s1);
            JavaOptimizerKernels.INSTANCE.step8bit(OptimHyper.adam(1e-3, 0.9, 0.999, 1e-8, t), g2, s2);
            assertArrayEquals(g2.toFloatVector(), g1.toFloatVector(), "step " + t);
        }
    }

    /**
     * The quantize/dequantize API passes CUDA-backend arrays on to the kernels the CUDA provider chose
     * (device kernels, or ones refusing with the reason the CUDA library is missing), and refuses only
     * backends neither kind of kernel can address.
     */
    @Test
    void theQuantizerLeavesCudaArraysToTheCudaProvider() {
        assertNull(BlockwiseQuantizer.backendProblem(true, false));
        assertNull(BlockwiseQuantizer.backendProblem(false, true));
        assertTrue(BlockwiseQuantizer.backendProblem(false, false).contains("CPU backend"));
    }

    /** BNB4J_THREADS values the native library does not know fall back to auto there: warned about, like BNB4J_ISA's. */
    @Test
    void unknownThreadChoicesAreWarnedAbout() {
        for (String ok : new String[]{null, "auto", "openmp", "openmp-spin", "pool"}) assertNull(KernelProvider.threadsRequestProblem(ok), ok);
        for (String bad : new String[]{"POOL", " pool", "0", "-1", "1000", "garbage", ""}) {
            String w = KernelProvider.threadsRequestProblem(bad);
            assertTrue(w != null && w.contains("\"" + bad + "\"") && w.contains("auto"), bad + ": " + w);
        }
    }
}
