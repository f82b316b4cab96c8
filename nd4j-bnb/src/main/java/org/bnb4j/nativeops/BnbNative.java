package org.bnb4j.nativeops;

/**
 * JNI declarations of libbnb4j (libnd4j-ops/src/main/cpp/jni_bridge.cpp). Addresses are raw host
 * addresses of INDArray memory. Call only after {@link NativeLibraryLoader#load()} succeeded.
 */
public final class BnbNative {
    private BnbNative() {}

    /** Version of the native ABI this class was written against. */
    public static final int ABI_VERSION = 7;

    /** Native status codes (bnb4j.h). */
    public static final long OK = 0, ERR_ARG = -1, ERR_CODEBOOK = -2, ERR_INF_BASE = -16;

    public static native int abiVersion();
    public static native String activeIsa();
    public static native String supportedIsas();
    /** Switches the kernels to "scalar", "avx2", "avx512" or "avx512vbmi"; false if this CPU lacks it. */
    public static native boolean selectIsa(String name);
    public static native int maxThreads();
    /** 0 restores OpenMP's default. */
    public static native void setThreads(int n);
    /**
     * Tests and benchmarks: how the kernels split work between threads: {@code chunkElems} elements per
     * dynamically claimed chunk, and a parallel region once each thread gets {@code minElemsPerThread}
     * elements (1: at every size). 0 restores the built-in, measured values. Results never depend on it.
     */
    public static native void setParallelSplit(long chunkElems, long minElemsPerThread);
    /**
     * Parallel calls so far that found a thread of the shared OpenMP team descheduled (a busy host);
     * each sends the following calls to bnb4j's own worker threads for a while.
     */
    public static native long parallelStalls();

    /** Builds the search tables of a 256-entry map; 0 if the map is unusable. */
    public static native long codebookCreate(float[] values);
    public static native void codebookFree(long handle);
    /**
     * Checks a map's permute-friendly search tables (used by the avx512vbmi kernels) against the
     * reference search on every stride-th float of |y| < 2: variant 0 plain, 1 the optimizers'
     * sign-fixed search. Returns the number of mismatches, or -1 if the map does not fit the tables.
     */
    public static native long codebookCheckFast(long handle, int variant, int stride);

    /** strides == null means C-contiguous. Returns OK, ERR_* or ERR_INF_BASE - block. */
    public static native long quantize(long codebook, long src, int dtype, long n, long[] shape, long[] strides,
                                       long codes, long absmax, int blocksize, boolean stochastic, long seed);

    public static native long dequantize(long codebook, long codes, long absmax, long n, int blocksize,
                                         long dst, int dtype, long[] shape, long[] strides);

    /** Fused 8-bit block-wise optimizer step (bnb4j.h bnb_optim8bit_blockwise). */
    public static native long optim8bit(int kind, float[] hyper, boolean firstStep, long grad, long n, int blocksize,
                                        long map1, long codes1, long absmax1, long map2, long codes2, long absmax2,
                                        long codes3, long absmax3, int bytePhase);

    /** Checksum of an 8-bit state's absmax arrays (bnb4j.h bnb_absmax_checksum); absmax2/3 may be 0. */
    public static native int absmaxChecksum(long absmax1, long absmax2, long absmax3, long numBlocks);

    /** The same step with 32-bit state. */
    public static native long optim32(int kind, float[] hyper, boolean firstStep, long grad, long n, long state1, long state2,
                                      long state3);

    /** OpenMP-parallel memcpy: the bandwidth baseline for benchmarks. */
    public static native void parallelCopy(long src, long dst, long bytes);
}
