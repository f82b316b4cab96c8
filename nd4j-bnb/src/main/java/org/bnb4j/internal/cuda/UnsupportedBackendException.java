package org.bnb4j.internal.cuda;

/**
 * ND4J's active backend keeps arrays where bnb4j's kernels cannot work on them (the CUDA backend
 * without libbnb4j_cuda), so the operation is refused instead of reading stale host memory.
 */
public final class UnsupportedBackendException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    public UnsupportedBackendException(String message) {
        super(message);
    }
}
