package org.bnb4j.optim;

import org.bnb4j.kernels.ArrayMemory;
import org.bnb4j.kernels.NativeQuantKernels;
import org.bnb4j.nativeops.BnbNative;
import org.bnb4j.quant.Blockwise;
import org.bnb4j.quant.QuantMap;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.lang.ref.Reference;

/** The native fused optimizer steps (libnd4j-ops optim.cpp). */
final class NativeOptimizerKernels implements OptimizerKernels {
    static final NativeOptimizerKernels INSTANCE = new NativeOptimizerKernels();

    private NativeOptimizerKernels() {}

    @Override
    public void step8bit(OptimHyper h, INDArray gradient, OptimState8bit st) {
        OptimChecks.gradient(gradient, st.n);
        if (st.n == 0) return;
        long map1 = NativeQuantKernels.codebook(QuantMap.dynamic(true));
        long map2 = NativeQuantKernels.codebook(QuantMap.dynamic(false));
        try {
            check(BnbNative.optim8bit(h.kind.code, h.toArray(), h.firstStep, ArrayMemory.of(gradient).address(), st.n,
                    st.blocksize, map1, st.codes[0], st.absmax[0], map2, at(st.codes, 1), at(st.absmax, 1), at(st.codes, 2),
                    at(st.absmax, 2), st.bytePhase));
        } finally {
            // raw addresses only cross JNI: the owners must outlive the call
            Reference.reachabilityFence(gradient);
            Reference.reachabilityFence(st);
        }
    }

    @Override
    public int absmaxChecksum(OptimState8bit st) {
        try {
            return BnbNative.absmaxChecksum(st.absmax[0], at(st.absmax, 1), at(st.absmax, 2), Blockwise.numBlocks(st.n, st.blocksize));
        } finally {
            Reference.reachabilityFence(st);
        }
    }

    @Override
    public void step32(OptimHyper h, INDArray gradient, INDArray... states) {
        OptimChecks.step32(h, gradient, states);
        if (gradient.length() == 0) return;
        long[] a = new long[3];
        for (int s = 0; s < h.kind.numStates(); s++) a[s] = ArrayMemory.of(states[s]).address();
        try {
            check(BnbNative.optim32(h.kind.code, h.toArray(), h.firstStep, ArrayMemory.of(gradient).address(), gradient.length(),
                    a[0], a[1], a[2]));
        } finally {
            Reference.reachabilityFence(gradient);
            Reference.reachabilityFence(states);
        }
    }

    private static long at(long[] a, int i) {
        return i < a.length ? a[i] : 0;
    }

    private static void check(long status) {
        if (status < 0) throw new IllegalStateException("native optimizer step rejected its arguments (status " + status + ")");
    }
}
