package org.bnb4j.optim;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The factories of the public OptimHyper refuse what the kernels would turn into NaN or Inf updates
 * (they checked only the step count), with the ranges of the DL4J configs, on the float each value
 * rounds to; OptimMath.step names a missing or short state array.
 */
class OptimHyperArgumentsTest {

    private static void refused(String fragment, Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call, fragment);
        assertTrue(e.getMessage().contains(fragment), "expected '" + fragment + "' in: " + e.getMessage());
    }

    @Test
    void factoriesRefuseValuesThatGiveNonFiniteUpdates() {
        refused("lr must be finite and >= 0, got NaN", () -> OptimHyper.adam(Double.NaN, .9, .999, 1e-8, 5));
        refused("lr must be finite and >= 0, got 1.0E300 (Infinity as the float", () -> OptimHyper.adam(1e300, .9, .999, 1e-8, 5));
        refused("lr must be finite and >= 0, got -0.001", () -> OptimHyper.lion(-1e-3, .9, .99));
        refused("beta1 must be in [0, 1), got 1.0", () -> OptimHyper.adam(1e-3, 1, .999, 1e-8, 1));
        refused("beta2 must be in [0, 1), got 1.5", () -> OptimHyper.adam(1e-3, .9, 1.5, 1e-8, 1));
        refused("beta2 must be in [0, 1), got 0.99999999999 (1.0 as the float", () -> OptimHyper.adam(1e-3, .9, 0.99999999999, 1e-8, 1));
        refused("eps must be finite and > 0, got NaN", () -> OptimHyper.adam(1e-3, .9, .999, Double.NaN, 1));
        refused("eps must be finite and > 0, got 0.0", () -> OptimHyper.adagrad(0.01, 0));
        refused("eps must be finite and > 0, got 1.0E-50 (0.0 as the float", () -> OptimHyper.rmsprop(0.01, 0.99, 1e-50));
        refused("decay must be in [0, 1)", () -> OptimHyper.rmsprop(0.01, 1.0, 1e-8));
        refused("momentum must be in [0, 1], got -0.5", () -> OptimHyper.momentum(0.01, -0.5, 1));
        refused("momentum must be in [0, 1], got 1.5", () -> OptimHyper.momentum(0.01, 1.5, 1));
        refused("beta1 must be in [0, 1), got NaN", () -> OptimHyper.lion(1e-4, Double.NaN, .99));
        refused("beta3 (with tBeta3) must be in (0, 1), got 0.0", () -> OptimHyper.ademamix(1e-3, .9, .999, 0, 5, 1e-8, 3, 0, 10));
        refused("alpha must be finite and >= 0, got Infinity", () -> OptimHyper.ademamix(1e-3, .9, .999, .9999, Double.POSITIVE_INFINITY, 1e-8, 3, 0, 0));
        refused("tAlpha and tBeta3 must be >= 0", () -> OptimHyper.ademamix(1e-3, .9, .999, .9999, 5, 1e-8, 3, -1, 0));
        // a rate that is finite but overflows float once the bias correction multiplies it
        refused("overflows float", () -> OptimHyper.adam(1e35, 0.999999, 0.999, 1e-8, 1));
        // the edges that are in range still work
        assertEquals(0f, OptimHyper.adam(0, 0, 0, Float.MIN_VALUE, 1).learningRate());
        assertEquals(OptimKind.MOMENTUM, OptimHyper.momentum(0.01, 0, 1).kind());
        assertEquals(OptimKind.MOMENTUM, OptimHyper.momentum(0.01, 1, 1).kind());   // sums the gradients: finite
        assertEquals(OptimKind.ADEMAMIX, OptimHyper.ademamix(1e-3, 0, .999, 0, 0, 1e-8, 3, 0, 0).kind());
    }

    @Test
    void stepNamesAMissingOrShortStateArray() {
        OptimHyper ademamix = OptimHyper.ademamix(1e-3, .9, .999, .9999, 5, 1e-8, 3, 0, 0);
        refused("ADEMAMIX keeps 3 states per element, the state array has 1", () -> OptimMath.step(ademamix, 0.5f, new float[1]));
        refused("ADEMAMIX keeps 3 states per element, the state array has 1", () -> OptimMath.step(ademamix, Float.NaN, new float[1]));
        refused("state array is null", () -> OptimMath.step(ademamix, 0.5f, null));
        refused("hyper-parameters are null", () -> OptimMath.step(null, 0.5f, new float[3]));
        float[] s = new float[3];
        assertTrue(Float.isFinite(OptimMath.step(ademamix, 0.5f, s)) && s[0] != 0f);
    }
}
