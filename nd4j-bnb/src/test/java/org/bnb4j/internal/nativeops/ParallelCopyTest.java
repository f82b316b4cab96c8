package org.bnb4j.internal.nativeops;

import org.bnb4j.internal.kernels.ArrayMemory;
import org.bnb4j.internal.kernels.KernelProvider;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.lang.ref.Reference;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * bnb_parallel_copy, the benchmarks' memory roofline: below 16 MiB a memcpy per chunk, from 16 MiB up
 * streaming stores with an unaligned head and tail by memcpy. Every byte of the range arrives, none
 * outside it is written, for aligned and unaligned ends on both sides of the threshold.
 */
class ParallelCopyTest {
    static final long STREAM_BYTES = 16L << 20;

    @BeforeAll
    static void needsNative() {
        assumeTrue(KernelProvider.nativeKernels().isPresent(), "native library not loaded");
    }

    @Test
    void copiesExactlyTheRangeBelowAndAboveTheStreamingThreshold() {
        long[] lengths = {0, 1, 63, 1000, (1L << 20) + 17, STREAM_BYTES - 1, STREAM_BYTES, STREAM_BYTES + 4096 + 13};
        int[][] offsets = {{0, 0}, {3, 5}, {16, 1}, {7, 64}};
        Random rnd = new Random(42);
        long cap = STREAM_BYTES + 8192 + 256;
        INDArray src = Nd4j.create(DataType.INT8, cap), dst = Nd4j.create(DataType.INT8, cap);
        byte[] s = new byte[(int) cap];
        rnd.nextBytes(s);
        src.data().setData(s);
        long srcBase = ArrayMemory.of(src).address(), dstBase = ArrayMemory.of(dst).address();
        try {
            for (long len : lengths) {
                for (int[] off : offsets) {
                    byte fill = (byte) rnd.nextInt();
                    dst.assign(fill);
                    BnbNative.parallelCopy(srcBase + off[0], dstBase + off[1], len);
                    byte[] d = dst.data().asBytes();
                    String where = "length " + len + ", offsets " + off[0] + "/" + off[1];
                    for (int i = 0; i < off[1]; i++) assertEquals(fill, d[i], where + ": byte " + i + " before the range written");
                    int bad = -1;
                    for (int i = 0; i < len && bad < 0; i++) if (d[off[1] + i] != s[off[0] + i]) bad = i;
                    assertEquals(-1, bad, where + ": first wrong byte");
                    for (long i = off[1] + len; i < Math.min(cap, off[1] + len + 4096); i++) {
                        assertEquals(fill, d[(int) i], where + ": byte " + i + " after the range written");
                    }
                }
            }
        } finally {
            // the copies got raw addresses
            Reference.reachabilityFence(src);
            Reference.reachabilityFence(dst);
        }
    }
}
