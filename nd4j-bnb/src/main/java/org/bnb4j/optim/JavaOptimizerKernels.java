package org.bnb4j.optim;

import org.bnb4j.kernels.HostBuffers;
import org.bnb4j.quant.Blockwise;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.ByteBuffer;
import java.util.stream.LongStream;

/** The pure-Java optimizer steps: fallback and oracle of the native ones (same float operations, same order). */
public final class JavaOptimizerKernels implements OptimizerKernels {
    public static final JavaOptimizerKernels INSTANCE = new JavaOptimizerKernels();

    private JavaOptimizerKernels() {}

    @Override
    public void step8bit(OptimHyper h, INDArray gradient, OptimState8bit st) {
        long n = st.n;
        OptimChecks.gradient(gradient, n);
        if (n == 0) return;
        ByteBuffer g = HostBuffers.of(gradient);
        long nb = Blockwise.numBlocks(n, st.blocksize);
        boolean two = h.kind.numStates() == 2;
        ByteBuffer c1 = HostBuffers.wrap(st.codes1, n), a1 = HostBuffers.wrap(st.absmax1, 4 * nb);
        ByteBuffer c2 = two ? HostBuffers.wrap(st.codes2, n) : null, a2 = two ? HostBuffers.wrap(st.absmax2, 4 * nb) : null;
        float[] map1 = st.map1.values(), map2 = st.map2.values();
        int phase2 = st.bytePhase < 0 ? -1 : (int) ((st.bytePhase + n) & 3);
        LongStream.range(0, nb).parallel().forEach(b -> {
            int start = (int) (b * st.blocksize), len = (int) Math.min(st.blocksize, n - start);
            float[] s1 = new float[len], s2 = new float[len], pair = new float[2];
            float am1 = a1.getFloat((int) (4 * b)), am2 = two ? a2.getFloat((int) (4 * b)) : 0f;
            float m1 = 0f, m2 = 0f;
            for (int i = 0; i < len; i++) {
                int e = start + i;
                pair[0] = StateCodec.decode(map1, c1.get(e) & 0xff, StateCodec.isTop(st.bytePhase, e), am1);
                pair[1] = two ? StateCodec.decode(map2, c2.get(e) & 0xff, StateCodec.isTop(phase2, e), am2) : 0f;
                g.putFloat(4 * e, OptimMath.update(h, g.getFloat(4 * e), pair));
                s1[i] = pair[0];
                s2[i] = pair[1];
                float x1 = Math.abs(s1[i]), x2 = Math.abs(s2[i]);
                if (x1 > m1) m1 = x1;
                if (x2 > m2) m2 = x2;
            }
            a1.putFloat((int) (4 * b), m1);
            for (int i = 0; i < len; i++) {
                c1.put(start + i, (byte) StateCodec.encode(map1, s1[i], m1, true, StateCodec.isTop(st.bytePhase, start + i)));
            }
            if (two) {
                a2.putFloat((int) (4 * b), m2);
                for (int i = 0; i < len; i++) {
                    c2.put(start + i, (byte) StateCodec.encode(map2, s2[i], m2, false, StateCodec.isTop(phase2, start + i)));
                }
            }
        });
    }

    @Override
    public void step32(OptimHyper h, INDArray gradient, INDArray state1, INDArray state2) {
        long n = gradient.length();
        OptimChecks.step32(h, gradient, state1, state2);
        if (n == 0) return;
        ByteBuffer g = HostBuffers.of(gradient), s1 = HostBuffers.of(state1);
        ByteBuffer s2 = h.kind.numStates() == 2 ? HostBuffers.of(state2) : null;
        LongStream.range(0, n).parallel().forEach(i -> {
            int p = (int) (4 * i);
            float[] pair = {s1.getFloat(p), s2 != null ? s2.getFloat(p) : 0f};
            g.putFloat(p, OptimMath.update(h, g.getFloat(p), pair));
            s1.putFloat(p, pair[0]);
            if (s2 != null) s2.putFloat(p, pair[1]);
        });
    }
}
