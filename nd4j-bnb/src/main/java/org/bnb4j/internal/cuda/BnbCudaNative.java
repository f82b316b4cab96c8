package org.bnb4j.internal.cuda;

/**
 * JNI entry points of libbnb4j_cuda.so (jni_cuda.cpp; C ABI bnb4j_cuda.h). Addresses are device
 * pointers, {@code stream} a cudaStream_t (0: the default stream). Load the library first
 * ({@link org.bnb4j.internal.nativeops.CudaLibraryLoader}).
 */
public final class BnbCudaNative {
    private BnbCudaNative() {}

    /** bnb4j_cuda.h BNB_CUDA_ABI_VERSION. */
    public static final int ABI_VERSION = 1;
    /** A CUDA call failed ({@link #lastError()} says which). */
    public static final long ERR_CUDA = -3;

    public static native int abiVersion();
    public static native int deviceCount();
    public static native String lastError();

    /** A device copy of a map's 256 values, or 0. */
    public static native long mapCreate(float[] values);
    public static native void mapFree(long map);

    /** Waits for the stream: returns the CPU status (BnbNative.ERR_INF_BASE - block for an Inf block). */
    public static native long quantize(long map, long src, int dtype, long n, long codes, long absmax, int blocksize,
                                       boolean stochastic, long seed, long stream);
    public static native long dequantize(long map, long codes, long absmax, long n, int blocksize, long dst, int dtype, long stream);
    public static native long optim8bit(int[] hyper, long grad, long n, int blocksize, long[] codes, long[] absmax, long[] maps,
                                        int bytePhase, long stream);
    public static native long optim32(int[] hyper, long grad, long n, long[] states, long stream);
    /** Waits for the stream. */
    public static native int absmaxChecksum(long[] absmax, long nb, long stream);
}
