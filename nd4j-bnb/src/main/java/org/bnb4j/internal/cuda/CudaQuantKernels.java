package org.bnb4j.internal.cuda;

import org.bnb4j.internal.kernels.ArrayMemory;
import org.bnb4j.internal.kernels.NativeQuantKernels;
import org.bnb4j.internal.kernels.QuantKernels;
import org.bnb4j.internal.nativeops.BnbNative;
import org.bnb4j.quant.NonFiniteInputException;
import org.bnb4j.quant.Blockwise;
import org.bnb4j.quant.QuantMap;

import java.lang.ref.Reference;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Block-wise quantization on the GPU under ND4J's CUDA backend: the arrays' device memory, on ND4J's
 * stream (libbnb4j_cuda.so). The CUDA entry points take contiguous arrays; a strided view is refused
 * with a message (the CPU kernels walk strides, these do not).
 */
public final class CudaQuantKernels implements QuantKernels {
    private final DevicePointers pointers;
    /** Device copies of the maps, one per distinct map, kept for the life of the process (1 KB each). */
    private final ConcurrentHashMap<QuantMap, Long> maps = new ConcurrentHashMap<>();

    CudaQuantKernels(DevicePointers pointers) {
        this.pointers = pointers;
    }

    @Override
    public String name() {
        return "CUDA (libbnb4j_cuda)";
    }

    /** The device copy of map's values. */
    long deviceMap(QuantMap map) {
        return maps.computeIfAbsent(map, m -> {
            long d = BnbCudaNative.mapCreate(m.values());
            if (d == 0) throw new IllegalStateException("bnb4j: cannot copy " + m + " to the GPU: " + BnbCudaNative.lastError());
            return d;
        });
    }

    @Override
    public void quantize(ArrayMemory x, QuantMap map, int blocksize, ArrayMemory codes, ArrayMemory absmax, boolean stochastic, long seed) {
        cudaBlocksize(blocksize);
        contiguous(x, "input");
        if (x.length() == 0) return;
        try {
            long status = BnbCudaNative.quantize(deviceMap(map), pointers.address(x.owner()), NativeQuantKernels.dtypeCode(x.dataType()), x.length(),
                    pointers.address(codes.owner()), pointers.address(absmax.owner()), blocksize, stochastic, seed, pointers.stream());
            pointers.written(codes.owner());
            pointers.written(absmax.owner());
            if (status <= BnbNative.ERR_INF_BASE) throw new NonFiniteInputException(BnbNative.ERR_INF_BASE - status, blocksize, x.length());
            check(status);
        } finally {
            Reference.reachabilityFence(x);
            Reference.reachabilityFence(codes);
            Reference.reachabilityFence(absmax);
        }
    }

    @Override
    public void dequantize(ArrayMemory codes, ArrayMemory absmax, QuantMap map, int blocksize, ArrayMemory out) {
        cudaBlocksize(blocksize);
        contiguous(out, "output");
        if (out.length() == 0) return;
        try {
            check(BnbCudaNative.dequantize(deviceMap(map), pointers.address(codes.owner()), pointers.address(absmax.owner()), out.length(),
                    blocksize, pointers.address(out.owner()), NativeQuantKernels.dtypeCode(out.dataType()), pointers.stream()));
            pointers.written(out.owner());
        } finally {
            Reference.reachabilityFence(codes);
            Reference.reachabilityFence(absmax);
            Reference.reachabilityFence(out);
        }
    }

    private static void contiguous(ArrayMemory m, String what) {
        if (!m.isContiguous()) {
            throw new IllegalArgumentException("bnb4j on the CUDA backend needs a contiguous " + what + " array (use dup())");
        }
    }

    static void check(long status) {
        if (status >= 0) return;
        if (status == BnbCudaNative.ERR_CUDA) throw new IllegalStateException("bnb4j: CUDA error: " + BnbCudaNative.lastError());
        throw new IllegalStateException("bnb4j: the CUDA kernel rejected its arguments (status " + status + "); "
                + "this is a bnb4j bug: the Java side validates them first");
    }

    /** The CUDA kernels take bitsandbytes' CUDA blocksizes; the CPU kernels take any. */
    private static void cudaBlocksize(int blocksize) {
        try {
            Blockwise.checkPowerOfTwoBlocksize(blocksize);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(e.getMessage() + " on the GPU (as bitsandbytes' CUDA kernels; the CPU kernels take any positive blocksize)");
        }
    }
}
