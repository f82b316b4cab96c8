package org.bnb4j.internal.nativeops;

/**
 * JNI declarations of libbnb4j (libnd4j-ops/src/main/cpp/jni_bridge.cpp). Addresses are raw host
 * addresses of INDArray memory. Call only after {@link NativeLibraryLoader#load()} succeeded.
 */
public final class BnbNative {
    private BnbNative() {}

    /** Version of the native ABI this class was written against (bnb4j.h BNB_ABI_VERSION). */
    public static final int ABI_VERSION = 9;

    /** The most states an optimizer may keep (bnb4j.h BNB_MAX_STATES): the longest state arrays below. */
    public static final int MAX_STATES = 4;

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
     * Checks a map's search tables against the reference rules on every stride-th float of |y| < 2
     * (bnb4j.h bnb_codebook_check_fast): variants 0 and 1 the avx512vbmi kernels' tables (plain, the
     * optimizers' sign-fixed search), 2-5 the state byte tables of the avx2 and avx512 steps (plain
     * bytes, with the sign fix, top bytes of packed FLOAT words, top bytes with the sign fix). Returns
     * the number of mismatches, or -1 if the map does not fit the tables.
     */
    public static native long codebookCheckFast(long handle, int variant, int stride);

    /** strides == null means C-contiguous. Returns OK, ERR_* or ERR_INF_BASE - block. */
    public static native long quantize(long codebook, long src, int dtype, long n, long[] shape, long[] strides,
                                       long codes, long absmax, int blocksize, boolean stochastic, long seed);

    public static native long dequantize(long codebook, long codes, long absmax, long n, int blocksize,
                                         long dst, int dtype, long[] shape, long[] strides);

    /**
     * Fused 8-bit block-wise optimizer step (bnb4j.h bnb_optim8bit_blockwise): the gradient at {@code grad}
     * ({@code n} floats) becomes the update in place and each state of the optimizer is advanced.
     *
     * @param hyper     the words of {@code struct bnb_optim_hyper} (size, kind, first step, the named floats as raw
     *                  bits): {@code org.bnb4j.optim.OptimHyper.toWords()}; another length is {@link #ERR_ARG}
     * @param codes     per state, in the optimizer's order: the address of its n codes
     * @param absmax    per state: the address of its block scales (one float per block)
     * @param maps      per state: the codebook handle ({@link #codebookCreate}) of the map its descriptor names
     * @param bytePhase -1 for plain bytes; else the word position (0..3) of the first code of the one byte stream
     *                  all states' codes form (state s from byte s * n), stored NaN-safe, plus 16 for HALF words
     * @return {@link #OK}, or {@link #ERR_ARG} when an argument is bad: an unknown kind, a state count other than
     * the optimizer's (1 to {@link #MAX_STATES}), arrays of unequal length, a null address, a bad blocksize
     */
    public static native long optim8bit(int[] hyper, long grad, long n, int blocksize, long[] codes, long[] absmax,
                                        long[] maps, int bytePhase);

    /**
     * Checksum of an 8-bit state's block scales (bnb4j.h bnb_absmax_checksum): one address per state
     * ({@code numBlocks} floats each), 1 to {@link #MAX_STATES} of them; 0 for bad arguments.
     */
    public static native int absmaxChecksum(long[] absmax, long numBlocks);

    /**
     * {@link #optim8bit} on blocks [blockBegin, blockEnd) of the state of all n parameters only (bnb4j.h
     * bnb_optim8bit_blockwise_range): stepping every block once gives the bits of the whole step.
     */
    public static native long optim8bitRange(int[] hyper, long grad, long n, int blocksize, long[] codes, long[] absmax,
                                             long[] maps, int bytePhase, long blockBegin, long blockEnd);

    /** The same step with 32-bit state: per state, the address of its n floats (bnb4j.h bnb_optim32). */
    public static native long optim32(int[] hyper, long grad, long n, long[] states);

    /**
     * The native declaration of optimizer {@code code} (bnb4j.h bnb_optim_describe, from optimizers.h).
     * Fills {@code flags[s]} for each state s (bit 0: the signed dynamic map, else the unsigned one; bit 1:
     * the sign fix), {@code names[0]} with the optimizer's name (= the Java constant's) and
     * {@code names[1 + s]} with state s's role.
     *
     * @param flags at least {@link #MAX_STATES} elements
     * @param names at least {@link #MAX_STATES} + 1 elements
     * @return the number of states, or -1 when the library has no optimizer with that code
     */
    public static native int describeOptimizer(int code, int[] flags, String[] names);

    /** OpenMP-parallel memcpy: the bandwidth baseline for benchmarks. */
    public static native void parallelCopy(long src, long dst, long bytes);

    /** bnb4j.h bnb_page_map modes and statuses. */
    public static final int PAGE_FRESH = 0, PAGE_KEEP = 1;
    public static final int PAGE_OK = 0, PAGE_ALREADY = 1, PAGE_NOT_PAGEABLE = 2, PAGE_ERR_ARG = -1, PAGE_ERR_FILE = -2,
            PAGE_ERR_SPACE = -3;
    /** bnb4j.h bnb_page_advise advice. */
    public static final int PAGE_WILLNEED = 0, PAGE_PAGEOUT = 1;

    /**
     * Maps an unlinked file in {@code dir} over the whole pages inside [addr, addr + len) (bnb4j.h
     * bnb_page_map); {@code root}/{@code rootBytes} is the allocation the range lies in.
     *
     * @param out receives {status, first paged address, paged bytes}
     * @return null for PAGE_OK and PAGE_ALREADY, else why (out[0] says which status)
     */
    public static native String pageMap(long addr, long len, long root, long rootBytes, String dir, int mode, long[] out);

    /** New paged memory of its own (bnb4j.h bnb_page_alloc): null, out = {status, address, bytes}; else why. */
    public static native String pageAlloc(long bytes, String dir, long[] out);

    /** Unmaps memory of {@link #pageAlloc}: 0 or -errno. */
    public static native int pageFree(long addr, long len);

    /** madvise on the pages of [addr, addr + len): 0 or -errno. */
    public static native int pageAdvise(long addr, long len, int advice);

    /** Writes the dirty pages wholly inside [addr, addr + len) to their file and drops them from the process: 0 or -errno. */
    public static native int pageFlush(long addr, long len);

    /** Bytes of [addr, addr + len)'s pages resident now (mincore), or -errno. */
    public static native long pageResident(long addr, long len);
}
