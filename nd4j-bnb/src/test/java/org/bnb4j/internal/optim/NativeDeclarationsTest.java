package org.bnb4j.internal.optim;

import org.bnb4j.optim.OptimHyper;
import org.bnb4j.optim.OptimKind;
import org.bnb4j.optim.StateSpec;

import org.bnb4j.internal.kernels.ArrayMemory;
import org.bnb4j.internal.kernels.KernelProvider;
import org.bnb4j.internal.nativeops.BnbNative;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.lang.ref.Reference;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The native library declares its optimizers (optimizers.h); the native steps are used only when each
 * declaration equals its {@link OptimKind} (name and states: role, map, sign fix).
 */
class NativeDeclarationsTest {

    private static NativeOptimizerKernels.Declared asJava(OptimKind k) {
        return new NativeOptimizerKernels.Declared(k.name(), k.states());
    }

    @ParameterizedTest
    @EnumSource(OptimKind.class)
    void theLibraryDeclaresEveryOptimizerAsJavaDoes(OptimKind kind) {
        assumeTrue(KernelProvider.nativeKernels().isPresent());
        NativeOptimizerKernels.Declared d = NativeOptimizerKernels.declared(kind.nativeCode());
        assertNotNull(d, kind + " missing from the native library");
        assertEquals(kind.name(), d.name());
        assertEquals(kind.states(), d.states());
        assertNull(NativeOptimizerKernels.mismatch(kind, d));
    }

    @Test
    void theCheckPassesAndTheNativeStepsAreUsed() {
        assumeTrue(KernelProvider.nativeKernels().isPresent());
        assertNull(NativeOptimizerKernels.mismatch(NativeOptimizerKernels::declared));
        assertNull(NativeOptimizerKernels.declarationMismatch());
        assertTrue(KernelProvider.get().isNative());
        assertSame(NativeOptimizerKernels.INSTANCE, KernelProvider.get().optimizerKernels());
    }

    @Test
    void unknownCodesAreNotDeclared() {
        assumeTrue(KernelProvider.nativeKernels().isPresent());
        assertNull(NativeOptimizerKernels.declared(-1));
        assertNull(NativeOptimizerKernels.declared(1000));
    }

    @Test
    void aDifferentDeclarationIsDetectedAndNamesTheOptimizer() {
        OptimKind k = OptimKind.ADAM;
        assertNull(NativeOptimizerKernels.mismatch(k, asJava(k)));
        // v on the signed map
        String m = NativeOptimizerKernels.mismatch(k, new NativeOptimizerKernels.Declared("ADAM",
                List.of(StateSpec.signed("m"), new StateSpec("v", true, false))));
        assertNotNull(m);
        assertTrue(m.contains("ADAM"), m);
        // no sign fix on m
        assertNotNull(NativeOptimizerKernels.mismatch(k, new NativeOptimizerKernels.Declared("ADAM",
                List.of(new StateSpec("m", true, false), StateSpec.unsigned("v")))));
        // a state missing, one too many, another role, another name, no declaration at all
        assertNotNull(NativeOptimizerKernels.mismatch(k, new NativeOptimizerKernels.Declared("ADAM", List.of(StateSpec.signed("m")))));
        List<StateSpec> more = new ArrayList<>(k.states());
        more.add(StateSpec.signed("m2"));
        assertNotNull(NativeOptimizerKernels.mismatch(k, new NativeOptimizerKernels.Declared("ADAM", more)));
        assertNotNull(NativeOptimizerKernels.mismatch(k, new NativeOptimizerKernels.Declared("ADAM",
                List.of(StateSpec.signed("mom"), StateSpec.unsigned("v")))));
        assertTrue(NativeOptimizerKernels.mismatch(k, new NativeOptimizerKernels.Declared("LION", k.states())).contains("LION"));
        assertTrue(NativeOptimizerKernels.mismatch(k, null).contains("ADAM"));
    }

    @Test
    void theWholeCheckNamesTheFirstOptimizerThatDiffers() {
        assertNull(NativeOptimizerKernels.mismatch(code -> asJava(kindOf(code))));
        // the library's AdEMAMix keeps its slow EMA on the unsigned map
        String m = NativeOptimizerKernels.mismatch(code -> {
            OptimKind k = kindOf(code);
            if (k != OptimKind.ADEMAMIX) return asJava(k);
            List<StateSpec> s = new ArrayList<>(k.states());
            s.set(2, StateSpec.unsigned("m2"));
            return new NativeOptimizerKernels.Declared(k.name(), s);
        });
        assertNotNull(m);
        assertTrue(m.contains("ADEMAMIX"), m);
        // a library without Lion
        m = NativeOptimizerKernels.mismatch(code -> code == OptimKind.LION.nativeCode() ? null : asJava(kindOf(code)));
        assertNotNull(m);
        assertTrue(m.contains("LION"), m);
    }

    @Test
    void hyperWordsHaveTheStructsSizeAndNamedFields() {
        OptimHyper h = OptimHyper.adam(1e-3, 0.9, 0.999, 1e-8, 1);
        int[] w = h.toWords();
        assertEquals(OptimHyper.WORDS, w.length);
        assertEquals(4 * OptimHyper.WORDS, w[OptimHyper.W_SIZE]);
        assertEquals(OptimKind.ADAM.nativeCode(), w[OptimHyper.W_KIND]);
        assertEquals(1, w[OptimHyper.W_FIRST_STEP]);
        assertEquals(Float.floatToRawIntBits(h.lr), w[OptimHyper.W_LR]);
        assertEquals(Float.floatToRawIntBits(h.stepSize), w[OptimHyper.W_STEP_SIZE]);
        assertEquals(Float.floatToRawIntBits(h.ratio3), w[OptimHyper.W_RATIO3]);
    }

    @Test
    void theLibraryRejectsHyperWordsOfAnotherSize() {
        assumeTrue(KernelProvider.nativeKernels().isPresent());
        OptimHyper h = OptimHyper.lion(1e-4, 0.9, 0.99);
        INDArray g = Nd4j.ones(DataType.FLOAT, 8);
        INDArray s = Nd4j.zeros(DataType.FLOAT, 8);
        long ga = ArrayMemory.of(g).address(), sa = ArrayMemory.of(s).address();
        int[] w = h.toWords();
        assertEquals(BnbNative.OK, BnbNative.optim32(w, ga, 8, new long[]{sa}));
        int[] bad = w.clone();
        bad[OptimHyper.W_SIZE] += 4;
        assertEquals(BnbNative.ERR_ARG, BnbNative.optim32(bad, ga, 8, new long[]{sa}), "size word");
        assertEquals(BnbNative.ERR_ARG, BnbNative.optim32(Arrays.copyOf(w, w.length + 1), ga, 8, new long[]{sa}), "length");
        assertEquals(BnbNative.ERR_ARG, BnbNative.optim32(w, ga, 8, new long[]{sa, sa}), "state count");
        bad = w.clone();
        bad[OptimHyper.W_KIND] = 99;
        assertEquals(BnbNative.ERR_ARG, BnbNative.optim32(bad, ga, 8, new long[]{sa}), "unknown kind");
        Reference.reachabilityFence(g);
        Reference.reachabilityFence(s);
    }

    private static OptimKind kindOf(int code) {
        for (OptimKind k : OptimKind.values()) if (k.nativeCode() == code) return k;
        throw new AssertionError("no kind with code " + code);
    }
}
