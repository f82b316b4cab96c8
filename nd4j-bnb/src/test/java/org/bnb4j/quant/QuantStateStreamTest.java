package org.bnb4j.quant;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.*;

/** QuantState's binary form against golden streams, forged headers, null arguments and empty arrays. */
class QuantStateStreamTest {

    static byte[] serialize(QuantState s) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        s.write(out);
        return out.toByteArray();
    }

    static QuantState deserialize(byte[] b) throws IOException {
        return QuantState.read(new ByteArrayInputStream(b));
    }

    /** The deterministic input the golden streams were quantized from. */
    static INDArray goldenInput(DataType t, long... shape) {
        int n = (int) Arrays.stream(shape).reduce(1, (a, b) -> a * b);
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = Math.sin(i * 0.37) * (1 + i % 7);
        return Nd4j.createFromArray(v).reshape(shape).castTo(t);
    }

    static byte[] resource(String name) throws IOException {
        try (InputStream in = QuantStateStreamTest.class.getResourceAsStream(name)) {
            assertNotNull(in, "test resource " + name);
            return in.readAllBytes();
        }
    }

    static void assertSameState(QuantState e, QuantState a, String what) {
        assertArrayEquals(e.shape(), a.shape(), what + ": shape");
        assertEquals(e.dataType(), a.dataType(), what + ": data type");
        assertEquals(e.blocksize(), a.blocksize(), what + ": blocksize");
        assertEquals(e.map(), a.map(), what + ": map");
        assertEquals(e.length(), a.length(), what + ": codes length");
        assertEquals(e.numBlocks(), a.numBlocks(), what + ": number of blocks");
        if (e.length() == 0) return;
        TestArrays.assertSameBits(e.codes(), a.codes(), what + ": codes");
        TestArrays.assertSameBits(e.absmax(), a.absmax(), what + ": absmax");
    }

    // ---- format stability: streams written by the version-1 writer before the rework ----

    @Test
    void goldenVersion1StreamsReadAndRewriteByteForByte() throws IOException {
        float[] custom = new float[256];
        for (int i = 0; i < 256; i++) custom[i] = (i - 128) / 100f;
        Object[][] cases = {
                {"golden-v1-float-3x50-dynamic-b64.bin", QuantMap.dynamic(), 64,
                        goldenInput(DataType.FLOAT, 3, 50), "dynamic(signed)"},
                {"golden-v1-half-2x3x40-linear-unsigned-b128.bin", QuantMap.linear(false), 128,
                        Transforms.abs(goldenInput(DataType.HALF, 2, 3, 40)), "linear(unsigned)"},
                {"golden-v1-double-scalar-custom-b4096.bin", QuantMap.of(custom), 4096,
                        Nd4j.scalar(DataType.DOUBLE, -0.7), "custom"},
        };
        for (Object[] c : cases) {
            String file = (String) c[0];
            byte[] golden = resource(file);
            INDArray x = (INDArray) c[3];
            QuantState expected = Blockwise.quantize(x, (QuantMap) c[1], (Integer) c[2]);
            QuantState r = deserialize(golden);
            assertSameState(expected, r, file);
            assertArrayEquals(x.shape(), r.shape(), file);
            assertEquals(c[4], r.map().name(), file + ": the map's name survives the stream");
            TestArrays.assertSameBits(Blockwise.dequantize(expected), Blockwise.dequantize(r), file + ": dequantized");
            // The writer still produces exactly the version-1 bytes, for the read state and the fresh one.
            assertArrayEquals(golden, serialize(r), file + ": rewritten");
            assertArrayEquals(golden, serialize(expected), file + ": written afresh");
        }
    }

    // ---- argument checks ----

    @Test
    void nullArgumentsAreNamed() {
        QuantState s = Blockwise.quantize(Nd4j.randn(DataType.FLOAT, 100), 64);
        INDArray c = s.codes(), a = s.absmax();
        QuantMap m = QuantMap.dynamic();
        long[] sh = {100};
        assertIae("stream", () -> QuantState.read(null));
        assertIae("stream", () -> s.write(null));
        assertIae("codes", () -> QuantState.of(null, a, m, 64, sh, DataType.FLOAT));
        assertIae("absmax", () -> QuantState.of(c, null, m, 64, sh, DataType.FLOAT));
        assertIae("map", () -> QuantState.of(c, a, null, 64, sh, DataType.FLOAT));
        assertIae("blocksize", () -> QuantState.of(c, a, m, 0, sh, DataType.FLOAT));
        assertIae("shape", () -> QuantState.of(c, a, m, 64, null, DataType.FLOAT));
        assertIae("data type", () -> QuantState.of(c, a, m, 64, sh, null));
        assertIae("blocksize", () -> Blockwise.numBlocks(100, 0));
        assertIae("element count", () -> Blockwise.numBlocks(-1, 64));
        assertEquals(Long.MAX_VALUE / 64 + 1, Blockwise.numBlocks(Long.MAX_VALUE, 64), "no overflow near Long.MAX_VALUE");
    }

    interface Call {
        void run() throws Exception;
    }

    static void assertIae(String fragment, Call call) {
        try {
            call.run();
            fail("expected IllegalArgumentException naming " + fragment);
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage() != null && e.getMessage().toLowerCase().contains(fragment), e.getMessage());
        } catch (Exception e) {
            throw new AssertionError("expected IllegalArgumentException naming " + fragment + ", got " + e, e);
        }
    }

    @Test
    void shapesWhoseElementCountOverflowsAreRejected() {
        // 8 * (2^61 + 125) = 2^64 + 1000 wraps to 1000 in long arithmetic
        long[] shape = {8, (1L << 61) + 125};
        QuantState s = Blockwise.quantize(Nd4j.randn(DataType.FLOAT, 1000), 64);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> QuantState.of(s.codes(), s.absmax(), s.map(), 64, shape, DataType.FLOAT));
        assertTrue(e.getMessage().contains(Arrays.toString(shape)), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> QuantState.of(s.codes(), s.absmax(), s.map(), 64, new long[]{10, -100}, DataType.FLOAT));
        assertTrue(e.getMessage().contains("[10, -100]"), e.getMessage());
        // a zero dimension does not hide the others' overflow (C-order strides would overflow)
        QuantState empty = Blockwise.quantize(Nd4j.create(DataType.FLOAT, 0), 64);
        long[] hidden = {0, 1L << 62, 8};
        e = assertThrows(IllegalArgumentException.class,
                () -> QuantState.of(empty.codes(), empty.absmax(), empty.map(), 64, hidden, DataType.FLOAT));
        assertTrue(e.getMessage().contains(Arrays.toString(hidden)), e.getMessage());
        assertEquals(0, QuantState.of(empty.codes(), empty.absmax(), empty.map(), 64, new long[]{7, 0, 1L << 40}, DataType.FLOAT).length());
        e = assertThrows(IllegalArgumentException.class,
                () -> QuantState.of(s.codes(), s.absmax(), s.map(), 64, new long[33], DataType.FLOAT));
        assertTrue(e.getMessage().contains("rank"), e.getMessage());
    }

    // ---- forged headers, each with a valid checksum: the header is checked before anything is allocated ----

    static StreamFields validFields() throws IOException {
        return StreamFields.parse(serialize(Blockwise.quantize(TestArrays.randn(DataType.FLOAT, 1, 3, 10, 100), 256)));
    }

    static void assertRejected(String fragment, Consumer<StreamFields> forge) throws IOException {
        StreamFields f = validFields();
        forge.accept(f);
        byte[] b = f.encode(true);
        long t0 = System.nanoTime();
        IOException e = assertThrows(IOException.class, () -> deserialize(b), fragment);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(e.getMessage().toLowerCase().contains(fragment.toLowerCase()), "expected '" + fragment + "' in: " + e.getMessage());
        // Allocating what a forged header declares took seconds and gigabytes; a rejection takes milliseconds.
        assertTrue(ms < 3000, fragment + ": rejected after " + ms + " ms");
    }

    @Test
    void forgedHeaderFieldsAreIOExceptionsBeforeAllocation() throws IOException {
        assertRejected("blocksize", f -> f.blocksize = 0);
        assertRejected("blocksize", f -> f.blocksize = Integer.MIN_VALUE);
        assertRejected("blocksize", f -> f.blocksize = -256);
        assertRejected("data type", f -> f.typeName("INT"));
        assertRejected("data type", f -> f.typeName("NO_SUCH_TYPE"));
        assertRejected("data type", f -> f.typeName("x".repeat(40000)));
        assertRejected("data type", f -> f.typeNameLength = 65535);            // longer than the data after it
        assertRejected("data type", f -> f.typeName = new byte[]{(byte) 0xC0, 0x41, 0x41, 0x41, 0x41}); // bad UTF-8
        assertRejected("rank", f -> f.rank = -1);
        assertRejected("rank", f -> f.rank = 33);
        assertRejected("rank", f -> f.rank = Integer.MAX_VALUE);
        assertRejected("dimension", f -> f.dims[1] = -10);
        assertRejected("dimension", f -> f.dims[0] = Long.MIN_VALUE);
        assertRejected("overflow", f -> f.shape(8, (1L << 61) + 125));      // wraps to 1000 elements
        assertRejected("overflow", f -> f.shape(1L << 32, 1L << 32));
        assertRejected("overflow", f -> {
            f.shape(0, 1L << 62, 8);
            f.blocks = 0;
            f.absmax = new int[0];
            f.codeCount = 0;
            f.codes = new byte[0];
        });
        // A count that fits a long whose bytes do not: 2^61 absmax floats at blocksize 1 (was an ArithmeticException)
        assertRejected("more bytes than a stream can hold", f -> {
            f.blocksize = 1;
            f.shape(1L << 61);
            f.blocks = 1L << 61;
        });
        assertRejected("map name", f -> f.mapNameLength = 65535);
        assertRejected("blocks", f -> f.blocks = Integer.MAX_VALUE);         // the tester's forged block count
        assertRejected("blocks", f -> f.blocks = -1);
        assertRejected("blocks", f -> f.blocks = Long.MAX_VALUE);
        assertRejected("blocks", f -> f.blocks = 11);
        assertRejected("codes", f -> f.codeCount = 1_000_000_000L);          // the tester's 1e9 codes
        assertRejected("codes", f -> f.codeCount = -1);
        assertRejected("codes", f -> f.codeCount = 2999);
        assertRejected("map", f -> { int t = f.map[10]; f.map[10] = f.map[11]; f.map[11] = t; }); // unsorted
        assertRejected("map", f -> f.map[200] = Float.floatToRawIntBits(Float.NaN));
        assertRejected("map", f -> f.map[255] = Float.floatToRawIntBits(Float.POSITIVE_INFINITY));
        assertRejected("version", f -> f.version = 2);
        assertRejected("magic", f -> f.magic ^= 1);
        // Consistent headers that declare more than the stream holds: fails once the data runs out,
        // having allocated about what was read (8 GiB of codes were zero-filled up front before).
        assertRejected("truncated", f -> {
            f.shape(1L << 33);
            f.blocks = (1L << 33) / 256;
        });
        assertRejected("truncated", f -> {
            f.blocksize = 4096;
            f.shape(1L << 33);
            f.blocks = (1L << 33) / 4096;
            f.absmax = new int[(int) f.blocks];   // all 8 MiB of absmax present, the 8 GiB of codes missing
            f.codeCount = 1L << 33;
        });
        assertRejected("truncated", f -> {
            f.shape(1_000_000_000L);
            f.blocks = 1_000_000_000L / 256;
        });
    }

    @Test
    void checksumIsVerifiedBeforeAnythingIsReturned() throws IOException {
        StreamFields f = validFields();
        f.crc ^= 0x40;
        IOException e = assertThrows(IOException.class, () -> deserialize(f.encode(false)));
        assertTrue(e.getMessage().contains("checksum"), e.getMessage());
        StreamFields g = validFields();
        g.codes[1234] ^= 1;
        e = assertThrows(IOException.class, () -> deserialize(g.encode(false)));
        assertTrue(e.getMessage().contains("checksum"), e.getMessage());
        byte[] good = validFields().encode(false);
        e = assertThrows(IOException.class, () -> deserialize(Arrays.copyOf(good, good.length - 3)));
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    }

    // ---- empty arrays ----

    @Test
    void emptyArraysQuantizeDequantizeAndStreamBack() throws IOException {
        List<Supplier<INDArray>> inputs = List.of(
                () -> Nd4j.create(DataType.FLOAT, 0),
                () -> Nd4j.create(DataType.FLOAT, 0, 5),
                () -> Nd4j.create(DataType.HALF, 3, 0),
                () -> Nd4j.create(DataType.DOUBLE, 2, 0, 7),
                () -> Nd4j.create(DataType.BFLOAT16, 0),
                () -> Nd4j.empty(DataType.FLOAT),                  // rank 0, no elements
                () -> Nd4j.createFromArray(new float[0]),          // the same
                () -> Nd4j.empty(DataType.DOUBLE));
        for (Supplier<INDArray> in : inputs) {
            INDArray x = in.get();
            String what = x.dataType() + Arrays.toString(x.shape()) + (x.rank() == 0 ? " (empty scalar)" : "");
            for (int bs : new int[]{64, 4096}) {
                QuantState s = Blockwise.quantize(x, QuantMap.dynamic(), bs);
                assertEquals(0, s.length(), what);
                assertEquals(0, s.numBlocks(), what);
                checkEmptyResult(x, Blockwise.dequantize(s), what);
                QuantState st = Blockwise.quantizeStochastic(x, QuantMap.dynamic(false), bs, 3);
                checkEmptyResult(x, Blockwise.dequantize(st), what + " stochastic");

                byte[] b = serialize(s);
                QuantState r = deserialize(b);
                assertSameState(s, r, what);
                checkEmptyResult(x, Blockwise.dequantize(r), what + " read back");
                assertArrayEquals(b, serialize(r), what + " rewritten");
                QuantState o = QuantState.of(s.codes(), s.absmax(), s.map(), bs, x.shape(), x.dataType());
                checkEmptyResult(x, Blockwise.dequantize(o), what + " via of()");
            }
        }
    }

    static void checkEmptyResult(INDArray x, INDArray d, String what) {
        assertEquals(x.dataType(), d.dataType(), what + ": data type");
        assertArrayEquals(x.shape(), d.shape(), what + ": shape");
        assertEquals(0, d.length(), what + ": length");
        assertTrue(d.isEmpty(), what + ": isEmpty");
    }

    @Test
    void rankZeroStreamsHoldOneElementOrNone() throws IOException {
        // A rank-0 shape is a scalar (1 code, 1 block) or ND4J's empty scalar (no codes, no blocks); nothing between.
        StreamFields f = StreamFields.parse(serialize(Blockwise.quantize(Nd4j.empty(DataType.FLOAT), 64)));
        assertEquals(0, f.rank);
        assertEquals(0, f.blocks);
        assertEquals(0, f.codeCount);
        f.codeCount = 1;
        f.codes = new byte[1];
        byte[] b = f.encode(true);
        IOException e = assertThrows(IOException.class, () -> deserialize(b));
        assertTrue(e.getMessage().contains("codes"), e.getMessage());
    }

    @Test
    void stringFieldsOfForeignLengthAreRead() throws IOException {
        // A name written as non-ASCII modified UTF-8 is read as such (the map name is informational).
        StreamFields f = validFields();
        f.mapName = "cüstom ✓".getBytes(StandardCharsets.UTF_8);
        f.mapNameLength = f.mapName.length;
        QuantState r = deserialize(f.encode(true));
        assertEquals(QuantMap.dynamic(), r.map());
    }

    // ---- more than 2^31 codes (opt-in: about 5 GB off-heap) ----

    @Test
    void moreThan2To31CodesRoundTrip() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(Boolean.getBoolean("bnb4j.test.large"),
                "set -Dbnb4j.test.large=true to run the > 2^31-code round trip (needs about 5 GB of free memory)");
        long free = org.bytedeco.javacpp.Pointer.availablePhysicalBytes();
        org.junit.jupiter.api.Assumptions.assumeTrue(free > 7L << 30, "needs about 7 GB free, have " + (free >> 20) + " MB");
        LargeStates.roundTrip((1L << 31) + 4097);
    }
}
