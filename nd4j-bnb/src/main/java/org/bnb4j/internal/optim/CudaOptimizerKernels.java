package org.bnb4j.internal.optim;

import org.bnb4j.internal.cuda.BnbCudaNative;
import org.bnb4j.internal.cuda.DevicePointers;
import org.bnb4j.internal.kernels.ArrayMemory;
import org.bnb4j.optim.OptimHyper;
import org.bnb4j.quant.Blockwise;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.lang.ref.Reference;
import java.util.function.ToLongFunction;

/**
 * The fused optimizer steps on the GPU under ND4J's CUDA backend (libbnb4j_cuda.so). An
 * {@link OptimState8bit} knows its arrays by host address (packed into the updater view, or in its own
 * arrays); each is translated to the same offset in its owner's device memory.
 */
public final class CudaOptimizerKernels implements OptimizerKernels {
    private final DevicePointers pointers;
    private final ToLongFunction<org.bnb4j.quant.QuantMap> deviceMap;

    /** deviceMap: the device copy of a map (shared with the quantization kernels). */
    public CudaOptimizerKernels(DevicePointers pointers, ToLongFunction<org.bnb4j.quant.QuantMap> deviceMap) {
        this.pointers = pointers;
        this.deviceMap = deviceMap;
    }

    @Override
    public void step8bit(OptimHyper h, INDArray gradient, OptimState8bit st) {
        OptimChecks.step8(h, gradient, st);
        if (st.n == 0) return;
        int k = st.kind.numStates();
        long[] maps = new long[k];
        for (int s = 0; s < k; s++) maps[s] = deviceMap.applyAsLong(st.kind.states().get(s).map());
        INDArray[] owners = st.owners();
        try {
            long[][] bases = bases(owners);
            check(BnbCudaNative.optim8bit(h.toWords(), pointers.address(gradient), st.n, st.blocksize, translate(st.codes, bases),
                    translate(st.absmax, bases), maps, st.bytePhase, pointers.stream()));
            pointers.written(gradient);
            for (INDArray o : owners) pointers.written(o);
        } finally {
            Reference.reachabilityFence(gradient);
            Reference.reachabilityFence(st);
        }
    }

    /**
     * Only the whole range: block ranges serve paged state, which lives in host memory (a file mapping)
     * and so never on the CUDA backend.
     */
    @Override
    public void step8bitBlocks(OptimHyper h, INDArray gradient, OptimState8bit st, long blockBegin, long blockEnd) {
        OptimChecks.step8(h, gradient, st);
        OptimChecks.blockRange(st, blockBegin, blockEnd);
        if (blockBegin != 0 || blockEnd != org.bnb4j.quant.Blockwise.numBlocks(st.length(), st.blocksize())) {
            throw new org.bnb4j.internal.cuda.UnsupportedBackendException("bnb4j: stepping a range of blocks (paged state) needs host "
                    + "memory; the CUDA kernels step whole states");
        }
        step8bit(h, gradient, st);
    }

    @Override
    public int absmaxChecksum(OptimState8bit st) {
        try {
            long[][] bases = bases(st.owners());
            return BnbCudaNative.absmaxChecksum(translate(st.absmax, bases), Blockwise.numBlocks(st.n, st.blocksize), pointers.stream());
        } finally {
            Reference.reachabilityFence(st);
        }
    }

    @Override
    public void step32(OptimHyper h, INDArray gradient, INDArray... states) {
        OptimChecks.step32(h, gradient, states);
        if (gradient.length() == 0) return;
        long[] a = new long[h.kind.numStates()];
        for (int s = 0; s < a.length; s++) a[s] = pointers.address(states[s]);
        try {
            check(BnbCudaNative.optim32(h.toWords(), pointers.address(gradient), gradient.length(), a, pointers.stream()));
            pointers.written(gradient);
            for (int s = 0; s < a.length; s++) pointers.written(states[s]);
        } finally {
            Reference.reachabilityFence(gradient);
            Reference.reachabilityFence(states);
        }
    }

    /** Per owner: host address, byte length, device address. */
    private long[][] bases(INDArray[] owners) {
        long[][] b = new long[owners.length][];
        for (int i = 0; i < owners.length; i++) {
            ArrayMemory m = ArrayMemory.of(owners[i]);
            b[i] = new long[]{m.address(), m.length() * ArrayMemory.elementSize(m.dataType()), pointers.address(owners[i])};
        }
        return b;
    }

    /** Host addresses inside the owners to the same offsets in their device memory. */
    static long[] translate(long[] host, long[][] bases) {
        long[] d = new long[host.length];
        for (int s = 0; s < host.length; s++) {
            d[s] = -1;
            for (long[] b : bases) {
                if (host[s] >= b[0] && host[s] < b[0] + Math.max(b[1], 1)) {
                    d[s] = b[2] + (host[s] - b[0]);
                    break;
                }
            }
            if (d[s] == -1) throw new IllegalStateException("bnb4j: an 8-bit state address lies outside the state's arrays");
        }
        return d;
    }

    private static void check(long status) {
        if (status >= 0) return;
        if (status == BnbCudaNative.ERR_CUDA) throw new IllegalStateException("bnb4j: CUDA error: " + BnbCudaNative.lastError());
        throw new IllegalStateException("bnb4j: the CUDA optimizer step rejected its arguments (status " + status + ")");
    }
}
