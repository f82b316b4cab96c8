package org.bnb4j.internal.optim;

import org.bnb4j.optim.OptimHyper;

import org.bnb4j.internal.kernels.ArrayMemory;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Argument checks shared by the optimizer kernels. */
final class OptimChecks {
    private OptimChecks() {}

    static void gradient(INDArray g, long n) {
        if (g == null) throw new IllegalArgumentException("gradient is null");
        if (g.dataType() != DataType.FLOAT) throw new IllegalArgumentException("gradient must be FLOAT, got " + g.dataType());
        if (g.length() != n) throw new IllegalArgumentException("gradient has " + g.length() + " elements, the state holds " + n);
        if (n > 0 && !ArrayMemory.of(g).isContiguous()) throw new IllegalArgumentException("gradient must be contiguous");
    }

    /** The arguments of an 8-bit step: present, the hyper-parameters of the state's optimizer, the gradient of its length. */
    static void step8(OptimHyper h, INDArray g, OptimState8bit st) {
        if (h == null) throw new IllegalArgumentException("hyper-parameters are null");
        if (st == null) throw new IllegalArgumentException("state is null");
        if (h.kind != st.kind) throw new IllegalArgumentException("hyper-parameters of " + h.kind + " for a state of " + st.kind);
        gradient(g, st.n);
    }

    /** A range of blocks of the state: 0 <= begin <= end <= its number of blocks. */
    static void blockRange(OptimState8bit st, long begin, long end) {
        long nb = org.bnb4j.quant.Blockwise.numBlocks(st.n, st.blocksize);
        if (begin < 0 || end < begin || end > nb) {
            throw new IllegalArgumentException("block range [" + begin + ", " + end + ") is not inside the state's " + nb + " blocks");
        }
    }

    static void step32(OptimHyper h, INDArray g, INDArray[] states) {
        if (h == null) throw new IllegalArgumentException("hyper-parameters are null");
        gradient(g, g == null ? 0 : g.length());
        int k = h.kind.numStates();
        if (states == null || states.length < k) {
            throw new IllegalArgumentException(h.kind + " needs " + k + " state arrays, got " + (states == null ? 0 : states.length));
        }
        for (int s = 0; s < k; s++) state(states[s], g.length(), "state" + (s + 1));
    }

    private static void state(INDArray s, long n, String what) {
        if (s == null) throw new IllegalArgumentException(what + " is null");
        if (s.dataType() != DataType.FLOAT) throw new IllegalArgumentException(what + " must be FLOAT, got " + s.dataType());
        if (s.length() != n) throw new IllegalArgumentException(what + " has " + s.length() + " elements, expected " + n);
        if (n > 0 && !ArrayMemory.of(s).isContiguous()) throw new IllegalArgumentException(what + " must be contiguous");
    }
}
