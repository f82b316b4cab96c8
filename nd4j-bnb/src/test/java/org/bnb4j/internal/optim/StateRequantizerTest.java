package org.bnb4j.internal.optim;

import org.bnb4j.optim.OptimHyper;
import org.bnb4j.optim.OptimKind;
import org.bnb4j.optim.OptimMath;

import org.bnb4j.internal.kernels.KernelProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.List;

import static org.bnb4j.internal.optim.OptimizerKernelsTest.bytes;
import static org.bnb4j.internal.optim.OptimizerKernelsTest.gradient;
import static org.junit.jupiter.api.Assertions.*;

/**
 * OptimState8bit.dequantize / requantize: requantizing the values a step computes gives the bytes the
 * step wrote (every layout: separate arrays, FLOAT words, HALF words; native and Java steps), and
 * dequantize gives the values the step decodes.
 */
class StateRequantizerTest {
    static final int BLOCK = 256;
    static final long N = 3 * BLOCK + 77;   // a partial last block, odd length (byte phases of states 2, 3 shift)

    enum Layout { ALLOCATED, FLOAT_WORDS, HALF_WORDS }

    static OptimState8bit fresh(OptimKind kind, Layout layout) {
        switch (layout) {
            case ALLOCATED: return OptimState8bit.allocate(kind, N, BLOCK);
            case FLOAT_WORDS: return OptimState8bit.packed(kind, Nd4j.create(DataType.FLOAT, OptimState8bit.packedLength(kind, N, BLOCK)), N, BLOCK);
            default: return OptimState8bit.packedInHalfWords(kind, Nd4j.create(DataType.FLOAT, OptimState8bit.packedLength(kind, N, BLOCK)), N, BLOCK);
        }
    }

    static List<OptimizerKernels> kernels() {
        List<OptimizerKernels> all = new ArrayList<>(List.of(JavaOptimizerKernels.INSTANCE));
        if (KernelProvider.nativeKernels().isPresent() || KernelProvider.vectorized().map(KernelProvider::optimizerKernels).isPresent()) all.add(KernelProvider.get().optimizerKernels());
        return all;
    }

    /** All bytes of a state: codes and scales of every state (packed: the whole array). */
    static byte[] stateBytes(OptimState8bit s) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (INDArray a : s.arrays()) out.writeBytes(bytes(a));
        return out.toByteArray();
    }

    /**
     * The states a step from state s computes, in the step's float operations: the decoded states
     * (dequantize) advanced by the optimizer's own rule, element by element.
     */
    static INDArray[] stepValues(OptimState8bit s, OptimHyper h, INDArray g) {
        int k = s.kind().numStates();
        INDArray[] dec = new INDArray[k];
        for (int j = 0; j < k; j++) dec[j] = Nd4j.create(DataType.FLOAT, N);
        s.dequantize(dec);
        float[][] v = new float[k][];
        for (int j = 0; j < k; j++) v[j] = dec[j].toFloatVector();
        float[] gv = g.toFloatVector(), cur = new float[k];
        for (int i = 0; i < gv.length; i++) {
            for (int j = 0; j < k; j++) cur[j] = v[j][i];
            OptimMath.step(h, gv[i], cur);
            for (int j = 0; j < k; j++) v[j][i] = cur[j];
        }
        INDArray[] out = new INDArray[k];
        for (int j = 0; j < k; j++) out[j] = Nd4j.createFromArray(v[j]);
        return out;
    }

    @ParameterizedTest
    @EnumSource(Layout.class)
    void requantizeWritesTheBytesOfTheStepThatProducedTheValues(Layout layout) {
        for (OptimizerKernels kern : kernels()) {
            for (OptimKind kind : OptimKind.values()) {
                OptimState8bit stepped = fresh(kind, layout), written = fresh(kind, layout);
                for (int t = 1; t <= 3; t++) {
                    OptimHyper h = kind.example(t);
                    INDArray g = gradient(11 + 3L * kind.ordinal() + t, N, t == 2);
                    INDArray[] values = stepValues(written, h, g);
                    kern.step8bit(h, g.dup(), stepped);
                    written.requantize(values);
                    assertArrayEquals(stateBytes(stepped), stateBytes(written),
                            kern.getClass().getSimpleName() + " " + kind + " " + layout + " step " + t);
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Layout.class)
    void dequantizeGivesTheValuesTheStepDecodes(Layout layout) {
        // a MOMENTUM step with momentum 1 adds the gradient to the decoded state: s' = dec(s) + g, so
        // requantize(dequantize(s) + g) must be the stepped state, byte for byte
        OptimKind kind = OptimKind.MOMENTUM;
        OptimState8bit s = fresh(kind, layout);
        OptimizerKernels kern = KernelProvider.get().optimizerKernels();
        for (int t = 1; t <= 3; t++) kern.step8bit(OptimHyper.momentum(1e-2, 0.9, t), gradient(40 + t, N, false), s);
        INDArray dec = Nd4j.create(DataType.FLOAT, N);
        s.dequantize(dec);
        INDArray g = gradient(50, N, false);
        INDArray expected = dec.add(g);   // float add, as the step's beta1 * s + g with beta1 = 1
        OptimState8bit copy = fresh(kind, layout);
        copy.requantize(expected);
        kern.step8bit(OptimHyper.momentum(1e-2, 1.0, 4), g.dup(), s);
        assertArrayEquals(stateBytes(s), stateBytes(copy), layout.toString());
    }

    /**
     * A round trip is not always the identity: the signed dynamic map's most negative code is about
     * -0.99, so a block whose largest magnitude is negative gets a slightly smaller scale. It stays
     * within a quantization step of the block's scale (the map's gaps are at most 1/64 of it).
     */
    @ParameterizedTest
    @EnumSource(Layout.class)
    void aRoundTripMovesValuesByLessThanAQuantizationStep(Layout layout) {
        for (OptimKind kind : OptimKind.values()) {
            OptimState8bit s = fresh(kind, layout);
            for (int t = 1; t <= 4; t++) KernelProvider.get().optimizerKernels().step8bit(kind.example(t), gradient(60 + t, N, false), s);
            int k = kind.numStates();
            INDArray[] v = new INDArray[k], w = new INDArray[k];
            for (int i = 0; i < k; i++) {
                v[i] = Nd4j.create(DataType.FLOAT, N);
                w[i] = Nd4j.create(DataType.FLOAT, N);
            }
            s.dequantize(v);
            OptimState8bit copy = fresh(kind, layout);
            copy.requantize(v);
            copy.dequantize(w);
            for (int i = 0; i < k; i++) {
                for (long b = 0; b * BLOCK < N; b++) {
                    long lo = b * BLOCK, hi = Math.min(N, lo + BLOCK);
                    INDArray vb = v[i].get(org.nd4j.linalg.indexing.NDArrayIndex.interval(lo, hi));
                    INDArray wb = w[i].get(org.nd4j.linalg.indexing.NDArrayIndex.interval(lo, hi));
                    double scale = vb.amaxNumber().doubleValue(), err = vb.sub(wb).amaxNumber().doubleValue();
                    assertTrue(err <= scale / 64, kind + " " + layout + " state " + (i + 1) + " block " + b + ": moved " + err + ", scale " + scale);
                }
            }
        }
    }

    @Test
    void argumentsAreChecked() {
        OptimState8bit s = fresh(OptimKind.ADAM, Layout.FLOAT_WORDS);
        assertThrows(IllegalArgumentException.class, () -> s.dequantize(Nd4j.create(DataType.FLOAT, N)));
        assertThrows(IllegalArgumentException.class, () -> s.requantize(Nd4j.create(DataType.FLOAT, N), Nd4j.create(DataType.DOUBLE, N)));
        assertThrows(IllegalArgumentException.class, () -> s.requantize(Nd4j.create(DataType.FLOAT, N), Nd4j.create(DataType.FLOAT, N - 1)));
    }

    /** NaN and +-Inf values are refused (a step never stores them) before any byte is written, in every layout. */
    @ParameterizedTest
    @EnumSource(Layout.class)
    void nonFiniteValuesAreRefusedAndNothingIsWritten(Layout layout) {
        for (float bad : new float[]{Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
            OptimState8bit s = fresh(OptimKind.ADAM, layout);
            OptimHyper h = OptimKind.ADAM.example(1);
            JavaOptimizerKernels.INSTANCE.step8bit(h, gradient(5, N, false), s);
            byte[] before = stateBytes(s);
            INDArray m = Nd4j.rand(DataType.FLOAT, N).subi(0.5), v = Nd4j.rand(DataType.FLOAT, N);
            v.putScalar(N - 3, bad);   // in the last block: the blocks before it would be written first
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.requantize(m, v), layout + " " + bad);
            assertTrue(e.getMessage().contains("'v'") && e.getMessage().contains("at " + (N - 3)) && e.getMessage().contains("nothing was written"),
                    e.getMessage());
            assertArrayEquals(before, stateBytes(s), layout + " " + bad + ": the state is unchanged");
        }
    }

    /**
     * States past 2 GiB of values go through windows of whole blocks (Java buffers are int-indexed);
     * windows of one and two blocks give the bytes and values of a single pass, in every layout (the
     * byte phase at a window's start shifts with each state's offset), and a NaN in a later window is
     * reported at its index in the whole state.
     */
    @ParameterizedTest
    @EnumSource(Layout.class)
    void windowsOfBlocksGiveTheBytesOfOnePass(Layout layout) {
        for (OptimKind kind : OptimKind.values()) {
            OptimState8bit one = fresh(kind, layout);
            JavaOptimizerKernels.INSTANCE.step8bit(kind.example(1), gradient(7, N, false), one);
            int k = kind.numStates();
            INDArray[] ref = new INDArray[k];
            for (int j = 0; j < k; j++) ref[j] = Nd4j.create(DataType.FLOAT, N);
            StateRequantizer.dequantize(one, ref, Long.MAX_VALUE);
            INDArray[] vals = stepValues(one, kind.example(2), gradient(8, N, false));
            StateRequantizer.quantize(one, vals, Long.MAX_VALUE);
            for (long window : new long[]{1, BLOCK, 2L * BLOCK + 5}) {
                OptimState8bit w = fresh(kind, layout);
                JavaOptimizerKernels.INSTANCE.step8bit(kind.example(1), gradient(7, N, false), w);
                INDArray[] dec = new INDArray[k];
                for (int j = 0; j < k; j++) dec[j] = Nd4j.create(DataType.FLOAT, N);
                StateRequantizer.dequantize(w, dec, window);
                for (int j = 0; j < k; j++) assertArrayEquals(bytes(ref[j]), bytes(dec[j]), kind + " " + layout + " window " + window + " dequantized " + j);
                StateRequantizer.quantize(w, vals, window);
                assertArrayEquals(stateBytes(one), stateBytes(w), kind + " " + layout + " window " + window);
            }
            OptimState8bit w = fresh(kind, layout);
            INDArray[] bad = new INDArray[k];
            for (int j = 0; j < k; j++) bad[j] = vals[j].dup();
            bad[k - 1].putScalar(N - 3, Float.NaN);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> StateRequantizer.quantize(w, bad, BLOCK));
            assertTrue(e.getMessage().contains("at " + (N - 3)), e.getMessage());
        }
    }
}
