package org.bnb4j.quant;

import org.bnb4j.internal.kernels.HostBuffers;
import org.bnb4j.optim.OptimKind;
import org.bnb4j.internal.optim.OptimState8bit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Use-after-free under GC pressure. The kernels get raw addresses of INDArray memory; if nothing
 * keeps a temporary array reachable until the call returns, ND4J's deallocator frees it mid-call
 * (a JVM crash, or silently wrong bytes). Each loop runs with a thread calling System.gc() for a
 * bounded time ({@code -Dbnb4j.gcStressMillis}, default 2000 per loop) and checks every result.
 */
class GcStressTest {
    private static final long MILLIS = Long.getLong("bnb4j.gcStressMillis", 2000);
    private static final int N = 4 << 20;   // 4M floats: each kernel call lasts long enough to race the GC

    private static Thread gcThread;
    private static final AtomicBoolean running = new AtomicBoolean();

    @BeforeAll
    static void startGc() {
        running.set(true);
        gcThread = new Thread(() -> {
            while (running.get()) {
                System.gc();
                Thread.onSpinWait();
            }
        }, "gc-hammer");
        gcThread.setDaemon(true);
        gcThread.start();
    }

    @AfterAll
    static void stopGc() throws InterruptedException {
        running.set(false);
        gcThread.join();
    }

    private static INDArray input() {
        Nd4j.getRandom().setSeed(7);
        return Nd4j.randn(DataType.FLOAT, N);
    }

    /** The crash loop: the QuantState and its arrays are temporaries of one expression. */
    @Test
    void quantizeDequantizeTemporaries() {
        INDArray x = input();
        float[] expected = Blockwise.dequantize(Blockwise.quantize(x, QuantMap.dynamic(), 256)).toFloatVector();
        long end = System.currentTimeMillis() + MILLIS;
        int rounds = 0;
        while (System.currentTimeMillis() < end) {
            float[] got = Blockwise.dequantize(Blockwise.quantize(x, QuantMap.dynamic(), 256)).toFloatVector();
            assertArrayEquals(expected, got, "round " + rounds);
            rounds++;
        }
        assertTrue(rounds > 0);
    }

    /** A temporary input (a dup made in the expression) must live until quantize returns. */
    @Test
    void temporaryInputAndOutput() {
        INDArray x = input();
        QuantState ref = Blockwise.quantize(x, QuantMap.dynamic(), 4096);
        float[] refAbsmax = ref.absmax().toFloatVector();
        byte[] refCodes = bytes(ref.codes());
        long end = System.currentTimeMillis() + MILLIS;
        while (System.currentTimeMillis() < end) {
            QuantState s = Blockwise.quantize(x.dup(), QuantMap.dynamic(), 4096);
            assertArrayEquals(refAbsmax, s.absmax().toFloatVector());
            assertArrayEquals(refCodes, bytes(s.codes()));
        }
    }

    /** The silent corruption: quantize(...).write(out) under GC pressure, same bytes every time. */
    @Test
    void writeOfTemporaryState() throws IOException {
        INDArray x = Nd4j.randn(DataType.FLOAT, 1 << 20);
        ByteArrayOutputStream ref = new ByteArrayOutputStream();
        Blockwise.quantize(x, QuantMap.dynamic(), 256).write(ref);
        byte[] expected = ref.toByteArray();
        long end = System.currentTimeMillis() + MILLIS;
        while (System.currentTimeMillis() < end) {
            ByteArrayOutputStream out = new ByteArrayOutputStream(expected.length);
            Blockwise.quantize(x, QuantMap.dynamic(), 256).write(out);
            assertArrayEquals(expected, out.toByteArray());
        }
    }

    /**
     * packedCodes() is a UINT8 alias of the packed FLOAT array's memory: it must keep that array
     * alive after the caller dropped every other reference to it.
     */
    @Test
    void packedCodesAliasOutlivesItsOwner() {
        long n = 1 << 20;
        int bs = 256;
        List<INDArray> aliases = new ArrayList<>();
        List<byte[]> expected = new ArrayList<>();
        for (int r = 0; r < 4; r++) {
            INDArray view = Nd4j.create(DataType.FLOAT, OptimState8bit.packedLength(OptimKind.ADAM, n, bs));
            // a recognisable pattern that is a normal float in every word
            view.assign(Nd4j.linspace(DataType.FLOAT, 1 + r, 2 + r, view.length()));
            INDArray codes = OptimState8bit.packed(OptimKind.ADAM, view, n, bs).packedCodes();
            aliases.add(codes);
            expected.add(bytes(codes.reshape(codes.length())));
        }
        // drop the owners, collect, and reuse the freed memory
        for (int i = 0; i < 5; i++) {
            System.gc();
            List<INDArray> garbage = new ArrayList<>();
            for (int r = 0; r < 8; r++) garbage.add(Nd4j.valueArrayOf(new long[]{n}, (float) -r));
            garbage.clear();
        }
        for (int r = 0; r < aliases.size(); r++) {
            INDArray a = aliases.get(r);
            assertArrayEquals(expected.get(r), bytes(a.reshape(a.length())), "alias " + r + " lost its memory");
        }
    }

    private static byte[] bytes(INDArray a) {
        ByteBuffer b = HostBuffers.of(a);
        byte[] out = new byte[b.remaining()];
        b.get(0, out);
        java.lang.ref.Reference.reachabilityFence(a);
        return out;
    }
}
