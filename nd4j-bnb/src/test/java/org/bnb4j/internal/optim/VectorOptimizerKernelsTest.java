package org.bnb4j.internal.optim;

import org.bnb4j.optim.OptimHyper;
import org.bnb4j.optim.OptimKind;

import org.bnb4j.internal.kernels.CodeSearch;
import org.bnb4j.internal.kernels.KernelProvider;
import org.bnb4j.internal.kernels.SearchTable;
import org.bnb4j.internal.kernels.VectorCodes;
import org.bnb4j.quant.QuantMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;

import static org.bnb4j.internal.optim.OptimizerKernelsTest.bytes;
import static org.bnb4j.internal.optim.OptimizerKernelsTest.extremeGradient;
import static org.bnb4j.internal.optim.OptimizerKernelsTest.gradient;
import static org.bnb4j.internal.optim.OptimizerKernelsTest.zeros;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The vectorised Java optimizer steps must equal the scalar Java oracle bit for bit: updates and
 * states, plain and NaN-safe packed 8-bit, 32-bit, every kind and blocksize, short tails, NaN/Inf
 * gradients, adversarial gradients (overflowing, denormal, zero, -0.0, next to +-absmax) and
 * outliers that make the moment bound act.
 */
class VectorOptimizerKernelsTest {
    static final int[] BLOCKSIZES = {64, 128, 256, 512, 1024, 2048, 4096};
    static OptimizerKernels vec;

    @BeforeAll
    static void vectorKernels() {
        assumeTrue(KernelProvider.vectorModulePresent(), "run with --add-modules jdk.incubator.vector");
        vec = KernelProvider.vectorized().map(KernelProvider::optimizerKernels).orElseThrow(() -> new AssertionError("module present but no vector optimizer kernels"));
        assertEquals("VectorOptimizerKernels", vec.getClass().getSimpleName());
    }

    /** Gradient of step t: gaussian, adversarial, with NaN/Inf, or with outliers (one element x1e6 in every third block). */
    static INDArray stepGradient(int t, long n, int blocksize) {
        switch (t % 4) {
            case 1: return gradient(t, n, false);
            case 2: return extremeGradient(t, n, blocksize);
            case 3: {
                INDArray g = gradient(t, n, false);
                for (long b = 0; b * blocksize < n; b += 3) g.putScalar(b * blocksize, 1e6f * (b % 2 == 0 ? 1 : -1));
                return g;
            }
            default: {
                if (n >= 4) return gradient(t, n, true);
                INDArray g = gradient(t, n, false);
                g.putScalar(0, Float.NaN);
                return g;
            }
        }
    }

    static void assertSteps(OptimKind kind, long n, int blocksize, int steps, boolean bound) {
        assertSteps(vec, kind, n, blocksize, steps, bound);
    }

    static void assertSteps(OptimizerKernels vec, OptimKind kind, long n, int blocksize, int steps, boolean bound) {
        OptimState8bit sj = OptimState8bit.allocate(kind, n, blocksize), sv = OptimState8bit.allocate(kind, n, blocksize);
        long words = OptimState8bit.packedLength(kind, n, blocksize);
        INDArray pj = Nd4j.create(DataType.FLOAT, words), pv = Nd4j.create(DataType.FLOAT, words);
        OptimState8bit qj = OptimState8bit.packed(kind, pj, n, blocksize), qv = OptimState8bit.packed(kind, pv, n, blocksize);
        INDArray[] fj = zeros(kind, n), fv = zeros(kind, n);
        String what = kind + " n=" + n + " blocksize " + blocksize + (bound ? "" : " unbounded");
        for (int t = 1; t <= steps; t++) {
            OptimHyper h = kind.example(t);
            if (!bound) h = h.withoutUpdateBound();
            INDArray g = stepGradient(t, n, blocksize);
            INDArray gj = g.dup(), gv = g.dup();
            JavaOptimizerKernels.INSTANCE.step8bit(h, gj, sj);
            vec.step8bit(h, gv, sv);
            assertArrayEquals(bytes(gj), bytes(gv), what + " 8-bit update, step " + t);
            for (int i = 0; i < sj.arrays().length; i++) {
                assertArrayEquals(bytes(sj.arrays()[i]), bytes(sv.arrays()[i]), what + " 8-bit state array " + i + ", step " + t);
            }
            INDArray hj = g.dup(), hv = g.dup();
            JavaOptimizerKernels.INSTANCE.step8bit(h, hj, qj);
            vec.step8bit(h, hv, qv);
            assertArrayEquals(bytes(hj), bytes(hv), what + " packed update, step " + t);
            assertArrayEquals(bytes(pj), bytes(pv), what + " packed state, step " + t);
            assertEquals(JavaOptimizerKernels.INSTANCE.absmaxChecksum(qj), vec.absmaxChecksum(qv));
            INDArray kj = g.dup(), kv = g.dup();
            JavaOptimizerKernels.INSTANCE.step32(h, kj, fj);
            vec.step32(h, kv, fv);
            assertArrayEquals(bytes(kj), bytes(kv), what + " 32-bit update, step " + t);
            for (int i = 0; i < fj.length; i++) assertArrayEquals(bytes(fj[i]), bytes(fv[i]), what + " 32-bit state " + i + ", step " + t);
        }
    }

    @ParameterizedTest
    @EnumSource(OptimKind.class)
    void everyBlocksizeMatchesBitForBit(OptimKind kind) {
        for (int bs : BLOCKSIZES) assertSteps(kind, 5L * bs + bs / 2 + 3, bs, 6, true);
        assertSteps(kind, 70_001, 256, 5, false);
        assertSteps(kind, 3 * 4096 + 17, 2048, 5, true);
    }

    /**
     * An optimizer without a vector rule runs its scalar rule on the vector path's work arrays: with
     * no vector rule registered at all, every kind still equals the oracle bit for bit (and passes
     * the start-up self-check).
     */
    @ParameterizedTest
    @EnumSource(OptimKind.class)
    void withoutAVectorRuleTheScalarRuleRunsBitForBit(OptimKind kind) {
        OptimizerKernels fallback = new VectorOptimizerKernels(java.util.Map.of());
        for (int bs : new int[]{64, 256, 4096}) assertSteps(fallback, kind, 5L * bs + bs / 2 + 3, bs, 5, true);
        for (long n : new long[]{1, 17, 257}) assertSteps(fallback, kind, n, 64, 4, true);
    }

    @ParameterizedTest
    @EnumSource(OptimKind.class)
    void shortTailsMatch(OptimKind kind) {
        for (long n : new long[]{1, 2, 3, 5, 15, 17, 63, 65, 255, 257, 4097}) {
            assertSteps(kind, n, 64, 4, true);
            assertSteps(kind, n, 256, 4, true);
        }
    }

    @Test
    void ademamixSchedulesMatch() {
        long n = 20_003;
        OptimState8bit sj = OptimState8bit.allocate(OptimKind.ADEMAMIX, n, 256), sv = OptimState8bit.allocate(OptimKind.ADEMAMIX, n, 256);
        for (int t = 1; t <= 6; t++) {
            OptimHyper h = OptimHyper.ademamix(1e-3, 0.9, 0.999, 0.9999, 8.0, 1e-8, t, 4, 5);
            INDArray g = stepGradient(t, n, 256), gj = g.dup(), gv = g.dup();
            JavaOptimizerKernels.INSTANCE.step8bit(h, gj, sj);
            vec.step8bit(h, gv, sv);
            assertArrayEquals(bytes(gj), bytes(gv), "scheduled AdEMAMix update, step " + t);
            for (int i = 0; i < sj.arrays().length; i++) assertArrayEquals(bytes(sj.arrays()[i]), bytes(sv.arrays()[i]), "state " + i);
        }
    }

    /** The outlier steps above really exercise the moment bound: with and without it the results differ. */
    @Test
    void theMomentBoundActsInTheseTests() {
        long n = 4096;
        OptimState8bit a = OptimState8bit.allocate(OptimKind.ADAM, n, 256), b = OptimState8bit.allocate(OptimKind.ADAM, n, 256);
        boolean differs = false;
        for (int t = 1; t <= 4; t++) {
            INDArray g = stepGradient(t, n, 256), ga = g.dup(), gb = g.dup();
            vec.step8bit(OptimKind.ADAM.example(t), ga, a);
            vec.step8bit(OptimKind.ADAM.example(t).withoutUpdateBound(), gb, b);
            differs |= !Arrays.equals(bytes(ga), bytes(gb));
        }
        assertTrue(differs, "the clamp acted at least once");
    }

    /**
     * The state encoder alone against StateCodec.encode on values that hit its rare paths: every
     * transition of both maps (+-3 ulps), a sweep of 600 ulps around the ties between the neighbours
     * of codes 1 and 254 (the packed top-byte rule), zeros, NaN of both signs, values that underflow
     * when normalised, for every top-byte phase, with and without the sign fix.
     */
    @Test
    void stateEncoderEqualsStateCodec() {
        for (QuantMap map : new QuantMap[]{QuantMap.dynamic(true), QuantMap.dynamic(false)}) {
            SearchTable t = SearchTable.of(map);
            float[] c = map.values(), th = CodeSearch.thresholds(c);
            java.util.List<Float> v = new java.util.ArrayList<>();
            for (int k = 1; k < 256; k++) {
                float y = th[k];
                for (int d = 0; d < 3; d++) y = Math.nextDown(y);
                for (int d = 0; d < 7; d++, y = Math.nextUp(y)) if (Float.isFinite(y)) v.add(y);
            }
            for (float mid : new float[]{(c[0] + c[2]) * 0.5f, (c[253] + c[255]) * 0.5f, c[1], c[254]}) {
                float y = mid;
                for (int d = 0; d < 300; d++) y = Math.nextDown(y);
                for (int d = 0; d < 600; d++, y = Math.nextUp(y)) v.add(y);
            }
            for (float z : new float[]{0f, -0f, Float.NaN, Float.intBitsToFloat(0xffc00000), Float.MIN_VALUE, -Float.MIN_VALUE, 1f, -1f}) v.add(z);
            int n = v.size(), cap = VectorCodes.padded(n) + VectorCodes.SLACK;
            for (float absmax : new float[]{1f, 4f, 1e30f, Float.MIN_VALUE * 3}) {
                float[] x = new float[cap], y = new float[cap];
                for (int i = 0; i < n; i++) x[i] = v.get(i) * (absmax == 1e30f ? 1e-20f : 1f);
                int[] keys = new int[cap];
                byte[] out = new byte[cap];
                for (boolean signFix : new boolean[]{true, false}) {
                    if (signFix && t.stateTable(true, false) == null) continue;   // the optimizers sign-fix the signed map only
                    for (int phase = -1; phase < 4; phase++) {
                        VectorCodes.normalizeAndKey(x, 0, n, absmax, y, keys);
                        if (phase < 0) VectorCodes.lookup(t.stateTable(signFix, false), keys, 0, n);
                        else VectorCodes.lookup(t.stateTable(signFix, false), t.stateTable(signFix, true), phase, keys, 0, n);
                        VectorCodes.stateCodes(c, t.signSplit(), x, y, keys, 0, n, signFix, phase, out);
                        for (int i = 0; i < n; i++) {
                            int expected = StateCodec.encode(c, x[i], absmax, signFix, StateCodec.isTop(phase, i)) & 0xff;
                            assertEquals(expected, out[i] & 0xff, map + " s=" + x[i] + " absmax " + absmax + " signFix " + signFix + " phase " + phase + " i " + i);
                        }
                    }
                }
            }
        }
    }

    /** Packed code words are never NaN or Inf (the absmax words before them may be Inf after an overflow). */
    @Test
    void packedStateStaysNaNSafe() {
        long n = 50_001;
        for (OptimKind kind : OptimKind.values()) {
            INDArray p = Nd4j.create(DataType.FLOAT, OptimState8bit.packedLength(kind, n, 64));
            OptimState8bit s = OptimState8bit.packed(kind, p, n, 64);
            for (int t = 1; t <= 4; t++) vec.step8bit(kind.example(t), stepGradient(t, n, 64), s);
            float[] w = p.toFloatVector();
            for (int i = (int) (kind.numStates() * org.bnb4j.quant.Blockwise.numBlocks(n, 64)); i < w.length; i++) {
                assertTrue(Float.isFinite(w[i]), kind + " packed code word " + i + " " + w[i]);
            }
        }
    }
}
