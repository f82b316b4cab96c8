package org.bnb4j.internal.nativeops;

import org.bnb4j.internal.cuda.BnbCudaNative;

import java.io.IOException;
import java.io.InputStream;

/**
 * Loads libbnb4j_cuda.so, the CUDA kernels, from the libnd4j-ops jar (extracted and verified like
 * libbnb4j.so, {@link LibraryCache}). Called only when ND4J's CUDA backend is the active one
 * ({@code org.bnb4j.internal.cuda.CudaBackend}): libbnb4j.so never loads it, so CPU-only machines never
 * touch CUDA. {@code -Dbnb4j.cuda=false} refuses it.
 */
public final class CudaLibraryLoader {
    static final String LIB = "libbnb4j_cuda.so";

    private CudaLibraryLoader() {}

    /** Whether the library loaded, and the file or why not. */
    public record Result(boolean loaded, String detail) {}

    private static Result result;

    public static synchronized Result load() {
        if (result == null) result = tryLoad();
        return result;
    }

    private static Result tryLoad() {
        if ("false".equalsIgnoreCase(System.getProperty("bnb4j.cuda", "true").trim())) {
            return new Result(false, "disabled by -Dbnb4j.cuda=false");
        }
        String resource = "/org/bnb4j/native/" + NativeLibraryLoader.platform() + "/" + LIB;
        byte[] bytes;
        try (InputStream in = CudaLibraryLoader.class.getResourceAsStream(resource)) {
            if (in == null) return new Result(false, "the libnd4j-ops jar has no " + resource + " (built without nvcc)");
            bytes = in.readAllBytes();
        } catch (IOException e) {
            return new Result(false, "cannot read " + resource + ": " + e);
        }
        LibraryCache.Extraction x;
        java.util.List<String> leftOut = new java.util.ArrayList<>();
        try {
            x = LibraryCache.extract(bytes, NativeLibraryLoader.cacheRoots(leftOut), LIB);
        } catch (CacheUnavailableException e) {
            return new Result(false, e.getMessage() + (leftOut.isEmpty() ? "" : "; left out: " + String.join("; ", leftOut)));
        }
        try {
            System.load(x.file().toString());
            int abi = BnbCudaNative.abiVersion();
            if (abi != BnbCudaNative.ABI_VERSION) {
                return new Result(false, "CUDA ABI " + abi + " of " + x.file() + " does not match the Java side's " + BnbCudaNative.ABI_VERSION);
            }
            if (BnbCudaNative.deviceCount() == 0) return new Result(false, x.file() + " loaded but sees no CUDA device");
        } catch (UnsatisfiedLinkError | SecurityException e) {
            return new Result(false, e.getClass().getSimpleName() + " loading " + x.file() + ": " + e.getMessage());
        }
        return new Result(true, x.file().toString());
    }
}
