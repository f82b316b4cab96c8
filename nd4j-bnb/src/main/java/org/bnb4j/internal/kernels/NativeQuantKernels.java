package org.bnb4j.internal.kernels;

import org.bnb4j.quant.NonFiniteInputException;

import org.bnb4j.internal.nativeops.BnbNative;
import org.bnb4j.quant.QuantMap;
import org.nd4j.linalg.api.buffer.DataType;

import java.lang.ref.Reference;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The native implementation (libbnb4j: OpenMP over blocks, AVX2/AVX-512 chosen at run time).
 * Each distinct map's search tables are built once and cached; beyond {@link #MAX_CACHED_MAPS}
 * distinct maps, tables are built per call and freed after it.
 */
public final class NativeQuantKernels implements QuantKernels {
    static final int MAX_CACHED_MAPS = 64;

    private final ConcurrentHashMap<QuantMap, Long> codebooks = new ConcurrentHashMap<>();

    @Override
    public String name() {
        return "native (" + BnbNative.activeIsa() + ", " + BnbNative.maxThreads() + " threads)";
    }

    @Override
    public void quantize(ArrayMemory x, QuantMap map, int blocksize, ArrayMemory codes, ArrayMemory absmax,
                         boolean stochastic, long seed) {
        try {
            withCodebook(map, cb -> {
                long status = BnbNative.quantize(cb, x.address(), dtypeCode(x.dataType()), x.length(),
                        x.isContiguous() ? null : x.shape(), x.isContiguous() ? null : x.strides(),
                        codes.address(), absmax.address(), blocksize, stochastic, seed);
                check(status, blocksize, x.length());
            });
        } finally {
            // The native code holds raw addresses only: the arrays must stay reachable (not be
            // freed by ND4J's deallocator) until it returns.
            Reference.reachabilityFence(x);
            Reference.reachabilityFence(codes);
            Reference.reachabilityFence(absmax);
        }
    }

    @Override
    public void dequantize(ArrayMemory codes, ArrayMemory absmax, QuantMap map, int blocksize, ArrayMemory out) {
        try {
            withCodebook(map, cb -> {
                long status = BnbNative.dequantize(cb, codes.address(), absmax.address(), out.length(), blocksize,
                        out.address(), dtypeCode(out.dataType()),
                        out.isContiguous() ? null : out.shape(), out.isContiguous() ? null : out.strides());
                check(status, blocksize, out.length());
            });
        } finally {
            Reference.reachabilityFence(codes);
            Reference.reachabilityFence(absmax);
            Reference.reachabilityFence(out);
        }
    }

    private interface CodebookUse {
        void run(long codebook);
    }

    private void withCodebook(QuantMap map, CodebookUse use) {
        Long cached = codebooks.get(map);
        if (cached == null && codebooks.size() < MAX_CACHED_MAPS) {
            cached = codebooks.computeIfAbsent(map, NativeQuantKernels::create);
        }
        if (cached != null) {
            use.run(cached);
            return;
        }
        long temp = create(map);
        try {
            use.run(temp);
        } finally {
            BnbNative.codebookFree(temp);
        }
    }

    /** The cached search tables of a standard map (bitsandbytes' dynamic maps), for the optimizer kernels. */
    public static long codebook(QuantMap map) {
        NativeQuantKernels k = (NativeQuantKernels) KernelProvider.nativeKernels()
                .orElseThrow(() -> new IllegalStateException("native library not in use")).quantKernels();
        return k.codebooks.computeIfAbsent(map, NativeQuantKernels::create);
    }

    private static long create(QuantMap map) {
        long h = BnbNative.codebookCreate(map.values());
        // The library takes every map QuantMap allows (256 finite sorted values) and searches it
        // exactly, falling back from its fast tables where they do not apply; 0 means it could not
        // allocate the tables.
        if (h == 0) throw new IllegalStateException("the native library could not create the search tables of " + map);
        return h;
    }

    private static void check(long status, int blocksize, long length) {
        if (status >= 0) return;
        if (status <= BnbNative.ERR_INF_BASE) throw new NonFiniteInputException(BnbNative.ERR_INF_BASE - status, blocksize, length);
        throw new IllegalStateException("native kernel rejected its arguments (status " + status + "); "
                + "this is a bnb4j bug: the Java side validates them first");
    }

    /** The native libraries' element-type code (bnb4j.h bnb_dtype; the CUDA library uses the same). */
    public static int dtypeCode(DataType t) {
        switch (t) {
            case FLOAT: return 0;
            case DOUBLE: return 1;
            case HALF: return 2;
            case BFLOAT16: return 3;
            default: throw new IllegalArgumentException("unsupported data type " + t);
        }
    }
}
