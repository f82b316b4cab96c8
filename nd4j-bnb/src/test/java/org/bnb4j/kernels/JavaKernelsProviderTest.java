package org.bnb4j.kernels;

import org.bnb4j.optim.JavaOptimizerKernels;
import org.bnb4j.optim.OptimHyper;
import org.bnb4j.optim.OptimKind;
import org.bnb4j.optim.OptimState8bit;
import org.bnb4j.optim.OptimizerKernels;
import org.bnb4j.quant.Blockwise;
import org.bnb4j.quant.BlockwiseQuantizer;
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
class JavaKernelsProviderTest {

    static boolean nativeLoaded() {
        return Kernels.nativeKernels().isPresent();
    }

    @Test
    void choiceFollowsTheModule() {
        JavaKernelsProvider p = JavaKernelsProvider.get();
        boolean module = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
        assertEquals(module, JavaKernelsProvider.vectorModulePresent());
        boolean disabled = "false".equals(System.getProperty("bnb4j.vector"));
        assertEquals(module && !disabled, p.vectorized(), String.valueOf(p.unavailableReason()));
        assertEquals(p.vectorized(), Kernels.vector().isPresent());
        assertEquals(p.vectorized(), OptimizerKernels.vector().isPresent());
        if (!module) {
            assertTrue(p.unavailableReason().contains("--add-modules jdk.incubator.vector"), p.unavailableReason());
            assertTrue(p.quantKernels() instanceof JavaQuantKernels);
        } else if (p.vectorized()) {
            assertTrue(p.quantKernels().name().startsWith("pure-Java vectorized"), p.quantKernels().name());
        }
        if (!nativeLoaded()) {
            assertSame(p.quantKernels(), Kernels.get());
            if (p.vectorized()) assertSame(OptimizerKernels.vector().get(), OptimizerKernels.get());
            else assertSame(JavaOptimizerKernels.INSTANCE, OptimizerKernels.get());
        }
    }

    /** The active kernels (whichever they are here) give the scalar oracle's results through the public API. */
    @Test
    void activeKernelsMatchTheScalarOracle() {
        Nd4j.getRandom().setSeed(1);
        INDArray x = Nd4j.randn(DataType.FLOAT, 3, 10_001);
        QuantState a = Blockwise.quantize(x, QuantMap.dynamic(), 256);
        QuantState b = new BlockwiseQuantizer(Kernels.java()).quantize(x, QuantMap.dynamic(), 256);
        assertArrayEquals(b.codes().toIntVector(), a.codes().toIntVector());
        assertArrayEquals(b.absmax().toFloatVector(), a.absmax().toFloatVector());
        assertArrayEquals(Blockwise.dequantize(b).reshape(x.length()).toFloatVector(), Blockwise.dequantize(a).reshape(x.length()).toFloatVector());

        long n = 30_001;
        OptimState8bit s1 = OptimState8bit.allocate(OptimKind.ADAM, n, 256), s2 = OptimState8bit.allocate(OptimKind.ADAM, n, 256);
        for (int t = 1; t <= 3; t++) {
            INDArray g = Nd4j.randn(DataType.FLOAT, n).muli(0.01), g1 = g.dup(), g2 = g.dup();
            OptimizerKernels.get().step8bit(OptimHyper.adam(1e-3, 0.9, 0.999, 1e-8, t), g1, s1);
            JavaOptimizerKernels.INSTANCE.step8bit(OptimHyper.adam(1e-3, 0.9, 0.999, 1e-8, t), g2, s2);
            assertArrayEquals(g2.toFloatVector(), g1.toFloatVector(), "step " + t);
        }
    }
}
