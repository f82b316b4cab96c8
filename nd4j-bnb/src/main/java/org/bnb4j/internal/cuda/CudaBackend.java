package org.bnb4j.internal.cuda;

import org.bnb4j.internal.kernels.ArrayMemory;
import org.bnb4j.internal.kernels.KernelProvider;
import org.bnb4j.internal.kernels.QuantKernels;
import org.bnb4j.internal.nativeops.CudaLibraryLoader;
import org.bnb4j.internal.optim.CudaOptimizerKernels;
import org.bnb4j.optim.OptimHyper;
import org.bnb4j.internal.optim.OptimState8bit;
import org.bnb4j.internal.optim.OptimizerKernels;
import org.bnb4j.quant.QuantMap;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.function.Supplier;

/**
 * What bnb4j does under ND4J's CUDA backend. Its arrays live in device memory, with a host copy that
 * is stale whenever a CUDA op wrote last, so the host kernels (native or Java) must not run on them:
 * with libbnb4j_cuda.so loaded (and a device) the CUDA kernels run on the arrays' device memory; without
 * it every kernel call fails with an {@link UnsupportedBackendException} naming the backend and why
 * the CUDA library is not there. Any other backend keeps the host kernels.
 */
public final class CudaBackend {
    /** nd4j-cuda's backend class. */
    public static final String JCUBLAS_BACKEND = "org.nd4j.linalg.jcublas.JCublasBackend";

    private CudaBackend() {}

    /** Whether a backend class (Nd4j.getBackend()) keeps arrays in CUDA device memory. */
    static boolean isCuda(String backendClass) {
        return backendClass != null && (backendClass.equals(JCUBLAS_BACKEND) || backendClass.startsWith("org.nd4j.linalg.jcublas."));
    }

    /** The class name of ND4J's active backend, or null when ND4J cannot say. */
    static String activeBackendClass() {
        try {
            return Nd4j.getBackend().getClass().getName();
        } catch (Throwable e) {  // ND4J not initialisable here: no backend, so no device arrays either
            return null;
        }
    }

    /** ND4J's backend, looked up once (it is chosen once per process). */
    private static final class Active {
        static final String BACKEND = activeBackendClass();
        static final boolean CUDA = isCuda(BACKEND);
    }

    /**
     * Fails when ND4J's active backend is CUDA: for code that reads or writes arrays through host
     * addresses (HostBuffers: the Java kernels, state averaging, raw copies), which would see stale host
     * copies there.
     */
    public static void requireHostMemory(String what) {
        if (Active.CUDA) {
            throw new UnsupportedBackendException("bnb4j: " + what + " works on host memory, but ND4J's active backend is " + Active.BACKEND
                    + " (CUDA): its arrays live in GPU memory and their host copies may be stale. On the CUDA backend bnb4j runs "
                    + "its kernels through libbnb4j_cuda only.");
        }
    }

    /** Whether ND4J's active backend keeps its arrays in CUDA device memory. */
    public static boolean activeBackendIsCuda() {
        return Active.CUDA;
    }

    /** The kernels for ND4J's active backend: null for a host backend (the usual choice applies). */
    public static KernelProvider providerForActiveBackend() {
        if (!Active.CUDA) return null;
        return choose(Active.BACKEND, CudaLibraryLoader::load, Nd4jCudaPointers::new);
    }

    /** A factory of the device pointers (nd4j-cuda's, reached by reflection; it may fail). */
    interface PointersFactory {
        DevicePointers create() throws ReflectiveOperationException;
    }

    /**
     * The decision, apart from ND4J so that tests can fake the backend: null for a host backend (the
     * CUDA library is then never loaded), the CUDA kernels, or kernels that refuse every call.
     */
    static KernelProvider choose(String backendClass, Supplier<CudaLibraryLoader.Result> library, PointersFactory pointers) {
        if (!isCuda(backendClass)) return null;
        CudaLibraryLoader.Result lib = library.get();
        String why;
        if (lib.loaded()) {
            try {
                DevicePointers p = pointers.create();
                CudaQuantKernels q = new CudaQuantKernels(p);
                return KernelProvider.of(q.name(), q, new CudaOptimizerKernels(p, q::deviceMap));
            } catch (ReflectiveOperationException | LinkageError e) {
                why = "nd4j-cuda's device pointers are not reachable (" + e + ")";
            }
        } else {
            why = "libbnb4j_cuda could not be used: " + lib.detail();
        }
        String message = "bnb4j: ND4J's active backend is " + backendClass + " (CUDA): its arrays live in GPU memory, and bnb4j's "
                + "host kernels would read stale host copies; " + why + ". Use the CPU backend (nd4j-native) or a libnd4j-ops jar "
                + "built with nvcc on a machine with a CUDA driver.";
        Refusing r = new Refusing(message);
        return KernelProvider.of("refusing (" + backendClass + ")", r, r);
    }

    /** Kernels that fail with the message on every call. */
    private static final class Refusing implements QuantKernels, OptimizerKernels {
        private final String message;

        Refusing(String message) {
            this.message = message;
        }

        @Override
        public String name() {
            return "refusing";
        }

        @Override
        public void quantize(ArrayMemory x, QuantMap map, int blocksize, ArrayMemory codes, ArrayMemory absmax, boolean stochastic, long seed) {
            throw new UnsupportedBackendException(message);
        }

        @Override
        public void dequantize(ArrayMemory codes, ArrayMemory absmax, QuantMap map, int blocksize, ArrayMemory out) {
            throw new UnsupportedBackendException(message);
        }

        @Override
        public void step8bit(OptimHyper h, INDArray gradient, OptimState8bit state) {
            throw new UnsupportedBackendException(message);
        }

        @Override
        public void step8bitBlocks(OptimHyper h, INDArray gradient, OptimState8bit state, long blockBegin, long blockEnd) {
            throw new UnsupportedBackendException(message);
        }

        @Override
        public void step32(OptimHyper h, INDArray gradient, INDArray... states) {
            throw new UnsupportedBackendException(message);
        }

        @Override
        public int absmaxChecksum(OptimState8bit state) {
            throw new UnsupportedBackendException(message);
        }
    }
}
