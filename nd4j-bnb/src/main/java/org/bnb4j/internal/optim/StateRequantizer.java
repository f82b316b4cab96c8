package org.bnb4j.internal.optim;

import org.bnb4j.internal.kernels.ArrayMemory;
import org.bnb4j.internal.kernels.HostBuffers;
import org.bnb4j.quant.Blockwise;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.util.stream.LongStream;

/**
 * Moves an 8-bit state to FLOAT values and back with the step's own rules ({@link StateCodec}): the
 * decode of every step's first half, and the encode of its second half (block scale = largest
 * magnitude, stored as {@link StateCodec#storedScale}; nearest code, sign fix where the state's descriptor asks for it,
 * the NaN-safe byte forms of packed states). So a state written here is, byte for byte, the state a
 * step would have written had it produced these values, and the next step reads it as its own.
 * Pure Java (there is no native counterpart): parallel over blocks like the Java step.
 */
final class StateRequantizer {
    private StateRequantizer() {}

    /**
     * Elements per window: the byte views are Java ByteBuffers (int-indexed, at most 2 GiB), so a state
     * is worked through in windows of whole blocks whose FLOAT values span at most 1 GiB. A block's work
     * depends only on the block (and its stream's byte phase, which a window start at a multiple of the
     * blocksize keeps), so windows give the same bytes as one pass.
     */
    static final long WINDOW_ELEMENTS = 1L << 28;

    static void dequantize(OptimState8bit st, INDArray[] values) {
        dequantize(st, values, WINDOW_ELEMENTS);
    }

    static void quantize(OptimState8bit st, INDArray[] values) {
        quantize(st, values, WINDOW_ELEMENTS);
    }

    static void dequantize(OptimState8bit st, INDArray[] values, long window) {
        eachBlock(st, values, window, (io, s, start, len, b) -> {
            float am = io.amax[s].getFloat((int) (4 * b));
            for (int i = start; i < start + len; i++) {
                float v = StateCodec.decode(io.maps[s], io.codes[s].get(i) & 0xff, StateCodec.slot(io.phases[s], i), am);
                io.vals[s].putFloat(4 * i, v);
            }
        });
    }

    static void quantize(OptimState8bit st, INDArray[] values, long window) {
        requireFinite(st, values, window);
        eachBlock(st, values, window, (io, s, start, len, b) -> {
            float mx = 0f;
            for (int i = start; i < start + len; i++) {
                float x = Math.abs(io.vals[s].getFloat(4 * i));
                if (x > mx) mx = x;   // the step's comparison: a NaN value does not raise the scale
            }
            mx = StateCodec.storedScale(io.phases[s], mx);
            io.amax[s].putFloat((int) (4 * b), mx);
            for (int i = start; i < start + len; i++) {
                int c = StateCodec.encode(io.maps[s], io.vals[s].getFloat(4 * i), mx, io.signFix[s], StateCodec.slot(io.phases[s], i));
                io.codes[s].put(i, (byte) c);
            }
        });
    }

    /**
     * Refuses values that are NaN or +-Inf before anything is written: a step never stores them (a
     * non-finite gradient resets its state to 0), an Inf would become a block scale that decodes the
     * whole block to NaN or Inf, and a NaN would be written as some finite code. Such values come from a
     * diverged state (or an average with one), and the caller is told rather than given a state that
     * turns the next step's parameters into NaN.
     */
    private static void requireFinite(OptimState8bit st, INDArray[] values, long window) {
        int k = st.kind.numStates();
        check(st, values, k);
        if (st.n == 0) return;
        long[] first = new long[k];
        java.util.Arrays.fill(first, Long.MAX_VALUE);
        eachBlock(st, values, window, (io, s, start, len, b) -> {
            for (int i = start; i < start + len; i++) {
                if (!Float.isFinite(io.vals[s].getFloat(4 * i))) {
                    synchronized (first) {
                        if (io.base + i < first[s]) first[s] = io.base + i;
                    }
                    return;
                }
            }
        });
        for (int s = 0; s < k; s++) {
            if (first[s] != Long.MAX_VALUE) {
                float v = values[s].getFloat(first[s]);
                throw new IllegalArgumentException(st.kind + " state '" + st.kind.state(s).role() + "' has value " + v + " at "
                        + first[s] + ": an 8-bit state holds finite values only (a diverged state, or an average with one?); nothing was written");
            }
        }
    }

    /** Work on state s of the window's block b, the window's elements [start, start + len). */
    private interface BlockWork {
        void run(Streams io, int s, int start, int len, long b);
    }

    /**
     * Checks the arguments, then runs the work on every state of every block, window by window (see
     * {@link #WINDOW_ELEMENTS}), blocks in parallel. The byte views do not keep the arrays alive: they
     * are fenced until the work is done.
     */
    private static void eachBlock(OptimState8bit st, INDArray[] values, long window, BlockWork work) {
        int k = st.kind.numStates();
        check(st, values, k);
        if (st.n == 0) return;
        long nb = Blockwise.numBlocks(st.n, st.blocksize);
        long blocksPerWindow = Math.max(1, window / st.blocksize);
        long[] valueAddress = new long[k];
        for (int s = 0; s < k; s++) valueAddress[s] = ArrayMemory.of(values[s]).address();
        try {
            for (long b0 = 0; b0 < nb; b0 += blocksPerWindow) {
                Streams io = new Streams(st, valueAddress, k, b0, Math.min(nb, b0 + blocksPerWindow));
                LongStream.range(0, io.nb).parallel().forEach(b -> {
                    int start = (int) (b * st.blocksize), len = (int) Math.min(st.blocksize, io.n - start);
                    for (int s = 0; s < k; s++) work.run(io, s, start, len, b);
                });
            }
        } finally {
            Reference.reachabilityFence(st);
            Reference.reachabilityFence(values);
        }
    }

    private static void check(OptimState8bit st, INDArray[] values, int k) {
        if (values == null || values.length != k) {
            throw new IllegalArgumentException(st.kind + " keeps " + k + " state(s): pass " + k + " FLOAT arrays, got "
                    + (values == null ? 0 : values.length));
        }
        for (int s = 0; s < k; s++) {
            INDArray v = values[s];
            if (v == null) throw new IllegalArgumentException("state array " + (s + 1) + " is null");
            if (v.dataType() != DataType.FLOAT) throw new IllegalArgumentException("state array " + (s + 1) + " must be FLOAT, got " + v.dataType());
            if (v.length() != st.n) throw new IllegalArgumentException("state array " + (s + 1) + " has " + v.length() + " elements, the state holds " + st.n);
            if (st.n > 0 && !ArrayMemory.of(v).isContiguous()) throw new IllegalArgumentException("state array " + (s + 1) + " must be contiguous");
        }
    }

    /**
     * Byte views of blocks [b0, b1) of every state (codes, scales, values), with their maps and the byte
     * phases at the window's first element; base is that element's index in the whole state.
     */
    private static final class Streams {
        final long base, n, nb;
        final ByteBuffer[] codes, amax, vals;
        final float[][] maps;
        final boolean[] signFix;
        final int[] phases;

        Streams(OptimState8bit st, long[] valueAddress, int k, long b0, long b1) {
            base = b0 * st.blocksize;
            n = Math.min(st.n, b1 * st.blocksize) - base;
            nb = b1 - b0;
            codes = new ByteBuffer[k];
            amax = new ByteBuffer[k];
            vals = new ByteBuffer[k];
            maps = new float[k][];
            signFix = new boolean[k];
            phases = new int[k];
            for (int s = 0; s < k; s++) {
                codes[s] = HostBuffers.wrap(st.codes[s] + base, n);
                amax[s] = HostBuffers.wrap(st.absmax[s] + 4 * b0, 4 * nb);
                vals[s] = HostBuffers.wrap(valueAddress[s] + 4 * base, 4 * n);
                maps[s] = st.map(s).values();
                signFix[s] = st.kind.state(s).signFix();
                phases[s] = StateCodec.at(st.bytePhase, s * st.n + base);
            }
        }
    }
}
