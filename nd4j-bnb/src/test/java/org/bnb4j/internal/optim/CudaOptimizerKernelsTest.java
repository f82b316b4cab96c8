package org.bnb4j.internal.optim;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** The host-to-device address translation of the CUDA optimizer kernels (no GPU needed). */
class CudaOptimizerKernelsTest {
    @Test
    void translatesEachAddressInsideItsOwner() {
        // two owners: [1000, 1400) -> 9000, [5000, 5010) -> 70000
        long[][] bases = {{1000, 400, 9000}, {5000, 10, 70000}};
        assertArrayEquals(new long[]{9000, 9399, 70000, 70009}, CudaOptimizerKernels.translate(new long[]{1000, 1399, 5000, 5009}, bases));
    }

    @Test
    void refusesAnAddressOutsideEveryOwner() {
        long[][] bases = {{1000, 400, 9000}};
        assertThrows(IllegalStateException.class, () -> CudaOptimizerKernels.translate(new long[]{1400}, bases));
        assertThrows(IllegalStateException.class, () -> CudaOptimizerKernels.translate(new long[]{999}, bases));
    }
}
