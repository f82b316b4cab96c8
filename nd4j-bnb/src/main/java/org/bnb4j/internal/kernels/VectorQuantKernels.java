package org.bnb4j.internal.kernels;

import org.bnb4j.quant.NonFiniteInputException;

import org.bnb4j.quant.Blockwise;
import org.bnb4j.quant.QuantMap;
import org.nd4j.linalg.api.buffer.DataType;

import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The vectorised pure-Java implementation (JDK Vector API, see {@link VectorCodes}): bit for bit
 * the same results as {@link JavaQuantKernels}, which stays the reference. Blocks are processed in
 * runs: the elements are copied into work arrays (bulk copies for contiguous arrays, a stride
 * walker otherwise, converting HALF/BFLOAT16/DOUBLE as {@link Fp16} and the casts do), absmax,
 * normalisation and the code arithmetic run on vectors, the table lookups between them as scalar
 * loads. Stochastic rounding, and maps without a {@link SearchTable}, run on the scalar kernels.
 * Loaded only through {@link KernelProvider}, when the jdk.incubator.vector module is present.
 */
final class VectorQuantKernels implements QuantKernels {
    /** Elements per work run (whole blocks; one block when the blocksize is larger). */
    static final int RUN = 4096;
    private static final ThreadLocal<Work> WORK = ThreadLocal.withInitial(Work::new);

    private final JavaQuantKernels scalar = new JavaQuantKernels();

    VectorQuantKernels() {
        if (!VectorCodes.usable()) throw new IllegalStateException("preferred vector shape not usable: " + VectorCodes.F);
        selfCheck();
    }

    /**
     * The vector passes against the reference search on a few hundred values of every kind (ties,
     * zeros, denormals, NaN, out of range), once at start-up: a JDK whose incubating Vector API
     * changed (a missing method fails only when first called) or behaves differently is caught here,
     * and the provider falls back to the scalar kernels.
     */
    static void selfCheck() {
        QuantMap map = QuantMap.dynamic(true);
        SearchTable t = SearchTable.of(map);
        float[] c = t.values();
        int n = 320, cap = n + VectorCodes.SLACK;
        float[] x = new float[cap], y = new float[cap];
        for (int i = 0; i < n; i++) {
            int k = i % 255;
            switch (i % 5) {
                case 0: x[i] = (c[k] + c[k + 1]) * 0.5f; break;
                case 1: x[i] = c[k] * 0.37f; break;
                case 2: x[i] = Float.intBitsToFloat(i * 0x01234567); break;
                case 3: x[i] = i % 2 == 0 ? -0.0f : Float.MIN_VALUE * i; break;
                default: x[i] = (i - 160) / 150f; break;
            }
        }
        x[7] = Float.NaN;
        int[] keys = new int[cap];
        byte[] out = new byte[cap];
        for (float absmax : new float[]{1f, 0f, Float.MIN_VALUE * 4}) {
            VectorCodes.normalizeAndKey(x, 0, n, absmax, y, keys);
            VectorCodes.lookup(t.packed(), keys, 0, n);
            VectorCodes.codes(c, y, keys, 0, n, out);
            for (int i = 0; i < n; i++) {
                int expected = CodeSearch.nearest(c, CodeSearch.normalize(x[i], absmax));
                if ((out[i] & 0xff) != expected) {
                    throw new IllegalStateException("self-check failed: code of " + x[i] + " / " + absmax + " is " + (out[i] & 0xff) + ", expected " + expected);
                }
            }
        }
        float am = VectorCodes.absmax(x, 0, n);
        if (Float.floatToRawIntBits(am) != Float.floatToRawIntBits(CodeSearch.absmax(x, n))) throw new IllegalStateException("self-check failed: absmax");
    }

    @Override
    public String name() {
        return "pure-Java vectorized (Vector API, " + VectorCodes.L + " float lanes)";
    }

    /**
     * The blocksizes these kernels work: powers of two 64..4096 (whole blocks per run, lane-aligned
     * blocks); other blocksizes, which only quantization on CPU takes, go to the scalar kernels (same bits).
     */
    static boolean runsWholeBlocks(int blocksize) {
        return blocksize >= Blockwise.MIN_BLOCKSIZE && blocksize <= Math.min(RUN, Blockwise.MAX_BLOCKSIZE) && Integer.bitCount(blocksize) == 1;
    }

    /** Work arrays of one thread: a run of up to max(RUN, 4096) elements. */
    static final class Work {
        final int cap = Math.max(RUN, 4096) + VectorCodes.SLACK;
        final float[] x = new float[cap], y = new float[cap];
        final int[] keys = new int[cap];
        final byte[] codes = new byte[cap];
        final float[] amax = new float[cap];
        final short[] shorts = new short[cap];
        final double[] doubles = new double[cap];
    }

    /** The work of runs [firstBlock, endBlock) of whole blocks, with the running thread's work arrays. */
    interface RunBody {
        void run(long firstBlock, long endBlock, Work w);
    }

    static void forRuns(long n, int blocksize, RunBody body) {
        RunScheduler.forRuns(Blockwise.numBlocks(n, blocksize), Math.max(1, RUN / blocksize), (b0, b1) -> body.run(b0, b1, WORK.get()));
    }

    @Override
    public void quantize(ArrayMemory x, QuantMap map, int blocksize, ArrayMemory codes, ArrayMemory absmax,
                         boolean stochastic, long seed) {
        SearchTable table = SearchTable.of(map);
        if (stochastic || table.packed() == null || !runsWholeBlocks(blocksize)) {
            scalar.quantize(x, map, blocksize, codes, absmax, stochastic, seed);
            return;
        }
        long n = x.length();
        if (n == 0) return;
        long nb = Blockwise.numBlocks(n, blocksize);
        Reader in = new Reader(x);
        ByteBuffer codeBuf = HostBuffers.wrap(codes.address(), n);
        FloatBuffer amaxBuf = HostBuffers.wrap(absmax.address(), 4 * nb).asFloatBuffer();
        float[] values = table.values();
        int[] packed = table.packed();
        AtomicLong firstInf = new AtomicLong(Long.MAX_VALUE);
        try {
            forRuns(n, blocksize, (b0, b1, w) -> {
                int start = (int) (b0 * blocksize), len = (int) Math.min((b1 - b0) * blocksize, n - start);
                in.read(start, len, w);
                int padEnd = VectorCodes.padded(len);
                for (int i = len; i < padEnd; i++) w.x[i] = 0f;
                boolean inf = false;
                for (long b = b0; b < b1; b++) {
                    int off = (int) ((b - b0) * blocksize), blen = Math.min(blocksize, len - off);
                    float am = VectorCodes.absmax(w.x, off, blen);
                    w.amax[(int) (b - b0)] = am;
                    if (Float.isInfinite(am)) {
                        firstInf.accumulateAndGet(b, Math::min);
                        inf = true;
                        continue;
                    }
                    VectorCodes.normalizeAndKey(w.x, off, blen, am, w.y, w.keys);
                }
                amaxBuf.put((int) b0, w.amax, 0, (int) (b1 - b0));
                if (inf) return;   // outputs unspecified: the call throws
                VectorCodes.lookup(packed, w.keys, 0, len);
                VectorCodes.codes(values, w.y, w.keys, 0, len, w.codes);
                codeBuf.put(start, w.codes, 0, len);
            });
        } finally {
            Reference.reachabilityFence(x);
            Reference.reachabilityFence(codes);
            Reference.reachabilityFence(absmax);
        }
        if (firstInf.get() != Long.MAX_VALUE) throw new NonFiniteInputException(firstInf.get(), blocksize, n);
    }

    @Override
    public void dequantize(ArrayMemory codes, ArrayMemory absmax, QuantMap map, int blocksize, ArrayMemory out) {
        if (!runsWholeBlocks(blocksize)) {
            scalar.dequantize(codes, absmax, map, blocksize, out);
            return;
        }
        long n = out.length();
        if (n == 0) return;
        long nb = Blockwise.numBlocks(n, blocksize);
        ByteBuffer codeBuf = HostBuffers.wrap(codes.address(), n);
        FloatBuffer amaxBuf = HostBuffers.wrap(absmax.address(), 4 * nb).asFloatBuffer();
        Writer dst = new Writer(out);
        float[] c = SearchTable.of(map).values();
        try {
            forRuns(n, blocksize, (b0, b1, w) -> {
                int start = (int) (b0 * blocksize), len = (int) Math.min((b1 - b0) * blocksize, n - start);
                codeBuf.get(start, w.codes, 0, len);
                amaxBuf.get((int) b0, w.amax, 0, (int) (b1 - b0));
                for (long b = b0; b < b1; b++) {
                    int off = (int) ((b - b0) * blocksize), end = Math.min(off + blocksize, len);
                    float am = w.amax[(int) (b - b0)];
                    float[] x = w.x;
                    byte[] k = w.codes;
                    for (int i = off; i < end; i++) x[i] = c[k[i] & 0xff] * am;
                }
                dst.write(start, len, w);
            });
        } finally {
            Reference.reachabilityFence(codes);
            Reference.reachabilityFence(absmax);
            Reference.reachabilityFence(out);
        }
    }

    /** Where elements live: a buffer over the array's span and the stride walk. */
    private abstract static class Access {
        final ArrayMemory mem;
        final DataType type;
        final ByteBuffer buf;
        final long base;
        final int size;
        final long[] shape, strides;

        Access(ArrayMemory mem) {
            this.mem = mem;
            this.type = mem.dataType();
            this.size = ArrayMemory.elementSize(type);
            long[] range = mem.offsetRange();
            this.base = range[0];
            this.buf = HostBuffers.wrap(mem.address() + range[0] * size, (range[1] - range[0] + 1) * size);
            this.shape = mem.shape();
            this.strides = mem.strides();
        }

        /** Byte positions of elements [start, start + len) in C order, into pos (a strided array). */
        void positions(long start, int len, int[] pos) {
            int r = shape.length;
            long[] idx = new long[r];
            long rest = start, off = 0;
            for (int d = r - 1; d >= 0; d--) {
                idx[d] = rest % shape[d];
                rest /= shape[d];
                off += idx[d] * strides[d];
            }
            for (int i = 0; i < len; i++) {
                pos[i] = (int) ((off - base) * size);
                for (int d = r - 1; d >= 0; d--) {       // next element in C order
                    off += strides[d];
                    if (++idx[d] < shape[d]) break;
                    off -= shape[d] * strides[d];
                    idx[d] = 0;
                }
            }
        }
    }

    /** Reads elements as float (DOUBLE rounded, HALF/BFLOAT16 widened as {@link Fp16}). */
    private static final class Reader extends Access {
        Reader(ArrayMemory mem) {
            super(mem);
        }

        void read(int start, int len, Work w) {
            float[] x = w.x;
            if (mem.isContiguous()) {
                switch (type) {
                    case FLOAT: buf.asFloatBuffer().get(start, x, 0, len); return;
                    case DOUBLE: {
                        DoubleBuffer d = buf.asDoubleBuffer();
                        d.get(start, w.doubles, 0, len);
                        double[] s = w.doubles;
                        for (int i = 0; i < len; i++) x[i] = (float) s[i];
                        return;
                    }
                    case HALF: case BFLOAT16: {
                        ShortBuffer h = buf.asShortBuffer();
                        h.get(start, w.shorts, 0, len);
                        short[] s = w.shorts;
                        if (type == DataType.HALF) for (int i = 0; i < len; i++) x[i] = Fp16.halfToFloat(s[i]);
                        else for (int i = 0; i < len; i++) x[i] = Float.intBitsToFloat((s[i] & 0xffff) << 16);
                        return;
                    }
                    default: throw new IllegalStateException(type.toString());
                }
            }
            int[] pos = w.keys;   // free until the search
            positions(start, len, pos);
            switch (type) {
                case FLOAT: for (int i = 0; i < len; i++) x[i] = buf.getFloat(pos[i]); break;
                case DOUBLE: for (int i = 0; i < len; i++) x[i] = (float) buf.getDouble(pos[i]); break;
                case HALF: for (int i = 0; i < len; i++) x[i] = Fp16.halfToFloat(buf.getShort(pos[i])); break;
                case BFLOAT16: for (int i = 0; i < len; i++) x[i] = Fp16.bf16ToFloat(buf.getShort(pos[i])); break;
                default: throw new IllegalStateException(type.toString());
            }
        }
    }

    /** Writes w.x[0, len) as elements [start, start + len), rounded to the array's type as {@link Fp16} does. */
    private static final class Writer extends Access {
        Writer(ArrayMemory mem) {
            super(mem);
        }

        void write(int start, int len, Work w) {
            float[] x = w.x;
            if (mem.isContiguous()) {
                switch (type) {
                    case FLOAT: buf.asFloatBuffer().put(start, x, 0, len); return;
                    case DOUBLE: {
                        double[] d = w.doubles;
                        for (int i = 0; i < len; i++) d[i] = x[i];
                        buf.asDoubleBuffer().put(start, d, 0, len);
                        return;
                    }
                    case HALF: case BFLOAT16: {
                        short[] s = w.shorts;
                        if (type == DataType.HALF) for (int i = 0; i < len; i++) s[i] = Fp16.floatToHalf(x[i]);
                        else for (int i = 0; i < len; i++) s[i] = Fp16.floatToBf16(x[i]);
                        buf.asShortBuffer().put(start, s, 0, len);
                        return;
                    }
                    default: throw new IllegalStateException(type.toString());
                }
            }
            int[] pos = w.keys;
            positions(start, len, pos);
            switch (type) {
                case FLOAT: for (int i = 0; i < len; i++) buf.putFloat(pos[i], x[i]); break;
                case DOUBLE: for (int i = 0; i < len; i++) buf.putDouble(pos[i], x[i]); break;
                case HALF: for (int i = 0; i < len; i++) buf.putShort(pos[i], Fp16.floatToHalf(x[i])); break;
                case BFLOAT16: for (int i = 0; i < len; i++) buf.putShort(pos[i], Fp16.floatToBf16(x[i])); break;
                default: throw new IllegalStateException(type.toString());
            }
        }
    }
}
