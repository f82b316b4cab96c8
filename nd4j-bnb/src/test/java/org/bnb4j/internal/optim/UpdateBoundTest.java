package org.bnb4j.internal.optim;

import org.bnb4j.optim.OptimHyper;
import org.bnb4j.optim.OptimKind;
import org.bnb4j.optim.UpdateBound;

import org.bnb4j.internal.optim.JavaOptimizerKernels;
import org.bnb4j.internal.optim.OptimState8bit;
import org.bnb4j.internal.optim.OptimizerKernels;

import org.bnb4j.internal.kernels.KernelProvider;
import org.bnb4j.internal.nativeops.BnbNative;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.bnb4j.internal.optim.OptimizerKernelsTest.bytes;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The Adam/AdEMAMix update bound: it must stop the outlier failure of block-wise 8-bit state, never
 * act on a state that exact 32-bit arithmetic can produce, and leave bitsandbytes' bounds test bit for
 * bit unchanged.
 */
class UpdateBoundTest {

    private static List<OptimizerKernels> implementations() {
        List<OptimizerKernels> l = new ArrayList<>();
        l.add(JavaOptimizerKernels.INSTANCE);
        if (KernelProvider.nativeKernels().isPresent()) l.add(KernelProvider.get().optimizerKernels());
        return l;
    }

    private static String[] isas() {
        return KernelProvider.nativeKernels().isPresent() ? BnbNative.supportedIsas().split(",") : new String[]{"java"};
    }

    private static OptimHyper adam(long t) {
        return OptimHyper.adam(1e-3, 0.9, 0.999, 1e-8, t);
    }

    /**
     * The kernel repro: a 256-block with g = [1e4, 1, 1e-3, ...] at step 1, then 1e-3. Without
     * the bound element 1's step-2 update is m / eps-sized (~0.6, i.e. 600 x lr); with it, it stays
     * within step size x bound and within a small factor of the 32-bit update; every ISA gives the
     * Java result.
     */
    @Test
    void outlierBlockNoLongerBlowsUp() {
        int n = 256;
        float[] g1 = new float[n];
        Random r = new Random(1);
        for (int i = 0; i < n; i++) g1[i] = (float) (1e-3 * r.nextGaussian());
        g1[0] = 1e4f;
        g1[1] = 1f;
        float[] g2 = new float[n];
        java.util.Arrays.fill(g2, 1e-3f);

        float u32 = step2Update(JavaOptimizerKernels.INSTANCE, g1, g2, false, true)[1];
        float unbounded = step2Update(JavaOptimizerKernels.INSTANCE, g1, g2, true, false)[1];
        assertTrue(unbounded > 100 * u32, "the failure this guards against: 8-bit " + unbounded + " vs 32-bit " + u32);
        // |update| <= step size * |m| / sqrt(v) <= step size * the moment bound
        double stepSize = 1e-3 * Math.sqrt(1 - 0.999 * 0.999) / (1 - 0.9 * 0.9);
        float cap = (float) (stepSize * adam(2).momentBound());
        assertTrue(cap < 3 * u32, "cap " + cap + " vs 32-bit update " + u32);

        float[] ref = step2Update(JavaOptimizerKernels.INSTANCE, g1, g2, true, true);
        assertTrue(ref[1] <= cap && ref[1] > 0, "bounded 8-bit update " + ref[1] + ", cap " + cap);
        for (float u : ref) assertTrue(Math.abs(u) <= cap, "every update within the cap");
        String[] isas = isas();
        try {
            for (String isa : isas) {
                if (!isa.equals("java")) assertTrue(BnbNative.selectIsa(isa));
                for (OptimizerKernels k : implementations()) {
                    assertArrayEquals(ref, step2Update(k, g1, g2, true, true), isa + " " + k.getClass().getSimpleName());
                }
            }
        } finally {
            if (KernelProvider.nativeKernels().isPresent()) BnbNative.selectIsa(isas[isas.length - 1]);
        }
    }

    private static float[] step2Update(OptimizerKernels k, float[] g1, float[] g2, boolean eightBit, boolean bound) {
        int n = g1.length;
        INDArray a = Nd4j.createFromArray(g1.clone()), b = Nd4j.createFromArray(g2.clone());
        OptimHyper h1 = bound ? adam(1) : adam(1).withoutUpdateBound(), h2 = bound ? adam(2) : adam(2).withoutUpdateBound();
        if (eightBit) {
            OptimState8bit s = OptimState8bit.allocate(OptimKind.ADAM, n, 256);
            k.step8bit(h1, a, s);
            k.step8bit(h2, b, s);
        } else {
            INDArray m = Nd4j.create(DataType.FLOAT, n), v = Nd4j.create(DataType.FLOAT, n);
            k.step32(h1, a, m, v);
            k.step32(h2, b, m, v);
        }
        return b.toFloatVector();
    }

    /** The optimizers whose step has a moment bound (Adam, AdEMAMix), by their example step. */
    static List<OptimKind> bounded() {
        List<OptimKind> k = new ArrayList<>();
        for (OptimKind kind : OptimKind.values()) if (kind.example(1).momentBound() < Float.POSITIVE_INFINITY) k.add(kind);
        assertTrue(k.size() >= 2, "Adam and AdEMAMix have moment bounds: " + k);
        return k;
    }

    /**
     * 32-bit Adam and AdEMAMix on gradient sequences chosen to push |m|/sqrt(v) to its supremum (the
     * Cauchy-Schwarz equality case g_i ~ (b2/b1)^-i, shrinking by b2/b1 per step), plus heavy-tailed,
     * sign-alternating and spiky ones: the bound never acts (updates and states bit-identical with
     * and without it), and the worst case comes within 2% of the bound (it is tight).
     */
    @Test
    void neverActsOnThirtyTwoBitState() {
        int n = 4096, steps = 300;
        double worst = 0;
        for (OptimKind kind : bounded()) {
            Random r = new Random(kind.ordinal());
            INDArray[] withBound = OptimizerKernelsTest.zeros(kind, n), without = OptimizerKernelsTest.zeros(kind, n);
            for (int t = 1; t <= steps; t++) {
                float[] g = new float[n];
                for (int i = 0; i < n; i++) {
                    switch (i % 4) {
                        case 0: g[i] = (float) Math.pow(0.999 / 0.9, t) * (i % 8 == 0 ? 1 : -1); break; // equality case
                        case 1: g[i] = (float) (r.nextGaussian() / Math.max(1e-3, Math.abs(r.nextGaussian()))); break; // Cauchy-like
                        case 2: g[i] = (t % 2 == 0 ? 1f : -1f) * (float) Math.exp(r.nextGaussian() * 5); break;
                        default: g[i] = t == 1 + (i % 50) ? 1e6f : 1e-4f; break; // one spike, then small
                    }
                }
                OptimHyper h = kind.example(t);
                INDArray a = Nd4j.createFromArray(g), b = Nd4j.createFromArray(g.clone());
                JavaOptimizerKernels.INSTANCE.step32(h, a, withBound);
                JavaOptimizerKernels.INSTANCE.step32(h.withoutUpdateBound(), b, without);
                assertArrayEquals(bytes(b), bytes(a), kind + " update at step " + t);
                for (int s = 0; s < withBound.length; s++) assertArrayEquals(bytes(without[s]), bytes(withBound[s]));
                if (kind == OptimKind.ADAM) {
                    // how close 32-bit state comes to the exact bound: max |m| / sqrt(v) / bound
                    INDArray ratio = Transforms.abs(withBound[0]).divi(Transforms.sqrt(withBound[1], true).addi(1e-30));
                    worst = Math.max(worst, ratio.maxNumber().doubleValue() / (h.momentBound() / UpdateBound.SLACK));
                }
            }
        }
        assertTrue(worst > 0.98 && worst <= 1.0 + 1e-4, "worst |m| / sqrt(v) / bound for 32-bit Adam: " + worst);
    }

    /** bitsandbytes' bounds test (OptimizerKernelsTest) is bit for bit the same with and without the bound. */
    @Test
    void bitsandbytesBoundsRunIsUnchanged() {
        for (OptimKind kind : bounded()) {
            long n = 1024 * 1024;
            OptimizerKernels k = KernelProvider.get().optimizerKernels();
            Nd4j.getRandom().setSeed(77);
            OptimState8bit s1 = OptimState8bit.allocate(kind, n, 256), s2 = OptimState8bit.allocate(kind, n, 256);
            INDArray[] t1 = OptimizerKernelsTest.zeros(kind, n), t2 = OptimizerKernelsTest.zeros(kind, n);
            for (int t = 1; t <= 50; t++) {
                OptimHyper h = kind.example(t);
                INDArray g = Nd4j.randn(DataType.FLOAT, n).muli(0.01);
                INDArray a = g.dup(), b = g.dup(), c = g.dup(), d = g.dup();
                k.step8bit(h, a, s1);
                k.step8bit(h.withoutUpdateBound(), b, s2);
                assertArrayEquals(bytes(b), bytes(a), kind + " 8-bit update at step " + t);
                k.step32(h, c, t1);
                k.step32(h.withoutUpdateBound(), d, t2);
                assertArrayEquals(bytes(d), bytes(c), kind + " 32-bit update at step " + t);
            }
            for (int i = 0; i < s1.arrays().length; i++) assertArrayEquals(bytes(s2.arrays()[i]), bytes(s1.arrays()[i]));
        }
    }

    @Test
    void boundValues() {
        // t = 1: |m| / sqrt(v) = (1 - b1) / sqrt(1 - b2) exactly; the bound is the supremum over all t
        double r1 = 0.1 / Math.sqrt(0.001);
        assertEquals(r1 * Math.sqrt(1 / (1 - 0.81 / 0.999)), UpdateBound.adamRatio(0.9, 0.999, 1), 1e-9);
        assertEquals(UpdateBound.adamRatio(0.9, 0.999, 1), UpdateBound.adamRatio(0.9, 0.999, 1_000_000), 0.0);
        // b^2 >= b2: the bound grows with the step count, from the EMA's horizon 1 / (1 - b) on
        double g = 0.9999 * 0.9999 / 0.999;
        double atHorizon = 1e-4 / Math.sqrt(0.001) * Math.sqrt((Math.pow(g, 10_000) - 1) / (g - 1));
        assertEquals(atHorizon, UpdateBound.emaRatio(0.9999, 0.9999, 0.999, 100), 1e-9 * atHorizon);
        assertEquals(atHorizon, UpdateBound.emaRatio(0.9999, 0.9999, 0.999, 10_000), 1e-9 * atHorizon);
        double later = 1e-4 / Math.sqrt(0.001) * Math.sqrt((Math.pow(g, 12_000) - 1) / (g - 1));
        assertEquals(later, UpdateBound.emaRatio(0.9999, 0.9999, 0.999, 12_000), 1e-9 * later);
        assertTrue(UpdateBound.emaRatio(0.9999, 0.9999, 0.999, 10_000_000) == Double.POSITIVE_INFINITY);
        assertEquals(Double.POSITIVE_INFINITY, UpdateBound.adamRatio(0.9, 0, 5)); // v = g^2: no bound
        assertEquals(Float.POSITIVE_INFINITY, OptimHyper.adam(1e-3, 0.9, 0.0, 1e-8, 3).momentBound());
        assertEquals(Float.POSITIVE_INFINITY, OptimHyper.lion(1e-3, 0.9, 0.99).momentBound());
        assertEquals((float) (UpdateBound.adamRatio(0.9, 0.999, 7) * UpdateBound.SLACK), OptimHyper.adam(1e-3, 0.9, 0.999, 1e-8, 7).momentBound());
    }
}
