package org.bnb4j.internal.cuda;

import org.bnb4j.internal.kernels.ArrayMemory;
import org.bnb4j.internal.kernels.KernelProvider;
import org.bnb4j.internal.nativeops.CudaLibraryLoader;
import org.bnb4j.optim.OptimHyper;
import org.bnb4j.optim.OptimKind;
import org.bnb4j.quant.QuantMap;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The backend decision with ND4J's backend faked (nd4j-cuda cannot be a test dependency: its M2.1
 * builds need CUDA 11.x and a GPU): a host backend never loads the CUDA library; the CUDA backend
 * without libbnb4j_cuda refuses every kernel call with a message naming the backend, instead of
 * running the host kernels on stale host copies.
 */
class CudaBackendTest {
    private static final String CPU = "org.nd4j.linalg.cpu.nativecpu.CpuBackend";

    @Test
    void recognisesTheCudaBackendByClassName() {
        assertTrue(CudaBackend.isCuda(CudaBackend.JCUBLAS_BACKEND));
        assertTrue(CudaBackend.isCuda("org.nd4j.linalg.jcublas.SomeFutureBackend"));
        assertFalse(CudaBackend.isCuda(CPU));
        assertFalse(CudaBackend.isCuda(null));
        // this test JVM runs nd4j-native
        assertFalse(CudaBackend.isCuda(CudaBackend.activeBackendClass()));
        assertNull(CudaBackend.providerForActiveBackend());
        CudaBackend.requireHostMemory("this test");  // host memory is fine on the CPU backend
    }

    @Test
    void hostBackendNeverLoadsTheCudaLibrary() {
        AtomicInteger loads = new AtomicInteger();
        assertNull(CudaBackend.choose(CPU, () -> {
            loads.incrementAndGet();
            return new CudaLibraryLoader.Result(true, "x");
        }, () -> fail("no device pointers on a host backend")));
        assertEquals(0, loads.get());
    }

    @Test
    void cudaBackendWithoutTheLibraryRefusesEveryKernelNamingTheBackend() {
        KernelProvider p = CudaBackend.choose(CudaBackend.JCUBLAS_BACKEND,
                () -> new CudaLibraryLoader.Result(false, "the libnd4j-ops jar has no libbnb4j_cuda.so (built without nvcc)"),
                () -> fail("no device pointers without the library"));
        assertNotNull(p);
        INDArray x = Nd4j.rand(DataType.FLOAT, 256);
        INDArray codes = Nd4j.create(DataType.UBYTE, 256), absmax = Nd4j.create(DataType.FLOAT, 1);
        UnsupportedBackendException e = assertThrows(UnsupportedBackendException.class, () -> p.quantKernels().quantize(
                ArrayMemory.of(x), QuantMap.dynamic(), 256, ArrayMemory.of(codes), ArrayMemory.of(absmax), false, 0));
        assertTrue(e.getMessage().contains(CudaBackend.JCUBLAS_BACKEND), e.getMessage());
        assertTrue(e.getMessage().contains("built without nvcc"), e.getMessage());
        assertThrows(UnsupportedBackendException.class, () -> p.quantKernels().dequantize(ArrayMemory.of(codes), ArrayMemory.of(absmax),
                QuantMap.dynamic(), 256, ArrayMemory.of(x)));
        OptimHyper h = OptimHyper.builder(OptimKind.ADAM).build();
        assertThrows(UnsupportedBackendException.class, () -> p.optimizerKernels().step32(h, x, x.dup(), x.dup()));
        assertEquals(0f, absmax.getFloat(0), "nothing ran");
    }

    @Test
    void cudaBackendWithoutDevicePointersRefusesToo() {
        KernelProvider p = CudaBackend.choose(CudaBackend.JCUBLAS_BACKEND, () -> new CudaLibraryLoader.Result(true, "/tmp/libbnb4j_cuda.so"),
                () -> { throw new ClassNotFoundException("org.nd4j.jita.allocator.impl.AtomicAllocator"); });
        INDArray x = Nd4j.rand(DataType.FLOAT, 64);
        UnsupportedBackendException e = assertThrows(UnsupportedBackendException.class,
                () -> p.optimizerKernels().step32(OptimHyper.builder(OptimKind.LION).build(), x, x.dup()));
        assertTrue(e.getMessage().contains("AtomicAllocator"), e.getMessage());
    }

    /**
     * The CUDA kernels take bitsandbytes' CUDA blocksizes (powers of two 64..4096) and refuse others with a
     * message before any device memory is touched; the CPU kernels take any positive blocksize.
     */
    @Test
    void cudaKernelsRefuseCpuOnlyBlocksizes() {
        CudaQuantKernels k = new CudaQuantKernels(null);   // the check comes before any pointer is asked for
        for (int b : new int[]{1, 100, 8192}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> k.quantize(null, org.bnb4j.quant.QuantMap.dynamic(), b, null, null, false, 0));
            assertTrue(e.getMessage().contains("blocksize") && e.getMessage().contains("GPU"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> k.dequantize(null, null, org.bnb4j.quant.QuantMap.dynamic(), b, null));
        }
    }
}
