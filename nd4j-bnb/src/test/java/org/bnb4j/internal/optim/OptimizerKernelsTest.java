package org.bnb4j.internal.optim;

import org.bnb4j.optim.OptimHyper;
import org.bnb4j.optim.OptimKind;
import org.bnb4j.optim.UpdateBound;

import org.bnb4j.internal.kernels.HostBuffers;
import org.bnb4j.internal.kernels.KernelProvider;
import org.bnb4j.quant.Blockwise;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Tag;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class OptimizerKernelsTest {

    static INDArray gradient(long seed, long n, boolean withNonFinite) {
        Nd4j.getRandom().setSeed(seed);
        INDArray g = Nd4j.randn(DataType.FLOAT, n).muli(0.01);
        if (withNonFinite) {
            g.putScalar(3, Float.NaN);
            g.putScalar(n / 2, Float.POSITIVE_INFINITY);
            g.putScalar(n - 1, 0f);
            if (n > 8) g.putScalar(n / 3, 3e19f);   // finite, but g * g overflows: the element is reset
        }
        return g;
    }

    static byte[] bytes(INDArray a) {
        // the buffer does not keep the array alive: a temporary (bytes(x.dup())) could be freed, and its
        // memory reused by malloc, while it is read
        try {
            ByteBuffer b = HostBuffers.of(a);
            byte[] out = new byte[b.remaining()];
            b.get(0, out);
            return out;
        } finally {
            java.lang.ref.Reference.reachabilityFence(a);
        }
    }

    /** The dequantized states of a plain (unpacked) 8-bit state, each on its descriptor's map. */
    static INDArray[] dequantized(OptimState8bit s) {
        INDArray[] a = s.arrays();
        INDArray[] out = new INDArray[a.length / 2];
        for (int i = 0; i < out.length; i++) {
            out[i] = Blockwise.dequantize(a[2 * i], a[2 * i + 1], s.kind().state(i).map(), s.blocksize(), Nd4j.create(DataType.FLOAT, s.length()));
        }
        return out;
    }

    static INDArray[] zeros(OptimKind kind, long n) {
        INDArray[] z = new INDArray[kind.numStates()];
        for (int i = 0; i < z.length; i++) z[i] = Nd4j.create(DataType.FLOAT, n);
        return z;
    }

    @ParameterizedTest
    @EnumSource(OptimKind.class)
    void nativeEqualsJavaBitForBit(OptimKind kind) {
        assumeTrue(KernelProvider.nativeKernels().isPresent());
        OptimizerKernels nat = KernelProvider.get().optimizerKernels();
        assertNotSame(JavaOptimizerKernels.INSTANCE, nat);
        String[] isas = org.bnb4j.internal.nativeops.BnbNative.supportedIsas().split(",");
        try {
            for (String isa : isas) {
                assertTrue(org.bnb4j.internal.nativeops.BnbNative.selectIsa(isa));
                nativeEqualsJava(kind, nat, isa);
            }
        } finally {
            org.bnb4j.internal.nativeops.BnbNative.selectIsa(isas[isas.length - 1]);
        }
    }

    static void nativeEqualsJava(OptimKind kind, OptimizerKernels nat, String isa) {
        long n = 70_001;
        for (int blocksize : new int[]{64, 256, 2048}) {
            OptimState8bit sj = OptimState8bit.allocate(kind, n, blocksize), sn = OptimState8bit.allocate(kind, n, blocksize);
            long words = OptimState8bit.packedLength(kind, n, blocksize);
            INDArray pj = Nd4j.create(DataType.FLOAT, words), pn = Nd4j.create(DataType.FLOAT, words);
            OptimState8bit qj = OptimState8bit.packed(kind, pj, n, blocksize), qn = OptimState8bit.packed(kind, pn, n, blocksize);
            INDArray[] fsj = zeros(kind, n), fsn = zeros(kind, n);
            for (int t = 1; t <= 4; t++) {
                OptimHyper h = kind.example(t);
                INDArray g = gradient(t, n, t == 2);
                INDArray gj = g.dup(), gn = g.dup();
                JavaOptimizerKernels.INSTANCE.step8bit(h, gj, sj);
                nat.step8bit(h, gn, sn);
                assertArrayEquals(bytes(gj), bytes(gn), isa + " " + kind + " 8-bit update, step " + t);
                for (int i = 0; i < sj.arrays().length; i++) {
                    assertArrayEquals(bytes(sj.arrays()[i]), bytes(sn.arrays()[i]), isa + " " + kind + " 8-bit state array " + i + ", step " + t);
                }
                INDArray hj = g.dup(), hn = g.dup();
                JavaOptimizerKernels.INSTANCE.step8bit(h, hj, qj);
                nat.step8bit(h, hn, qn);
                assertArrayEquals(bytes(hj), bytes(hn), isa + " " + kind + " packed update, step " + t);
                assertArrayEquals(bytes(pj), bytes(pn), isa + " " + kind + " packed state, step " + t);
                INDArray fj = g.dup(), fn = g.dup();
                JavaOptimizerKernels.INSTANCE.step32(h, fj, fsj);
                nat.step32(h, fn, fsn);
                assertArrayEquals(bytes(fj), bytes(fn), kind + " 32-bit update, step " + t);
                for (int i = 0; i < fsj.length; i++) assertArrayEquals(bytes(fsj[i]), bytes(fsn[i]), kind + " 32-bit state " + i + ", step " + t);
            }
        }
    }

    /**
     * Gradients that drive the rare paths of the SIMD steps: overflow to an infinite state (then NaN
     * states and an infinite absmax on the next step), denormal blocks whose 1/absmax overflows (the
     * divide path), all-zero and -0.0 blocks, states that underflow to +-0 when normalised, states
     * next to +-absmax (codes 1 and 254, unusable at packed top bytes), and a tail shorter than a
     * vector. Every ISA must still match the Java oracle bit for bit.
     */
    static INDArray extremeGradient(long seed, long n, int blocksize) {
        Nd4j.getRandom().setSeed(seed);
        float[] g = Nd4j.randn(DataType.FLOAT, n).muli(0.01).toFloatVector();
        for (long b = 0; b * blocksize < n; b++) {
            int start = (int) (b * blocksize), len = (int) Math.min(blocksize, n - start);
            switch ((int) ((b + seed) % 8)) {
                case 0: g[start + len / 2] = 3e19f * (seed % 2 == 0 ? 1 : -1); break;      // g*g overflows
                case 1: for (int i = 0; i < len; i++) g[start + i] *= 1e-38f; break;         // denormal block
                case 2: for (int i = 0; i < len; i++) g[start + i] = (i % 3 == 0) ? -0.0f : 0f; break;
                case 3: g[start] = 1e4f; for (int i = 1; i < len; i += 2) g[start + i] = 1e-41f; break;
                case 4: for (int i = 0; i < len; i++) g[start + i] = (i % 2 == 0 ? 1f : -1f) * (0.98f + 0.0001f * (i % 40)); break;
                case 5: g[start + len - 1] = Float.NaN; g[start] = Float.NEGATIVE_INFINITY; break;
                default: break;
            }
        }
        return Nd4j.createFromArray(g);
    }

    /**
     * A NaN state has no sign to keep: with or without the sign fix it takes the code of NaN (the
     * reference search's, code 0), in every byte slot, whatever its sign bit. (The sign fix used to move
     * a positive NaN to code -1, which is no code.)
     */
    @Test
    void nanStatesKeepTheCodeOfNaN() {
        float[] map = org.bnb4j.quant.QuantMap.dynamic(true).values();
        int nanCode = org.bnb4j.internal.kernels.CodeSearch.nearest(map, Float.NaN);
        assertEquals(0, nanCode);
        for (float nan : new float[]{Float.NaN, Float.intBitsToFloat(0xffc00000), Float.intBitsToFloat(0x7f800001)}) {
            for (boolean signFix : new boolean[]{false, true}) {
                assertEquals(nanCode, StateCodec.encode(map, nan, 1f, signFix, StateCodec.PLAIN), "plain, sign fix " + signFix);
                assertEquals(nanCode, StateCodec.encode(map, nan, 1f, signFix, StateCodec.FLOAT_TOP), "FLOAT top byte, sign fix " + signFix);
                assertEquals(nanCode, StateCodec.encode(map, nan, 1f, signFix, StateCodec.HALF_TOP), "HALF top byte, sign fix " + signFix);
            }
        }
    }

    /** The absmax checksum the updaters keep is the same number natively and in Java, and follows every change. */
    @ParameterizedTest
    @EnumSource(OptimKind.class)
    void absmaxChecksumMatchesJavaAndTracksTheScales(OptimKind kind) {
        assumeTrue(KernelProvider.nativeKernels().isPresent());
        OptimizerKernels nat = KernelProvider.get().optimizerKernels();
        long n = 100_003;
        OptimState8bit s = OptimState8bit.allocate(kind, n, 256);
        int zero = nat.absmaxChecksum(s);
        assertEquals(JavaOptimizerKernels.INSTANCE.absmaxChecksum(s), zero);
        nat.step8bit(kind.example(1), gradient(1, n, false), s);
        int one = nat.absmaxChecksum(s);
        assertEquals(JavaOptimizerKernels.INSTANCE.absmaxChecksum(s), one);
        assertNotEquals(zero, one);
        INDArray absmax = s.arrays()[kind.numStates() * 2 - 1]; // the last state's scales
        absmax.putScalar(absmax.length() - 1, absmax.getFloat(absmax.length() - 1) + 1e-3f);
        assertNotEquals(one, nat.absmaxChecksum(s), "an edited scale of the last state changes the checksum");
        assertEquals(JavaOptimizerKernels.INSTANCE.absmaxChecksum(s), nat.absmaxChecksum(s));
    }

    @ParameterizedTest
    @EnumSource(OptimKind.class)
    void nativeEqualsJavaOnExtremeValues(OptimKind kind) {
        assumeTrue(KernelProvider.nativeKernels().isPresent());
        OptimizerKernels nat = KernelProvider.get().optimizerKernels();
        String[] isas = org.bnb4j.internal.nativeops.BnbNative.supportedIsas().split(",");
        try {
            for (String isa : isas) {
                assertTrue(org.bnb4j.internal.nativeops.BnbNative.selectIsa(isa));
                for (int blocksize : new int[]{64, 256}) {
                    long n = 16L * blocksize + 37;
                    long words = OptimState8bit.packedLength(kind, n, blocksize);
                    INDArray pj = Nd4j.create(DataType.FLOAT, words), pn = Nd4j.create(DataType.FLOAT, words);
                    OptimState8bit qj = OptimState8bit.packed(kind, pj, n, blocksize), qn = OptimState8bit.packed(kind, pn, n, blocksize);
                    OptimState8bit sj = OptimState8bit.allocate(kind, n, blocksize), sn = OptimState8bit.allocate(kind, n, blocksize);
                    for (int t = 1; t <= 8; t++) {
                        OptimHyper h = kind.example(t);
                        INDArray g = extremeGradient(t, n, blocksize);
                        if (t == 5) {
                            // a corrupted scale (+NaN, which no step produces): positive NaN states, which
                            // keep the code of NaN (no sign fix), at plain and at packed top bytes
                            for (OptimState8bit q : new OptimState8bit[]{qj, qn}) q.packedAbsmax().putScalar(new long[]{0, 3}, Float.NaN);
                            for (OptimState8bit q : new OptimState8bit[]{sj, sn}) q.arrays()[1].putScalar(3, Float.NaN);
                        }
                        INDArray gj = g.dup(), gn = g.dup();
                        JavaOptimizerKernels.INSTANCE.step8bit(h, gj, qj);
                        nat.step8bit(h, gn, qn);
                        String at = isa + " " + kind + " bs " + blocksize + " step " + t;
                        assertArrayEquals(bytes(gj), bytes(gn), at + ": packed update");
                        assertArrayEquals(bytes(pj), bytes(pn), at + ": packed state");
                        INDArray hj = g.dup(), hn = g.dup();
                        JavaOptimizerKernels.INSTANCE.step8bit(h, hj, sj);
                        nat.step8bit(h, hn, sn);
                        assertArrayEquals(bytes(hj), bytes(hn), at + ": update");
                        for (int i = 0; i < sj.arrays().length; i++)
                            assertArrayEquals(bytes(sj.arrays()[i]), bytes(sn.arrays()[i]), at + ": state " + i);
                    }
                }
            }
        } finally {
            org.bnb4j.internal.nativeops.BnbNative.selectIsa(isas[isas.length - 1]);
        }
    }

    /**
     * bitsandbytes' test_optimizer8bit: 50 steps against the 32-bit optimizer, p = randn * 0.1,
     * g = randn * 0.01; after each step the parameters are set equal again and the 32-bit state is
     * overwritten with the dequantized 8-bit one, so each step's own error is measured.
     */
    @Tag("trajectory")
    @ParameterizedTest
    @EnumSource(OptimKind.class)
    void withinBitsandbytesBoundsOfThe32BitOptimizer(OptimKind kind) {
        OptimizerKernels k = KernelProvider.get().optimizerKernels();
        for (long cols : new long[]{1024, 4097}) {
            long n = 1024 * cols;
            Nd4j.getRandom().setSeed(cols);
            INDArray p32 = Nd4j.randn(DataType.FLOAT, n).muli(0.1), p8 = p32.dup();
            OptimState8bit s8 = OptimState8bit.allocate(kind, n, 256);
            INDArray[] s32 = zeros(kind, n);
            OptimState8bit[] holder = {s8};
            for (int t = 1; t <= 50; t++) {
                OptimHyper h = kind.example(t);
                INDArray g = Nd4j.randn(DataType.FLOAT, n).muli(0.01);
                INDArray u32 = g.dup(), u8 = g.dup();
                k.step32(h, u32, s32);
                k.step8bit(h, u8, holder[0]);
                p32.subi(u32);
                p8.subi(u8);

                INDArray[] d = dequantized(holder[0]);
                for (int i = 0; i < d.length; i++) {
                    long bad = mismatches(s32[i], d[i]);
                    assertTrue(bad < 20, kind + " state" + (i + 1) + " mismatches at step " + t + ": " + bad);
                }
                INDArray err = Transforms.abs(p8.sub(p32));
                double mean = err.meanNumber().doubleValue();
                double rel = err.div(Transforms.abs(p32).add(1e-9)).meanNumber().doubleValue();
                assertTrue(mean < 6e-5, kind + " mean |p8 - p32| " + mean + " at step " + t);
                assertTrue(rel < 6e-4, kind + " mean relative error " + rel + " at step " + t);

                p8.assign(p32);
                for (int i = 0; i < d.length; i++) s32[i].assign(d[i]);
                if (t % 10 == 0) {
                    // save and load the 8-bit state (as bitsandbytes' test does): raw bytes come back identical
                    OptimState8bit restored = OptimState8bit.allocate(kind, n, 256);
                    for (int i = 0; i < restored.arrays().length; i++) {
                        byte[] saved = bytes(holder[0].arrays()[i]);
                        org.bnb4j.internal.kernels.HostBuffers.of(restored.arrays()[i]).put(0, saved);
                        assertArrayEquals(saved, bytes(restored.arrays()[i]), kind + " state array " + i + " after save/load");
                    }
                    holder[0] = restored;
                }
            }
        }
    }

    static long mismatches(INDArray ref, INDArray got) {
        // torch.isclose(ref, got, atol=3e-3, rtol=1e-3): |ref - got| <= atol + rtol * |got|
        INDArray tol = Transforms.abs(got).muli(1e-3).addi(3e-3);
        return Transforms.abs(ref.sub(got)).gt(tol).castTo(DataType.INT).sumNumber().longValue();
    }

    /** The packed state survives DL4J's way of saving FLOAT arrays (writeFloat canonicalizes NaNs). */
    @Test
    void packedStateHasNoNanWordsAndSurvivesFloatSerialization() throws Exception {
        long n = 50_000;
        OptimKind kind = OptimKind.ADAM;
        INDArray view = Nd4j.create(DataType.FLOAT, OptimState8bit.packedLength(kind, n, 256));
        OptimState8bit s = OptimState8bit.packed(kind, view, n, 256);
        assertTrue(view.length() * 4 <= 2.04 * n, "Adam 8-bit state bytes per parameter: " + view.length() * 4.0 / n);
        for (int t = 1; t <= 20; t++) {
            INDArray g = Nd4j.randn(DataType.FLOAT, n).muli(Math.pow(10, (t % 7) - 4));
            KernelProvider.get().optimizerKernels().step8bit(kind.example(t), g, s);
            ByteBuffer b = HostBuffers.of(view);
            for (int w = 0; w < view.length(); w++) {
                int bits = b.getInt(4 * w);
                assertFalse((bits & 0x7f800000) == 0x7f800000, "word " + w + " is NaN/Inf: " + Integer.toHexString(bits));
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        DataOutputStream d = new DataOutputStream(out);
        float[] vals = view.toFloatVector();
        for (float f : vals) d.writeFloat(f);
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(out.toByteArray()));
        float[] back = new float[vals.length];
        for (int i = 0; i < back.length; i++) back[i] = in.readFloat();
        INDArray restored = Nd4j.createFromArray(back);
        assertArrayEquals(bytes(view), bytes(restored), "state bits after writeFloat/readFloat");
    }

    /**
     * Stepping block ranges (paged state streams its step so) gives the bits of the whole step, whatever
     * the ranges and their order, packed (n odd: every byte phase) and plain, natively and in Java.
     */
    @ParameterizedTest
    @EnumSource(OptimKind.class)
    void blockRangesGiveTheWholeStep(OptimKind kind) {
        long n = 40_003;
        int blocksize = 256;
        long nb = Blockwise.numBlocks(n, blocksize);
        long[][] splits = {{0, nb}, {0, 1, 2, 77, nb - 1, nb}, {0, 50, 100, nb}};
        java.util.List<OptimizerKernels> impls = new java.util.ArrayList<>(java.util.List.of(JavaOptimizerKernels.INSTANCE));
        KernelProvider.nativeKernels().ifPresent(p -> impls.add(p.optimizerKernels()));
        for (OptimizerKernels k : impls) {
            for (long[] cuts : splits) {
                long words = OptimState8bit.packedLength(kind, n, blocksize);
                INDArray whole = Nd4j.create(DataType.FLOAT, words), ranged = Nd4j.create(DataType.FLOAT, words);
                OptimState8bit sw = OptimState8bit.packed(kind, whole, n, blocksize), sr = OptimState8bit.packed(kind, ranged, n, blocksize);
                for (int t = 1; t <= 3; t++) {
                    OptimHyper h = kind.example(t);
                    INDArray g = gradient(10 + t, n, t == 2), gw = g.dup(), gr = g.dup();
                    k.step8bit(h, gw, sw);
                    // the ranges in reverse order: each block depends on its own data only
                    for (int c = cuts.length - 1; c > 0; c--) k.step8bitBlocks(h, gr, sr, cuts[c - 1], cuts[c]);
                    String what = k.getClass().getSimpleName() + " " + kind + " cuts " + Arrays.toString(cuts) + " step " + t;
                    assertArrayEquals(bytes(gw), bytes(gr), what + ": update");
                    assertArrayEquals(bytes(whole), bytes(ranged), what + ": packed state");
                }
            }
            OptimState8bit st = OptimState8bit.packed(kind, Nd4j.create(DataType.FLOAT, OptimState8bit.packedLength(kind, n, blocksize)), n, blocksize);
            INDArray g = gradient(1, n, false);
            assertThrows(IllegalArgumentException.class, () -> k.step8bitBlocks(kind.example(1), g, st, 5, 4));
            assertThrows(IllegalArgumentException.class, () -> k.step8bitBlocks(kind.example(1), g, st, 0, nb + 1));
            assertThrows(IllegalArgumentException.class, () -> k.step8bitBlocks(kind.example(1), g, st, -1, 2));
        }
    }

    /** OptimHyper.builder: what is not set takes the documented default (stepSize = lr, epsHat = eps, no bounds). */
    @Test
    void hyperBuilderDefaults() {
        OptimHyper h = OptimHyper.builder(OptimKind.RMSPROP).learningRate(1e-2).beta1(0.9).eps(1e-8).build();
        OptimHyper f = OptimHyper.rmsprop(1e-2, 0.9, 1e-8);
        assertEquals(OptimKind.RMSPROP, h.kind());
        assertEquals(1e-2f, h.stepSize);
        assertEquals(1e-8f, h.epsHat);
        assertEquals(1f, h.oneMinusBeta2);
        assertEquals(1f, h.oneMinusBeta3);
        assertEquals(1f, h.biasCorrection1);
        assertEquals(1f, h.sqrtBiasCorrection2);
        assertEquals(Float.POSITIVE_INFINITY, h.momentBound());
        assertEquals(Float.POSITIVE_INFINITY, h.slowMomentBound());
        assertFalse(h.firstStep);
        for (OptimHyper x : new OptimHyper[]{h, f}) {
            // 1 - beta in float from the float beta (bitsandbytes' and DL4J's 1.0f - beta1): 0.10000002, not 0.1
            assertEquals(Float.floatToIntBits(1f - 0.9f), Float.floatToIntBits(x.oneMinusBeta1), "1 - beta1 in float");
            assertNotEquals(Float.floatToIntBits((float) (1 - 0.9)), Float.floatToIntBits(x.oneMinusBeta1));
        }
        assertEquals(h.lr, f.lr);
        assertEquals(h.beta1, f.beta1);
        assertEquals(h.eps, f.eps);
        OptimHyper a = OptimHyper.builder(OptimKind.ADAM).learningRate(1e-3).stepSize(2e-3).epsHat(3e-8).firstStep(true).momentBound(4).build();
        assertEquals(2e-3f, a.stepSize);
        assertEquals(3e-8f, a.epsHat);
        assertTrue(a.firstStep);
        assertEquals((float) (4 * UpdateBound.SLACK), a.momentBound());
        assertThrows(IllegalArgumentException.class, () -> OptimHyper.builder(null));
    }

    @Test
    void badArguments() {
        OptimState8bit s = OptimState8bit.allocate(OptimKind.ADAM, 100, 64);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> KernelProvider.get().optimizerKernels().step8bit(OptimKind.ADAM.example(1), Nd4j.create(DataType.FLOAT, 99), s));
        assertTrue(e.getMessage().contains("99"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> KernelProvider.get().optimizerKernels().step8bit(OptimKind.ADAM.example(1), Nd4j.create(DataType.DOUBLE, 100), s));
        assertThrows(IllegalArgumentException.class, () -> OptimHyper.adam(1e-3, 0.9, 0.999, 1e-8, 0));
        assertThrows(IllegalArgumentException.class,
                () -> OptimState8bit.packed(OptimKind.ADAM, Nd4j.create(DataType.FLOAT, 10), 100, 64));
        assertEquals(Arrays.asList(1, 2), Arrays.asList(OptimKind.MOMENTUM.numStates(), OptimKind.ADAM.numStates()));
    }

    /**
     * Every kernel implementation (native, scalar Java, vector Java when the module is there) refuses the
     * same bad 8-bit step arguments with an IllegalArgumentException naming them, before touching anything.
     */
    @Test
    void badStepArgumentsAreNamedByEveryImplementation() {
        for (int bs : new int[]{0, 1, 3, 100, 8192, 65536}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> OptimState8bit.allocate(OptimKind.ADAM, 1000, bs));
            assertTrue(e.getMessage().contains("blocksize"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> OptimState8bit.packed(OptimKind.ADAM,
                    Nd4j.create(DataType.FLOAT, 4000), 1000, bs));
            assertTrue(e.getMessage().contains("blocksize"), e.getMessage());
        }
        assertTrue(assertThrows(IllegalArgumentException.class, () -> OptimState8bit.packed(OptimKind.ADAM, null, 10, 64))
                .getMessage().contains("null"));
        assertThrows(IllegalArgumentException.class, () -> OptimState8bit.allocate(null, 10, 64));
        List<OptimizerKernels> impls = new ArrayList<>(List.of(KernelProvider.get().optimizerKernels(), JavaOptimizerKernels.INSTANCE));
        KernelProvider.vectorized().map(KernelProvider::optimizerKernels).ifPresent(impls::add);
        for (OptimizerKernels k : impls) {
            OptimState8bit adam = OptimState8bit.allocate(OptimKind.ADAM, 300, 64);
            INDArray g = Nd4j.rand(DataType.FLOAT, 300), before = g.dup();
            OptimHyper lion = OptimKind.LION.example(1), h = OptimKind.ADAM.example(1);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> k.step8bit(lion, g, adam), k.getClass().getSimpleName());
            assertTrue(e.getMessage().contains("LION") && e.getMessage().contains("ADAM"), e.getMessage());
            assertTrue(assertThrows(IllegalArgumentException.class, () -> k.step8bit(null, g, adam)).getMessage().contains("null"), k.getClass().getSimpleName());
            assertTrue(assertThrows(IllegalArgumentException.class, () -> k.step8bit(h, g, null)).getMessage().contains("null"), k.getClass().getSimpleName());
            assertTrue(assertThrows(IllegalArgumentException.class, () -> k.step8bitBlocks(h, g, null, 0, 1)).getMessage().contains("null"), k.getClass().getSimpleName());
            assertTrue(assertThrows(IllegalArgumentException.class, () -> k.step8bitBlocks(lion, g, adam, 0, 1)).getMessage().contains("LION"), k.getClass().getSimpleName());
            assertTrue(assertThrows(IllegalArgumentException.class, () -> k.step32(null, g, Nd4j.create(DataType.FLOAT, 300),
                    Nd4j.create(DataType.FLOAT, 300))).getMessage().contains("null"), k.getClass().getSimpleName());
            assertEquals(before, g, k.getClass().getSimpleName() + ": the gradient is untouched");
            INDArray[] parts = adam.owners();
            for (INDArray p : parts) assertEquals(0.0, p.castTo(DataType.DOUBLE).sumNumber().doubleValue(), k.getClass().getSimpleName() + ": the state is untouched");
        }
    }
}
