package org.bnb4j.kernels;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Direct little-endian ByteBuffers over host memory (INDArray buffers), without copying. */
public final class HostBuffers {
    private HostBuffers() {}

    /** A buffer over {@code bytes} bytes at {@code address}. */
    public static ByteBuffer wrap(long address, long bytes) {
        if (bytes > Integer.MAX_VALUE) {
            throw new UnsupportedOperationException("the pure-Java path handles arrays up to 2 GiB; this one spans "
                    + bytes + " bytes (the native library has no such limit)");
        }
        return new RawBytes(address, bytes).asByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** A buffer over a C-contiguous array's elements. */
    public static ByteBuffer of(INDArray arr) {
        ArrayMemory m = ArrayMemory.of(arr);
        if (!m.isContiguous()) throw new IllegalArgumentException("array must be contiguous in C order: " + m);
        return wrap(m.address(), m.length() * ArrayMemory.elementSize(m.dataType()));
    }

    /** A javacpp pointer over a raw address, only to obtain a direct ByteBuffer on it. */
    private static final class RawBytes extends BytePointer {
        RawBytes(long address, long bytes) {
            super((Pointer) null);
            this.address = address;
            this.position = 0;
            this.limit = bytes;
            this.capacity = bytes;
        }
    }
}
