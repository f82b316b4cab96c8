package org.bnb4j.internal.optim;

import org.bnb4j.optim.OptimHyper;
import org.bnb4j.optim.OptimKind;
import org.bnb4j.optim.StateSpec;

import org.bnb4j.internal.kernels.ArrayMemory;
import org.bnb4j.internal.kernels.KernelProvider;
import org.bnb4j.internal.kernels.NativeQuantKernels;
import org.bnb4j.internal.nativeops.BnbNative;
import org.bnb4j.quant.Blockwise;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.lang.ref.Reference;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;

/**
 * The native fused optimizer steps (libnd4j-ops optim.cpp). The states cross as arrays in the order
 * of {@link OptimKind#states()}, each with the map its {@link StateSpec} names; the library declares
 * its own optimizers (optimizers.h), and is only used for the steps when every {@link OptimKind}
 * equals its declaration ({@link #declarationMismatch()}).
 */
public final class NativeOptimizerKernels implements OptimizerKernels {

    public static final NativeOptimizerKernels INSTANCE = new NativeOptimizerKernels();

    private NativeOptimizerKernels() {}

    /** An optimizer as the native library declares it (bnb_optim_describe). */
    record Declared(String name, List<StateSpec> states) {}

    private static final class Check {
        /** Null when the library's optimizers are Java's, else the first difference. */
        static final String MISMATCH = check();

        private static String check() {
            String m = mismatch(NativeOptimizerKernels::declared);
            return m;
        }
    }

    /**
     * Null when the library declares every {@link OptimKind} with the same name and states, else the
     * first difference (checked once; KernelProvider then does not use the library, and says why).
     */
    public static String declarationMismatch() {
        return Check.MISMATCH;
    }

    /** The native declaration of the optimizer with this code, or null if the library has none. */
    static Declared declared(int code) {
        int[] flags = new int[BnbNative.MAX_STATES];
        String[] names = new String[BnbNative.MAX_STATES + 1];
        int k = BnbNative.describeOptimizer(code, flags, names);
        if (k < 0) return null;
        List<StateSpec> states = new ArrayList<>(k);
        for (int s = 0; s < k; s++) states.add(new StateSpec(names[1 + s], (flags[s] & 1) != 0, (flags[s] & 2) != 0));
        return new Declared(names[0], List.copyOf(states));
    }

    /** The first optimizer whose declaration (looked up by code) differs from its {@link OptimKind}, described; else null. */
    static String mismatch(IntFunction<Declared> declarations) {
        for (OptimKind kind : OptimKind.values()) {
            String m = mismatch(kind, declarations.apply(kind.nativeCode()));
            if (m != null) return m;
        }
        return null;
    }

    /** How the native declaration d of kind's code differs from kind (null: it does not). */
    static String mismatch(OptimKind kind, Declared d) {
        if (d == null) return "optimizer " + kind + ": the library has no optimizer with code " + kind.nativeCode();
        if (!kind.name().equals(d.name())) {
            return "optimizer " + kind + ": code " + kind.nativeCode() + " is " + d.name() + " in the library";
        }
        if (!kind.states().equals(d.states())) {
            return "optimizer " + kind + ": states " + d.states() + " in the library, " + kind.states() + " in Java";
        }
        return null;
    }

    @Override
    public void step8bit(OptimHyper h, INDArray gradient, OptimState8bit st) {
        OptimChecks.step8(h, gradient, st);
        step(h, gradient, st, 0, -1);
    }

    @Override
    public void step8bitBlocks(OptimHyper h, INDArray gradient, OptimState8bit st, long blockBegin, long blockEnd) {
        OptimChecks.step8(h, gradient, st);
        OptimChecks.blockRange(st, blockBegin, blockEnd);
        step(h, gradient, st, blockBegin, blockEnd);
    }

    /** blockEnd < 0: every block. The arguments are checked by the public entries. */
    private void step(OptimHyper h, INDArray gradient, OptimState8bit st, long blockBegin, long blockEnd) {
        if (st.n == 0) return;
        List<StateSpec> specs = st.kind.states();
        long[] maps = new long[specs.size()];
        for (int s = 0; s < maps.length; s++) maps[s] = NativeQuantKernels.codebook(specs.get(s).map());
        try {
            long g = ArrayMemory.of(gradient).address();
            check(blockEnd < 0 ? BnbNative.optim8bit(h.toWords(), g, st.n, st.blocksize, st.codes, st.absmax, maps, st.bytePhase)
                    : BnbNative.optim8bitRange(h.toWords(), g, st.n, st.blocksize, st.codes, st.absmax, maps, st.bytePhase, blockBegin, blockEnd));
        } finally {
            // raw addresses only cross JNI: the owners must outlive the call
            Reference.reachabilityFence(gradient);
            Reference.reachabilityFence(st);
        }
    }

    @Override
    public int absmaxChecksum(OptimState8bit st) {
        try {
            return BnbNative.absmaxChecksum(st.absmax, Blockwise.numBlocks(st.n, st.blocksize));
        } finally {
            Reference.reachabilityFence(st);
        }
    }

    @Override
    public void step32(OptimHyper h, INDArray gradient, INDArray... states) {
        OptimChecks.step32(h, gradient, states);
        if (gradient.length() == 0) return;
        long[] a = new long[h.kind.numStates()];
        for (int s = 0; s < a.length; s++) a[s] = ArrayMemory.of(states[s]).address();
        try {
            check(BnbNative.optim32(h.toWords(), ArrayMemory.of(gradient).address(), gradient.length(), a));
        } finally {
            Reference.reachabilityFence(gradient);
            Reference.reachabilityFence(states);
        }
    }

    private static void check(long status) {
        if (status < 0) throw new IllegalStateException("native optimizer step rejected its arguments (status " + status + ")");
    }
}
