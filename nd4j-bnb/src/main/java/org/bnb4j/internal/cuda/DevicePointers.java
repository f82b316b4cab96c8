package org.bnb4j.internal.cuda;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Device memory of INDArrays under ND4J's CUDA backend: what the CUDA kernels are handed instead of
 * host addresses ({@link Nd4jCudaPointers}; tests use a fake).
 */
public interface DevicePointers {
    /** The device address of arr's first element, after making the device copy current. */
    long address(INDArray arr);

    /** The cudaStream_t (as an address) of ND4J's current device context: work queued there is ordered with ND4J's ops. */
    long stream();

    /** Records that the kernels wrote arr on the device (its host copy is stale from now on). */
    void written(INDArray arr);
}
