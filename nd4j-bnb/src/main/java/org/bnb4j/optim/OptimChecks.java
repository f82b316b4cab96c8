package org.bnb4j.optim;

import org.bnb4j.kernels.ArrayMemory;
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

    static void step32(OptimHyper h, INDArray g, INDArray s1, INDArray s2) {
        gradient(g, g == null ? 0 : g.length());
        state(s1, g.length(), "state1");
        if (h.kind.numStates() == 2) state(s2, g.length(), "state2");
    }

    private static void state(INDArray s, long n, String what) {
        if (s == null) throw new IllegalArgumentException(what + " is null");
        if (s.dataType() != DataType.FLOAT) throw new IllegalArgumentException(what + " must be FLOAT, got " + s.dataType());
        if (s.length() != n) throw new IllegalArgumentException(what + " has " + s.length() + " elements, expected " + n);
        if (n > 0 && !ArrayMemory.of(s).isContiguous()) throw new IllegalArgumentException(what + " must be contiguous");
    }
}
