package org.bnb4j.internal.optim;

import org.bnb4j.optim.OptimHyper;
import org.bnb4j.optim.OptimKind;

import org.bnb4j.internal.kernels.BlockwiseQuantizer;
import org.bnb4j.internal.kernels.KernelProvider;
import org.bnb4j.quant.NonFiniteInputException;
import org.bnb4j.internal.nativeops.BnbNative;
import org.bnb4j.quant.Blockwise;
import org.bnb4j.quant.QuantMap;
import org.bnb4j.quant.QuantState;
import org.junit.jupiter.api.AfterEach;
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
import static org.bnb4j.internal.optim.OptimizerKernelsTest.zeros;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The native kernels hand chunks of blocks to threads dynamically (libnd4j-ops parallel.h): which
 * thread computes a block, how big the chunks are and how many threads run must never change a bit of
 * the result. Each case runs once on one thread (the path the Java oracle comparisons cover at small
 * sizes) and again split into tiny chunks on more threads than cores, so that threads steal from one
 * another, for every ISA.
 */
class ParallelSplitTest {
    private static final long N = 150_001;

    /** {threads, chunk elements (0: built-in), min elements per thread (1: always parallel)}. */
    private static final long[][] SPLITS = {{2, 64, 1}, {3, 1000, 1}, {4, 0, 1}};

    @AfterEach
    void restore() {
        if (KernelProvider.nativeKernels().isEmpty()) return;
        BnbNative.setThreads(0);
        BnbNative.setParallelSplit(0, 0);
        String[] isas = BnbNative.supportedIsas().split(",");
        BnbNative.selectIsa(isas[isas.length - 1]);
    }

    private static void split(long[] s) {
        BnbNative.setThreads((int) s[0]);
        BnbNative.setParallelSplit(s[1], s[2]);
    }

    private static void oneThread() {
        BnbNative.setThreads(1);
        BnbNative.setParallelSplit(0, 0);
    }

    @ParameterizedTest
    @EnumSource(OptimKind.class)
    void optimizerStepsDoNotDependOnTheSplit(OptimKind kind) {
        assumeTrue(KernelProvider.nativeKernels().isPresent());
        OptimizerKernels nat = KernelProvider.get().optimizerKernels();
        for (String isa : BnbNative.supportedIsas().split(",")) {
            assertTrue(BnbNative.selectIsa(isa));
            for (int blocksize : new int[]{64, 256, 2048}) {
                oneThread();
                List<byte[]> ref = steps(nat, kind, blocksize);
                for (long[] s : SPLITS) {
                    split(s);
                    List<byte[]> got = steps(nat, kind, blocksize);
                    for (int i = 0; i < ref.size(); i++) {
                        assertArrayEquals(ref.get(i), got.get(i), isa + " " + kind + " blocksize " + blocksize + " output " + i
                                + " with " + s[0] + " threads, chunk " + s[1]);
                    }
                }
            }
        }
    }

    /** Three steps (the second with NaN/Inf gradients) on plain, packed (FLOAT and HALF words) and 32-bit state: every output's bytes. */
    private static List<byte[]> steps(OptimizerKernels nat, OptimKind kind, int blocksize) {
        List<byte[]> out = new ArrayList<>();
        OptimState8bit plain = OptimState8bit.allocate(kind, N, blocksize);
        INDArray words = Nd4j.create(DataType.FLOAT, OptimState8bit.packedLength(kind, N, blocksize));
        OptimState8bit packed = OptimState8bit.packed(kind, words, N, blocksize);
        INDArray halves = Nd4j.create(DataType.HALF, 2 * OptimState8bit.packedLength(kind, N, blocksize));
        OptimState8bit inHalves = OptimState8bit.packedInHalfWords(kind,
                org.bnb4j.internal.kernels.HostBuffers.aliasFloats(halves, 0, halves.length() / 2), N, blocksize);
        INDArray[] full = zeros(kind, N);
        for (int t = 1; t <= 3; t++) {
            OptimHyper h = kind.example(t);
            INDArray g = gradient(t, N, t == 2);
            INDArray a = g.dup(), b = g.dup(), c = g.dup(), d = g.dup();
            nat.step8bit(h, a, plain);
            nat.step8bit(h, b, packed);
            nat.step32(h, c, full);
            nat.step8bit(h, d, inHalves);
            out.add(bytes(a));
            out.add(bytes(b));
            out.add(bytes(c));
            out.add(bytes(d));
            out.add(Integer.toString(nat.absmaxChecksum(plain)).getBytes());
        }
        for (INDArray s : plain.arrays()) out.add(bytes(s));
        out.add(bytes(words));
        out.add(bytes(halves));
        for (INDArray s : full) out.add(bytes(s));
        return out;
    }

    @Test
    void quantizeAndDequantizeDoNotDependOnTheSplit() {
        assumeTrue(KernelProvider.nativeKernels().isPresent());
        BlockwiseQuantizer q = new BlockwiseQuantizer(KernelProvider.get().quantKernels());
        Nd4j.getRandom().setSeed(7);
        INDArray x = Nd4j.randn(DataType.FLOAT, N);
        x.putScalar(N - 5, Float.NaN);
        INDArray strided = Nd4j.randn(DataType.FLOAT, 700, 500).transpose(); // a non-contiguous view
        INDArray half = Nd4j.randn(DataType.FLOAT, N).castTo(DataType.HALF);
        for (String isa : BnbNative.supportedIsas().split(",")) {
            assertTrue(BnbNative.selectIsa(isa));
            for (int blocksize : new int[]{64, 4096}) {
                oneThread();
                List<byte[]> ref = quantizeAll(q, blocksize, x, strided, half);
                for (long[] s : SPLITS) {
                    split(s);
                    List<byte[]> got = quantizeAll(q, blocksize, x, strided, half);
                    for (int i = 0; i < ref.size(); i++) {
                        assertArrayEquals(ref.get(i), got.get(i), isa + " blocksize " + blocksize + " output " + i
                                + " with " + s[0] + " threads, chunk " + s[1]);
                    }
                }
            }
        }
    }

    private static List<byte[]> quantizeAll(BlockwiseQuantizer q, int blocksize, INDArray... inputs) {
        List<byte[]> out = new ArrayList<>();
        for (INDArray in : inputs) {
            for (QuantState st : new QuantState[]{q.quantize(in, QuantMap.dynamic(), blocksize),
                    q.quantizeStochastic(in, QuantMap.dynamic(), blocksize, 11)}) {
                out.add(bytes(st.codes()));
                out.add(bytes(st.absmax()));
                out.add(bytes(q.dequantize(st)));
                if (in.rank() == 2) { // and into a strided view
                    INDArray view = Nd4j.create(in.dataType(), in.shape()[1], in.shape()[0]).transpose();
                    q.dequantize(st.codes(), st.absmax(), QuantMap.dynamic(), blocksize, view);
                    out.add(bytes(view.dup('c')));
                }
            }
        }
        return out;
    }

    /** Several Java threads calling kernels at once (one gets the worker pool, the others run alone). */
    @Test
    void concurrentCallersGetTheSameResults() throws Exception {
        assumeTrue(KernelProvider.nativeKernels().isPresent());
        OptimizerKernels nat = KernelProvider.get().optimizerKernels();
        oneThread();
        List<byte[]> ref = steps(nat, OptimKind.ADAM, 256);
        BnbNative.setThreads(3);
        BnbNative.setParallelSplit(2048, 1);
        List<java.util.concurrent.Future<List<byte[]>>> fs = new ArrayList<>();
        java.util.concurrent.ExecutorService ex = java.util.concurrent.Executors.newFixedThreadPool(4);
        try {
            for (int i = 0; i < 8; i++) fs.add(ex.submit(() -> steps(nat, OptimKind.ADAM, 256)));
            for (java.util.concurrent.Future<List<byte[]>> f : fs) {
                List<byte[]> got = f.get();
                for (int i = 0; i < ref.size(); i++) assertArrayEquals(ref.get(i), got.get(i), "output " + i);
            }
        } finally {
            ex.shutdownNow();
        }
    }

    /** A block holding +-Inf is reported as the first such block, whichever thread found it. */
    @Test
    void firstInfiniteBlockDoesNotDependOnTheSplit() {
        assumeTrue(KernelProvider.nativeKernels().isPresent());
        BlockwiseQuantizer q = new BlockwiseQuantizer(KernelProvider.get().quantKernels());
        INDArray x = Nd4j.randn(DataType.FLOAT, N);
        x.putScalar(N - 3, Float.POSITIVE_INFINITY);
        x.putScalar(70_000, Float.NEGATIVE_INFINITY);
        x.putScalar(140_000, Float.POSITIVE_INFINITY);
        oneThread();
        assertEquals(70_000 / 64, assertThrows(NonFiniteInputException.class, () -> q.quantize(x, QuantMap.dynamic(), 64)).block());
        for (long[] s : SPLITS) {
            split(s);
            assertEquals(70_000 / 64, assertThrows(NonFiniteInputException.class, () -> q.quantize(x, QuantMap.dynamic(), 64)).block(),
                    s[0] + " threads, chunk " + s[1]);
        }
    }
}
