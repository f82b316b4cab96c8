package org.bnb4j.internal.kernels;

import org.bnb4j.quant.NonFiniteInputException;

import org.bnb4j.quant.Blockwise;
import org.bnb4j.quant.QuantMap;

import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.LongStream;

/**
 * The pure-Java implementation: the fallback where the native library cannot load, and the test
 * oracle for it. It reads and writes the arrays' memory in place through direct ByteBuffers, uses
 * the reference search of {@link CodeSearch} for every element, and runs blocks in parallel on the
 * common fork-join pool. Arrays whose memory spans more than 2 GiB need the native library.
 */
public final class JavaQuantKernels implements QuantKernels {

    @Override
    public String name() {
        return "pure-Java";
    }

    @Override
    public void quantize(ArrayMemory x, QuantMap map, int blocksize, ArrayMemory codes, ArrayMemory absmax,
                         boolean stochastic, long seed) {
        long n = x.length();
        if (n == 0) return;
        Elements in = new Elements(x);
        long nb = Blockwise.numBlocks(n, blocksize);
        ByteBuffer codeBuf = HostBuffers.wrap(codes.address(), n);
        ByteBuffer amaxBuf = HostBuffers.wrap(absmax.address(), 4 * nb);
        float[] c = map.values();
        AtomicLong firstInf = new AtomicLong(Long.MAX_VALUE);
        try {
            LongStream.range(0, nb).parallel().forEach(b -> {
                long start = b * blocksize;
                int len = (int) Math.min(blocksize, n - start);
                float[] buf = new float[len];
                for (int i = 0; i < len; i++) buf[i] = in.get(start + i);
                float am = CodeSearch.absmax(buf, len);
                amaxBuf.putFloat((int) (4 * b), am);
                if (Float.isInfinite(am)) {
                    firstInf.accumulateAndGet(b, Math::min);
                    return;
                }
                for (int i = 0; i < len; i++) {
                    float y = CodeSearch.normalize(buf[i], am);
                    int code = stochastic ? CodeSearch.stochastic(c, y, CodeSearch.uniform01(seed, start + i))
                            : CodeSearch.nearest(c, y);
                    codeBuf.put((int) (start + i), (byte) code);
                }
            });
        } finally {
            // The ByteBuffers above are raw views: keep the owners reachable until the last access.
            Reference.reachabilityFence(x);
            Reference.reachabilityFence(codes);
            Reference.reachabilityFence(absmax);
        }
        if (firstInf.get() != Long.MAX_VALUE) throw new NonFiniteInputException(firstInf.get(), blocksize, n);
    }

    @Override
    public void dequantize(ArrayMemory codes, ArrayMemory absmax, QuantMap map, int blocksize, ArrayMemory out) {
        long n = out.length();
        if (n == 0) return;
        ByteBuffer codeBuf = HostBuffers.wrap(codes.address(), n);
        ByteBuffer amaxBuf = HostBuffers.wrap(absmax.address(), 4 * Blockwise.numBlocks(n, blocksize));
        Elements dst = new Elements(out);
        float[] c = map.values();
        try {
            LongStream.range(0, Blockwise.numBlocks(n, blocksize)).parallel().forEach(b -> {
                long start = b * blocksize;
                long end = Math.min(start + blocksize, n);
                float am = amaxBuf.getFloat((int) (4 * b));
                for (long i = start; i < end; i++) dst.set(i, c[codeBuf.get((int) i) & 0xff] * am);
            });
        } finally {
            Reference.reachabilityFence(codes);
            Reference.reachabilityFence(absmax);
            Reference.reachabilityFence(out);
        }
    }

    /** Typed element access over an array's memory, with the native library's conversions. */
    private static final class Elements {
        private final ArrayMemory mem;
        private final ByteBuffer buf;
        private final long base;     // element offset of buf's first byte relative to mem.address()
        private final int size;

        Elements(ArrayMemory mem) {
            this.mem = mem;
            this.size = ArrayMemory.elementSize(mem.dataType());
            long[] range = mem.offsetRange();
            this.base = range[0];
            this.buf = HostBuffers.wrap(mem.address() + range[0] * size, (range[1] - range[0] + 1) * size);
        }


        private int pos(long i) {
            return (int) ((mem.offsetOf(i) - base) * size);
        }

        float get(long i) {
            int p = pos(i);
            switch (mem.dataType()) {
                case FLOAT: return buf.getFloat(p);
                case DOUBLE: return (float) buf.getDouble(p);
                case HALF: return Fp16.halfToFloat(buf.getShort(p));
                case BFLOAT16: return Fp16.bf16ToFloat(buf.getShort(p));
                default: throw new IllegalStateException(mem.dataType().toString());
            }
        }

        void set(long i, float v) {
            int p = pos(i);
            switch (mem.dataType()) {
                case FLOAT: buf.putFloat(p, v); break;
                case DOUBLE: buf.putDouble(p, v); break;
                case HALF: buf.putShort(p, Fp16.floatToHalf(v)); break;
                case BFLOAT16: buf.putShort(p, Fp16.floatToBf16(v)); break;
                default: throw new IllegalStateException(mem.dataType().toString());
            }
        }
    }
}
