package org.bnb4j.quant;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Seeded fuzzing of {@link QuantState#read}: valid streams (several shapes, types, maps and
 * blocksizes, partial last blocks, scalars and empty states) with random bit flips, byte changes,
 * every truncation, forged header fields, and flips behind a recomputed checksum. Every outcome must
 * be an IOException within a bounded time, or a state that is exactly what the stream says (its
 * rewrite gives the same bytes, the map's name aside: a name whose generated map no longer matches
 * the values comes back as "custom"); nothing else may escape (no OutOfMemoryError, no runtime
 * exception).
 */
class QuantStateFuzzTest {
    private static final long SEED = 0x5EEDF00DL;
    private static final long MAX_CASE_MS = 2000;

    private final Map<String, int[]> counts = new LinkedHashMap<>(); // group -> {cases, IOException, accepted}
    private final List<String> failures = new ArrayList<>();
    private long slowest;
    private String slowestCase = "";

    static final class Base {
        final String name;
        final byte[] bytes;
        final StreamFields fields;

        Base(String name, QuantState s) throws IOException {
            this.name = name;
            this.bytes = QuantStateStreamTest.serialize(s);
            this.fields = StreamFields.parse(bytes);
        }
    }

    static List<Base> bases() throws IOException {
        List<Base> l = new ArrayList<>();
        INDArray f = QuantStateStreamTest.goldenInput(DataType.FLOAT, 3, 50);
        l.add(new Base("FLOAT[3,50] dynamic b64", Blockwise.quantize(f, QuantMap.dynamic(), 64)));
        l.add(new Base("HALF[2,3,40] linear(unsigned) b128", Blockwise.quantize(
                Transforms.abs(QuantStateStreamTest.goldenInput(DataType.HALF, 2, 3, 40)), QuantMap.linear(false), 128)));
        l.add(new Base("DOUBLE scalar b4096", Blockwise.quantize(Nd4j.scalar(DataType.DOUBLE, -0.7), QuantMap.linear(true), 4096)));
        l.add(new Base("BFLOAT16[130] dynamic(unsigned) b64", Blockwise.quantize(
                Transforms.abs(QuantStateStreamTest.goldenInput(DataType.BFLOAT16, 130)), QuantMap.dynamic(false), 64)));
        l.add(new Base("HALF[70] dynamic(signed,5,8) b64", Blockwise.quantize(
                QuantStateStreamTest.goldenInput(DataType.HALF, 70), QuantMap.dynamic(true, 5, 8), 64)));
        l.add(new Base("FLOAT[0,5] b256", Blockwise.quantize(Nd4j.create(DataType.FLOAT, 0, 5), 256)));
        l.add(new Base("FLOAT empty scalar b64", Blockwise.quantize(Nd4j.empty(DataType.FLOAT), 64)));
        l.add(new Base("FLOAT[5000] stochastic b256", Blockwise.quantizeStochastic(
                TestArrays.randn(DataType.FLOAT, 9, 5000), QuantMap.dynamic(), 256, 42)));
        return l;
    }

    /** Reads {@code b} (made from {@code original}) and records the outcome. */
    private void attempt(String group, String what, byte[] b, byte[] original) {
        int[] c = counts.computeIfAbsent(group, k -> new int[3]);
        c[0]++;
        long t0 = System.nanoTime();
        try {
            QuantState r = QuantState.read(new ByteArrayInputStream(b));
            c[2]++;
            check(group, what, r, b, original);
        } catch (IOException e) {
            c[1]++;
            if (e.getMessage() == null || e.getMessage().isEmpty()) failures.add(group + " " + what + ": IOException without message");
        } catch (Throwable t) { // OutOfMemoryError and runtime exceptions included: none may escape
            failures.add(group + " " + what + ": " + t);
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        if (ms > slowest) {
            slowest = ms;
            slowestCase = group + " " + what;
        }
    }

    private void check(String group, String what, QuantState r, byte[] b, byte[] original) throws IOException {
        byte[] again = QuantStateStreamTest.serialize(r);
        if (Arrays.equals(b, original)) {
            if (!Arrays.equals(again, b)) failures.add(group + " " + what + ": unchanged stream, other state");
        } else {
            // The rewrite says the same, except that a map whose values no longer match its generated
            // name (a changed value, or a changed name) comes back as "custom".
            StreamFields x = StreamFields.parse(again), y = StreamFields.parse(b);
            if (!Arrays.equals(x.mapName, y.mapName) && !new String(x.mapName, StandardCharsets.UTF_8).equals("custom")) {
                failures.add(group + " " + what + ": map name " + new String(y.mapName, StandardCharsets.UTF_8) + " became "
                        + new String(x.mapName, StandardCharsets.UTF_8));
            }
            x.mapName = y.mapName;
            x.mapNameLength = y.mapNameLength;
            if (!Arrays.equals(x.encode(true), y.encode(true))) {
                failures.add(group + " " + what + ": accepted, but rewriting it gives other content");
            }
        }
        if (r.length() <= 1 << 20) {
            INDArray d = Blockwise.dequantize(r);
            if (!Arrays.equals(d.shape(), r.shape()) || d.dataType() != r.dataType() || d.length() != r.length()) {
                failures.add(group + " " + what + ": dequantized to " + d.dataType() + Arrays.toString(d.shape()));
            }
        }
    }

    @Test
    void fuzzedStreamsAreIOExceptionsOrFaithfulStates() throws IOException {
        long start = System.nanoTime();
        SplittableRandom rnd = new SplittableRandom(SEED);
        List<Base> bases = bases();

        // 1. single bit flips: CRC32 catches every one
        for (int i = 0; i < 4000; i++) {
            Base base = bases.get(rnd.nextInt(bases.size()));
            byte[] b = base.bytes.clone();
            int bit = rnd.nextInt(b.length * 8);
            b[bit >>> 3] ^= (byte) (1 << (bit & 7));
            attempt("bit flip", base.name + " bit " + bit, b, base.bytes);
        }

        // 2. 1..4 bytes set to random values (some unchanged: then the state must come back equal)
        for (int i = 0; i < 2000; i++) {
            Base base = bases.get(rnd.nextInt(bases.size()));
            byte[] b = base.bytes.clone();
            int k = 1 + rnd.nextInt(4);
            StringBuilder at = new StringBuilder();
            for (int j = 0; j < k; j++) {
                int p = rnd.nextInt(b.length);
                int v = rnd.nextInt(4) == 0 ? b[p] : rnd.nextInt(256);
                b[p] = (byte) v;
                at.append(' ').append(p).append('=').append(v & 0xFF);
            }
            attempt("byte change", base.name + at, b, base.bytes);
        }

        // 3. every truncation of the small streams, the large one at random lengths
        for (Base base : bases) {
            boolean small = base.bytes.length < 4096;
            int cuts = small ? base.bytes.length : 300;
            for (int i = 0; i < cuts; i++) {
                int len = small ? i : rnd.nextInt(base.bytes.length);
                attempt("truncation", base.name + " to " + len, Arrays.copyOf(base.bytes, len), base.bytes);
            }
        }

        // 4. forged header fields, checksum recomputed
        long[] longs = {0, 1, -1, 2, 3, 63, 64, 65, 255, 256, 4095, 4096, 4097, 8192, Integer.MAX_VALUE,
                Integer.MIN_VALUE, (1L << 31), (1L << 32), (1L << 33) + 1, 1_000_000_000L, (1L << 61) + 125,
                Long.MAX_VALUE, Long.MIN_VALUE, Long.MAX_VALUE / 64, 0xFFFFL, 0x10000L};
        for (Base base : bases) {
            forge(base, "blocksize", longs, (f, v) -> f.blocksize = (int) v);
            forge(base, "version", new long[]{0, 2, -1, Integer.MAX_VALUE}, (f, v) -> f.version = (int) v);
            forge(base, "type name length", longs, (f, v) -> f.typeNameLength = (int) (v & 0xFFFF));
            forge(base, "rank", longs, (f, v) -> f.rank = (int) v);
            for (int d = 0; d < base.fields.dims.length; d++) {
                int axis = d;
                forge(base, "dim " + d, longs, (f, v) -> f.dims[axis] = v);
            }
            forge(base, "map name length", longs, (f, v) -> f.mapNameLength = (int) (v & 0xFFFF));
            forge(base, "block count", longs, (f, v) -> f.blocks = v);
            forge(base, "code count", longs, (f, v) -> f.codeCount = v);
            for (String t : new String[]{"", "INT", "LONG", "UBYTE", "UTF8", "float", "FLOAT ", "HALF\u0000", "\u00ff\u00ff",
                    "COMPRESSED", "UNKNOWN", "DOUBLE", "BFLOAT16"}) {
                forge(base, "type name", new long[]{0}, (f, v) -> f.typeName(t));
            }
            // consistent headers declaring far more than the stream holds: shape, block count and code count agree
            for (long n : new long[]{(1L << 31) + 1, 1L << 33, 1_000_000_000L, 1L << 40, 1L << 62, Long.MAX_VALUE}) {
                forge(base, "consistent length", new long[]{n}, (f, v) -> {
                    f.shape(v);
                    f.blocks = Blockwise.numBlocks(v, f.blocksize);
                    f.codeCount = v;
                });
            }
            // invalid maps
            forge(base, "map", new long[]{0, 100, 255}, (f, v) -> f.map[(int) v] = Float.floatToRawIntBits(Float.NaN));
            forge(base, "map", new long[]{0, 255}, (f, v) -> f.map[(int) v] = Float.floatToRawIntBits(Float.NEGATIVE_INFINITY));
            forge(base, "map", new long[]{1, 128, 254}, (f, v) -> {
                int t = f.map[(int) v];
                f.map[(int) v] = f.map[(int) v + 1];
                f.map[(int) v + 1] = t;
            });
        }

        // 5. bit flips behind a recomputed checksum: content corruption a CRC cannot see
        for (int i = 0; i < 3000; i++) {
            Base base = bases.get(rnd.nextInt(bases.size()));
            byte[] b = Arrays.copyOf(base.bytes, base.bytes.length - 8);
            int bit = rnd.nextInt(b.length * 8);
            b[bit >>> 3] ^= (byte) (1 << (bit & 7));
            java.util.zip.CRC32 crc = new java.util.zip.CRC32();
            crc.update(b);
            byte[] full = Arrays.copyOf(b, b.length + 8);
            java.nio.ByteBuffer.wrap(full, b.length, 8).putLong(crc.getValue());
            attempt("flip + checksum", base.name + " bit " + bit, full, base.bytes);
        }

        long seconds = (System.nanoTime() - start) / 1_000_000_000L;
        StringBuilder summary = new StringBuilder("QuantState fuzz (seed " + Long.toHexString(SEED) + ", " + seconds + " s, slowest case "
                + slowest + " ms: " + slowestCase + "):");
        counts.forEach((g, c) -> summary.append("\n  ").append(g).append(": ").append(c[0]).append(" cases, ")
                .append(c[1]).append(" IOException, ").append(c[2]).append(" accepted"));
        System.out.println(summary);
        if (!failures.isEmpty()) {
            fail(failures.size() + " fuzz failures, first: " + String.join("\n", failures.subList(0, Math.min(10, failures.size())))
                    + "\n" + summary);
        }
        assertTrue(slowest < MAX_CASE_MS, "slowest case took " + slowest + " ms: " + slowestCase);
        // every single flip and every truncation is an IOException (the CRC covers all bytes)
        assertEquals(counts.get("bit flip")[0], counts.get("bit flip")[1], summary.toString());
        assertEquals(counts.get("truncation")[0], counts.get("truncation")[1], summary.toString());
        assertEquals(0, counts.get("consistent length")[2], summary.toString());
        assertEquals(0, counts.get("map")[2], summary.toString());
    }

    interface Forge {
        void apply(StreamFields f, long v);
    }

    private void forge(Base base, String field, long[] values, Forge forge) {
        for (long v : values) {
            StreamFields f = StreamFields.parse(base.bytes);
            forge.apply(f, v);
            byte[] b = f.encode(true);
            attempt(field.equals("consistent length") || field.equals("map") ? field : "forged header",
                    base.name + " " + field + "=" + v, b, base.bytes);
        }
    }
}
