package org.bnb4j.quant;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The chunked copy between streams and native memory, with chunk sizes and initial capacities small
 * enough that small states cross every boundary: the same offset arithmetic serves states of more
 * than 2^31 codes with the default 1 MiB chunks.
 */
class QuantStateChunkTest {

    /** Reports nothing available and hands out a few bytes per read, as a slow socket does. */
    static final class Trickle extends FilterInputStream {
        Trickle(InputStream in) {
            super(in);
        }

        @Override
        public int available() {
            return 0;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            return super.read(b, off, Math.min(len, 3));
        }
    }

    static List<QuantState> states() {
        List<QuantState> l = new ArrayList<>();
        long[] lengths = {1, 63, 64, 65, 1000, 4097, 20000};
        int[] blocksizes = {64, 64, 64, 128, 256, 4096, 512};
        for (int i = 0; i < lengths.length; i++) {
            DataType t = TestArrays.FLOAT_TYPES[i % 4];
            l.add(Blockwise.quantize(TestArrays.randn(t, i, lengths[i]), QuantMap.dynamic(i % 2 == 0), blocksizes[i]));
        }
        l.add(Blockwise.quantize(Nd4j.scalar(DataType.FLOAT, 3.5f), 64));
        l.add(Blockwise.quantize(Nd4j.create(DataType.FLOAT, 0, 3), 64));
        l.add(Blockwise.quantize(Nd4j.empty(DataType.HALF), 64));
        return l;
    }

    @Test
    void everyChunkSizeAndCapacityGivesTheSameBytesAndState() throws IOException {
        int reads = 0;
        for (QuantState s : states()) {
            byte[] ref = QuantStateStreamTest.serialize(s);
            for (int chunk : new int[]{1, 2, 3, 4, 5, 7, 8, 13, 64, 1000, 1 << 20}) {
                ByteArrayOutputStream o = new ByteArrayOutputStream();
                s.write(o, chunk);
                assertArrayEquals(ref, o.toByteArray(), s + " written in chunks of " + chunk);
                for (long eager : new long[]{0, 1, 3, 4, 12, 100, 8L << 20}) {
                    for (boolean trickle : new boolean[]{false, true}) {
                        InputStream in = new ByteArrayInputStream(ref);
                        if (trickle) in = new Trickle(in);
                        QuantState r = QuantState.read(in, chunk, eager);
                        QuantStateStreamTest.assertSameState(s, r, s + " read in chunks of " + chunk + ", from "
                                + eager + " bytes" + (trickle ? ", trickling" : ""));
                        assertEquals(-1, in.read(), "read consumes exactly one state");
                        reads++;
                    }
                }
            }
        }
        assertEquals(10 * 11 * 7 * 2, reads);
    }

    @Test
    void streamsEndingWhileAnArrayGrowsAreTruncated() throws IOException {
        QuantState s = Blockwise.quantize(TestArrays.randn(DataType.FLOAT, 5, 20000), 64);
        byte[] ref = QuantStateStreamTest.serialize(s);
        StreamFields f = StreamFields.parse(ref);
        int absmaxStart = f.mapOffset + 1024 + 8;
        int codesStart = absmaxStart + f.absmax.length * 4 + 8;
        int[] ends = {absmaxStart, absmaxStart + 1, absmaxStart + 4, absmaxStart + 5, absmaxStart + 511,
                codesStart - 1, codesStart, codesStart + 1, codesStart + 4095, codesStart + 4096, ref.length - 9,
                ref.length - 8, ref.length - 1};
        for (int end : ends) {
            for (long eager : new long[]{4, 8L << 20}) {
                byte[] cut = Arrays.copyOf(ref, end);
                IOException e = assertThrows(IOException.class,
                        () -> QuantState.read(new Trickle(new ByteArrayInputStream(cut)), 5, eager), "cut at " + end);
                assertTrue(e.getMessage().contains("truncated"), end + ": " + e.getMessage());
            }
        }
    }

    @Test
    void absmaxBitsSurviveEveryChunking() throws IOException {
        // Raw float bits (NaN payloads, negative zero, denormals) through the big-endian swap.
        INDArray x = Nd4j.createFromArray(new float[640]);
        QuantState q = Blockwise.quantize(x, 64);
        int[] bits = {0x7FC00001, 0xFFC12345, 0x80000000, 0x00000001, 0x7F7FFFFF, 0x3F800000, 0xFF800000, 0x7F800000, 0x12345678, 0x00800000};
        INDArray absmax = Nd4j.createFromArray(bits).castTo(DataType.INT);
        INDArray am = Nd4j.create(DataType.FLOAT, 10);
        org.bnb4j.internal.kernels.HostBuffers.of(am).asIntBuffer().put(org.bnb4j.internal.kernels.HostBuffers.of(absmax).asIntBuffer());
        QuantState s = QuantState.of(q.codes(), am, q.map(), 64, new long[]{640}, DataType.FLOAT);
        for (int chunk : new int[]{1, 4, 6, 40}) {
            ByteArrayOutputStream o = new ByteArrayOutputStream();
            s.write(o, chunk);
            QuantState r = QuantState.read(new Trickle(new ByteArrayInputStream(o.toByteArray())), chunk, 0);
            int[] back = new int[10];
            org.bnb4j.internal.kernels.HostBuffers.of(r.absmax()).asIntBuffer().get(back);
            assertArrayEquals(bits, back, "chunk " + chunk);
            StreamFields f = StreamFields.parse(o.toByteArray());
            assertArrayEquals(bits, f.absmax, "big-endian int bits in the stream, chunk " + chunk);
        }
    }
}
