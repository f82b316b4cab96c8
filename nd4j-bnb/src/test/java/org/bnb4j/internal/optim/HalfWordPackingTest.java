package org.bnb4j.internal.optim;

import org.bnb4j.internal.kernels.KernelProvider;

import org.bnb4j.optim.OptimHyper;
import org.bnb4j.optim.OptimKind;

import org.bnb4j.internal.kernels.HostBuffers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Random;

import static org.bnb4j.internal.optim.OptimizerKernelsTest.bytes;
import static org.junit.jupiter.api.Assertions.*;

/**
 * 8-bit state packed into the memory of a HALF array (a HALF network's updater view): no 16-bit word
 * is ever a half NaN, so ND4J's save (float conversion, which canonicalises half NaNs) keeps every
 * bit; the native step equals the Java oracle bit for bit; the steps stay within bitsandbytes'
 * bounds of the 32-bit optimizer.
 */
class HalfWordPackingTest {

    static boolean halfForbiddenTop(int b) {
        return (b & 0x7c) == 0x7c;
    }

    static boolean halfNaN(int h) {
        return (h & 0x7c00) == 0x7c00 && (h & 0x3ff) != 0;
    }

    @Test
    void sigma16SwapsTheEightForbiddenBytesWithEightDroppedCodes() {
        int dropped = 0, forbidden = 0;
        for (int c = 0; c < 256; c++) {
            assertEquals(c, StateCodec.sigma16(StateCodec.sigma16(c)), "involution at " + c);
            if (StateCodec.isHalfDropped(c)) {
                dropped++;
                assertTrue(halfForbiddenTop(StateCodec.sigma16(c)));
                assertFalse(StateCodec.isHalfDropped(c - 1) || StateCodec.isHalfDropped(c + 1), "neighbours of " + c + " are used");
            } else {
                assertFalse(halfForbiddenTop(StateCodec.sigma16(c)), "code " + c + " is stored as a forbidden byte");
            }
            if (halfForbiddenTop(c)) forbidden++;
        }
        assertEquals(8, dropped);
        assertEquals(8, forbidden);
    }

    @Test
    void halfWordScaleRoundsUpAsLittleAsNeeded() {
        Random r = new Random(7);
        for (int i = 0; i < 2_000_000; i++) {
            float m = i < 1000 ? Float.intBitsToFloat(0x7bff7c00 - i * 0x1000) : Math.abs(Float.intBitsToFloat(r.nextInt()));
            if (Float.isNaN(m)) continue;
            float s = StateCodec.halfWordScale(m);
            int u = Float.floatToRawIntBits(s);
            assertFalse(halfNaN(u & 0xffff) || halfNaN(u >>> 16), "halves of " + Integer.toHexString(u));
            assertEquals(s, StateCodec.halfWordScale(s), "idempotent");
            if (m < 0x1p121f) {
                assertTrue(s >= m && (s - m) <= Math.ulp(m) * 1024, m + " -> " + s);
                if ((Float.floatToRawIntBits(m) & 0x7c00) != 0x7c00) assertEquals(m, s, "already safe: unchanged");
            } else {
                assertEquals(0x1p121f, s);
            }
        }
        assertEquals(0x1p121f, StateCodec.halfWordScale(Float.POSITIVE_INFINITY));
        assertEquals(0f, StateCodec.halfWordScale(0f));
    }

    /** A HALF array of the packed length in float words, and the state packed into it. */
    static INDArray halfView(OptimKind kind, long n) {
        return Nd4j.create(DataType.HALF, 2 * OptimState8bit.packedLength(kind, n, 256));
    }

    static OptimState8bit state(OptimKind kind, INDArray halfView, long n) {
        INDArray words = HostBuffers.aliasFloats(halfView, 0, halfView.length() / 2);
        return OptimState8bit.packedInHalfWords(kind, words, n, 256);
    }

    static void assertNoHalfNaN(INDArray half, String at) {
        ByteBuffer b = HostBuffers.of(half);
        for (int i = 0; i < half.length(); i++) {
            int h = b.getShort(2 * i) & 0xffff;
            assertFalse(halfNaN(h), at + ": half " + i + " is a NaN pattern " + Integer.toHexString(h));
        }
    }

    static INDArray roundTrip(INDArray a) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (DataOutputStream d = new DataOutputStream(out)) {
            Nd4j.write(a, d);
        }
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(out.toByteArray()))) {
            return Nd4j.read(in);
        }
    }

    /** Extreme gradients too: overflowing states (scales saturate), denormal, zero and near-absmax blocks. */
    @ParameterizedTest
    @EnumSource(OptimKind.class)
    void noWordIsAHalfNaNAndASaveKeepsEveryBit(OptimKind kind) throws IOException {
        long n = 20_000 + 37;
        INDArray view = halfView(kind, n);
        OptimState8bit s = state(kind, view, n);
        assertTrue(s.inHalfWords());
        for (int t = 1; t <= 16; t++) {
            INDArray g = t % 2 == 0 ? OptimizerKernelsTest.extremeGradient(t, n, 256)
                    : Nd4j.randn(DataType.FLOAT, n).muli(Math.pow(10, (t % 7) - 4));
            KernelProvider.get().optimizerKernels().step8bit(kind.example(t), g, s);
            assertNoHalfNaN(view, kind + " step " + t);
        }
        INDArray back = roundTrip(view);
        assertEquals(DataType.HALF, back.dataType());
        assertArrayEquals(bytes(view), bytes(back), kind + ": the HALF view after Nd4j.write/read");
    }

    @ParameterizedTest
    @EnumSource(OptimKind.class)
    void nativeAndVectorEqualTheJavaOracleBitForBit(OptimKind kind) {
        long n = 100_003; // above the native threads' threshold, odd tail
        OptimizerKernels[] others = {KernelProvider.get().optimizerKernels(), KernelProvider.vectorized().map(KernelProvider::optimizerKernels).orElse(null)};
        for (OptimizerKernels other : others) {
            if (other == null) continue;
            INDArray vj = halfView(kind, n), vo = halfView(kind, n);
            OptimState8bit sj = state(kind, vj, n), so = state(kind, vo, n);
            for (int t = 1; t <= 8; t++) {
                INDArray g = t % 3 == 0 ? OptimizerKernelsTest.extremeGradient(31 + t, n, 256) : OptimizerKernelsTest.gradient(t, n, t == 2);
                INDArray gj = g.dup(), go = g.dup();
                JavaOptimizerKernels.INSTANCE.step8bit(kind.example(t), gj, sj);
                other.step8bit(kind.example(t), go, so);
                String at = other.getClass().getSimpleName() + " " + kind + " step " + t;
                assertArrayEquals(bytes(gj), bytes(go), at + ": update");
                assertArrayEquals(bytes(vj), bytes(vo), at + ": state");
            }
        }
    }

    /** bitsandbytes' test_optimizer8bit bounds (see OptimizerKernelsTest), with the state in HALF words. */
    @ParameterizedTest
    @EnumSource(OptimKind.class)
    void withinBitsandbytesBoundsOfThe32BitOptimizer(OptimKind kind) {
        OptimizerKernels k = KernelProvider.get().optimizerKernels();
        long n = 1024 * 1024;
        Nd4j.getRandom().setSeed(3);
        INDArray p32 = Nd4j.randn(DataType.FLOAT, n).muli(0.1), p8 = p32.dup();
        INDArray view = halfView(kind, n);
        OptimState8bit s8 = state(kind, view, n);
        INDArray[] s32 = OptimizerKernelsTest.zeros(kind, n);
        for (int t = 1; t <= 30; t++) {
            OptimHyper h = kind.example(t);
            INDArray g = Nd4j.randn(DataType.FLOAT, n).muli(0.01);
            INDArray u32 = g.dup(), u8 = g.dup();
            k.step32(h, u32, s32);
            k.step8bit(h, u8, s8);
            p32.subi(u32);
            p8.subi(u8);
            INDArray[] d = decoded(s8);
            for (int i = 0; i < d.length; i++) {
                long bad = OptimizerKernelsTest.mismatches(s32[i], d[i]);
                assertTrue(bad < 20, kind + " state" + (i + 1) + " mismatches at step " + t + ": " + bad);
            }
            INDArray err = Transforms.abs(p8.sub(p32));
            double mean = err.meanNumber().doubleValue();
            double rel = err.div(Transforms.abs(p32).add(1e-9)).meanNumber().doubleValue();
            assertTrue(mean < 6e-5, kind + " mean |p8 - p32| " + mean + " at step " + t);
            assertTrue(rel < 6e-4, kind + " mean relative error " + rel + " at step " + t);
            p8.assign(p32);
            for (int i = 0; i < d.length; i++) s32[i].assign(d[i]);
        }
    }

    /** The states a packed HALF-word state holds, decoded with StateCodec's rules. */
    static INDArray[] decoded(OptimState8bit s) {
        int k = s.kind().numStates();
        long n = s.length();
        INDArray codes = s.packedCodes(), absmax = s.packedAbsmax();
        ByteBuffer c = HostBuffers.of(codes);
        float[][] out = new float[k][(int) n];
        for (int st = 0; st < k; st++) {
            float[] map = s.map(st).values();
            int phase = StateCodec.at(s.bytePhase, st * n);
            for (int i = 0; i < n; i++) {
                int stored = c.get((int) (st * n + i)) & 0xff;
                out[st][i] = StateCodec.decode(map, stored, StateCodec.slot(phase, i), absmax.getFloat((long) st, (long) (i / s.blocksize())));
            }
        }
        INDArray[] a = new INDArray[k];
        for (int st = 0; st < k; st++) a[st] = Nd4j.createFromArray(out[st]);
        return a;
    }
}
