package org.bnb4j.quant;

import org.bnb4j.internal.kernels.ArrayMemory;
import org.bnb4j.internal.kernels.HostBuffers;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.*;

/** A state with more codes than a Java array holds, streamed through a pipe and compared chunk by chunk. */
final class LargeStates {
    private LargeStates() {}

    private static final int STEP = 1 << 24;

    static void roundTrip(long n) throws Exception {
        int bs = 4096;
        long nb = Blockwise.numBlocks(n, bs);
        INDArray codes = Nd4j.createUninitialized(DataType.UBYTE, n);
        INDArray absmax = Nd4j.createUninitialized(DataType.FLOAT, nb);
        long ca = ArrayMemory.of(codes).address(), aa = ArrayMemory.of(absmax).address();
        byte[] pattern = new byte[STEP];
        for (int j = 0; j < STEP; j++) pattern[j] = (byte) (j * 7 + (j >>> 9));
        for (long off = 0; off < n; off += STEP) {
            int len = (int) Math.min(STEP, n - off);
            ByteBuffer b = HostBuffers.wrap(ca + off, len);
            b.put(pattern, 0, len);
            b.put(0, (byte) (off / STEP));   // distinct chunks, so a misplaced chunk shows
        }
        FloatBuffer a = HostBuffers.wrap(aa, nb * 4).asFloatBuffer();
        for (int i = 0; i < nb; i++) a.put(i, i * 0.25f);

        QuantState s = QuantState.of(codes, absmax, QuantMap.dynamic(), bs, new long[]{n}, DataType.FLOAT);
        PipedInputStream in = new PipedInputStream(1 << 20);
        PipedOutputStream out = new PipedOutputStream(in);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread writer = new Thread(() -> {
            try (out) {
                s.write(out);
            } catch (Throwable t) {
                failure.set(t);
            }
        }, "large-state-writer");
        writer.start();
        QuantState r;
        try {
            r = QuantState.read(in);
        } finally {
            in.close();
            writer.join();
        }
        if (failure.get() != null) throw new AssertionError("write failed", failure.get());
        assertArrayEquals(new long[]{n}, r.shape());
        assertEquals(n, r.length());
        assertEquals(nb, r.numBlocks());
        long rc = ArrayMemory.of(r.codes()).address(), ra = ArrayMemory.of(r.absmax()).address();
        for (long off = 0; off < n; off += STEP) {
            int len = (int) Math.min(STEP, n - off);
            int m = HostBuffers.wrap(ca + off, len).mismatch(HostBuffers.wrap(rc + off, len));
            assertEquals(-1, m, "codes differ at " + (off + m));
        }
        assertEquals(-1, HostBuffers.wrap(aa, nb * 4).mismatch(HostBuffers.wrap(ra, nb * 4)), "absmax");
        java.lang.ref.Reference.reachabilityFence(s);
        java.lang.ref.Reference.reachabilityFence(r);
    }
}
