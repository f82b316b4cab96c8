package org.bnb4j.internal.optim;

import org.bnb4j.optim.OptimHyper;
import org.bnb4j.optim.OptimMath;

import org.bnb4j.internal.kernels.HostBuffers;
import org.bnb4j.quant.Blockwise;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.util.stream.LongStream;

/** The pure-Java optimizer steps: fallback and oracle of the native ones (same float operations, same order). */
public final class JavaOptimizerKernels implements OptimizerKernels {
    public static final JavaOptimizerKernels INSTANCE = new JavaOptimizerKernels();

    private JavaOptimizerKernels() {}

    // The step bodies read and write through ByteBuffers over raw addresses, which do not keep the
    // arrays alive: each public method fences its owners until the body has returned.

    @Override
    public void step8bit(OptimHyper h, INDArray gradient, OptimState8bit st) {
        OptimChecks.step8(h, gradient, st);
        try {
            step8bitBody(h, gradient, st, 0, Blockwise.numBlocks(st.n, st.blocksize));
        } finally {
            Reference.reachabilityFence(gradient);
            Reference.reachabilityFence(st);
        }
    }

    @Override
    public void step8bitBlocks(OptimHyper h, INDArray gradient, OptimState8bit st, long blockBegin, long blockEnd) {
        OptimChecks.step8(h, gradient, st);
        OptimChecks.blockRange(st, blockBegin, blockEnd);
        try {
            step8bitBody(h, gradient, st, blockBegin, blockEnd);
        } finally {
            Reference.reachabilityFence(gradient);
            Reference.reachabilityFence(st);
        }
    }

    @Override
    public int absmaxChecksum(OptimState8bit st) {
        try {
            return checksumBody(st);
        } finally {
            Reference.reachabilityFence(st);
        }
    }

    @Override
    public void step32(OptimHyper h, INDArray gradient, INDArray... states) {
        try {
            step32Body(h, gradient, states);
        } finally {
            Reference.reachabilityFence(gradient);
            Reference.reachabilityFence(states);
        }
    }

    private static void step8bitBody(OptimHyper h, INDArray gradient, OptimState8bit st, long blockBegin, long blockEnd) {
        long n = st.n; // arguments checked by the public entries (OptimChecks.step8)
        if (n == 0) return;
        ByteBuffer g = HostBuffers.of(gradient);
        long nb = Blockwise.numBlocks(n, st.blocksize);
        int k = h.kind.numStates();
        ByteBuffer[] codes = new ByteBuffer[k], amax = new ByteBuffer[k];
        float[][] maps = new float[k][];
        boolean[] signFix = new boolean[k];
        int[] phases = new int[k];
        for (int s = 0; s < k; s++) {
            codes[s] = HostBuffers.wrap(st.codes[s], n);
            amax[s] = HostBuffers.wrap(st.absmax[s], 4 * nb);
            maps[s] = st.map(s).values();
            signFix[s] = h.kind.state(s).signFix();
            phases[s] = StateCodec.at(st.bytePhase, s * n);
        }
        LongStream.range(blockBegin, blockEnd).parallel().forEach(b -> {
            int start = (int) (b * st.blocksize), len = (int) Math.min(st.blocksize, n - start);
            float[][] vals = new float[k][len];
            float[] cur = new float[k], am = new float[k], mx = new float[k];
            for (int s = 0; s < k; s++) am[s] = amax[s].getFloat((int) (4 * b));
            for (int i = 0; i < len; i++) {
                int e = start + i;
                for (int s = 0; s < k; s++) {
                    cur[s] = StateCodec.decode(maps[s], codes[s].get(e) & 0xff, StateCodec.slot(phases[s], e), am[s]);
                }
                g.putFloat(4 * e, OptimMath.step(h, g.getFloat(4 * e), cur));
                for (int s = 0; s < k; s++) {
                    vals[s][i] = cur[s];
                    float x = Math.abs(cur[s]);
                    if (x > mx[s]) mx[s] = x;
                }
            }
            for (int s = 0; s < k; s++) {
                mx[s] = StateCodec.storedScale(phases[s], mx[s]);
                amax[s].putFloat((int) (4 * b), mx[s]);
                for (int i = 0; i < len; i++) {
                    codes[s].put(start + i, (byte) StateCodec.encode(maps[s], vals[s][i], mx[s], signFix[s], StateCodec.slot(phases[s], start + i)));
                }
            }
        });
    }

    private static int checksumBody(OptimState8bit st) {
        long nb = Blockwise.numBlocks(st.n, st.blocksize);
        if (nb == 0) return 0;
        int k = st.absmax.length;
        ByteBuffer[] a = new ByteBuffer[k];
        for (int s = 0; s < k; s++) a[s] = HostBuffers.wrap(st.absmax[s], 4 * nb);
        int sum = 0;
        for (int b = 0; b < nb; b++) {
            // state s's scale bits rotated by 11 * s (native bnb_absmax_checksum)
            int x = b * 0x9E3779B9;
            for (int s = 0; s < k; s++) x ^= Integer.rotateLeft(a[s].getInt(4 * b), 11 * s);
            sum += fmix32(x);
        }
        return sum;
    }

    /** MurmurHash3's finaliser. */
    static int fmix32(int k) {
        k ^= k >>> 16;
        k *= 0x85ebca6b;
        k ^= k >>> 13;
        k *= 0xc2b2ae35;
        return k ^ (k >>> 16);
    }

    private static void step32Body(OptimHyper h, INDArray gradient, INDArray[] states) {
        long n = gradient == null ? 0 : gradient.length();
        OptimChecks.step32(h, gradient, states);
        if (n == 0) return;
        ByteBuffer g = HostBuffers.of(gradient);
        int k = h.kind.numStates();
        ByteBuffer[] st = new ByteBuffer[k];
        for (int s = 0; s < k; s++) st[s] = HostBuffers.of(states[s]);
        LongStream.range(0, n).parallel().forEach(i -> {
            int p = (int) (4 * i);
            float[] cur = new float[k];
            for (int s = 0; s < k; s++) cur[s] = st[s].getFloat(p);
            g.putFloat(p, OptimMath.step(h, g.getFloat(p), cur));
            for (int s = 0; s < k; s++) st[s].putFloat(p, cur[s]);
        });
    }
}
