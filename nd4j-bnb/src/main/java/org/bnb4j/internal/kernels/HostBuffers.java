package org.bnb4j.internal.kernels;

import org.bnb4j.internal.cuda.CudaBackend;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.indexer.FloatIndexer;
import org.bytedeco.javacpp.indexer.UByteIndexer;
import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Direct little-endian ByteBuffers over host memory (INDArray buffers), without copying. A
 * ByteBuffer does not keep the array alive: the caller keeps the array reachable until its last
 * access through the buffer ({@link java.lang.ref.Reference#reachabilityFence}).
 */
public final class HostBuffers {
    private HostBuffers() {}

    /** A buffer over {@code bytes} bytes at {@code address}. */
    public static ByteBuffer wrap(long address, long bytes) {
        CudaBackend.requireHostMemory("a direct buffer over an array");
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

    /**
     * A UINT8 vector of {@code length} bytes aliasing {@code owner}'s memory from {@code byteOffset} (no
     * copy): writes through either are seen by both. The alias keeps {@code owner} reachable (its
     * DataBuffer holds the pointer, which holds the owner), so the memory cannot be freed while the
     * alias, or any view of it, is in use.
     */
    public static INDArray aliasBytes(INDArray owner, long byteOffset, long length) {
        CudaBackend.requireHostMemory("a UINT8 alias of an array");
        ArrayMemory m = ArrayMemory.of(owner);
        if (!m.isContiguous()) throw new IllegalArgumentException("can only alias a contiguous array");
        long ownerBytes = m.length() * ArrayMemory.elementSize(m.dataType());
        if (byteOffset < 0 || length < 0 || byteOffset + length > ownerBytes) {
            throw new IllegalArgumentException("byte range " + byteOffset + "+" + length + " outside the array's " + ownerBytes + " bytes");
        }
        // The factory keeps this very pointer object in the buffer (Nd4j.createBuffer would wrap it in a
        // new BytePointer and lose the owner).
        RawBytes p = new RawBytes(m.address() + byteOffset, length, owner);
        DataBuffer buf = Nd4j.getDataBufferFactory().create(p, DataType.UBYTE, length, UByteIndexer.create(p));
        return Nd4j.create(buf, new long[]{length}, new long[]{1}, 0, 'c', DataType.UBYTE);
    }

    /**
     * A FLOAT vector of {@code length} words aliasing {@code owner}'s memory from {@code byteOffset} (no
     * copy), e.g. FLOAT words over a DOUBLE array. Like {@link #aliasBytes}, the alias keeps
     * {@code owner} reachable: its buffer holds the pointer object, which holds the owner
     * (Nd4j.createBuffer would copy the pointer and drop that link, so the factory is called directly).
     */
    public static INDArray aliasFloats(INDArray owner, long byteOffset, long length) {
        CudaBackend.requireHostMemory("a FLOAT alias of an array");
        ArrayMemory m = ArrayMemory.of(owner);
        if (!m.isContiguous()) throw new IllegalArgumentException("can only alias a contiguous array");
        long ownerBytes = m.length() * ArrayMemory.elementSize(m.dataType());
        if (byteOffset < 0 || (byteOffset & 3) != 0 || length < 0 || byteOffset + 4 * length > ownerBytes) {
            throw new IllegalArgumentException("float words " + byteOffset + "+4*" + length + " outside the array's "
                    + ownerBytes + " bytes (or not 4-byte aligned)");
        }
        OwnedFloats p = new OwnedFloats(m.address() + byteOffset, length, owner);
        DataBuffer buf = Nd4j.getDataBufferFactory().create(p, DataType.FLOAT, length, FloatIndexer.create(p));
        return Nd4j.create(buf, new long[]{length}, new long[]{1}, 0, 'c', DataType.FLOAT);
    }

    /** Float words at a raw address; the owner field only keeps the memory's INDArray reachable. */
    private static final class OwnedFloats extends FloatPointer {
        @SuppressWarnings("unused") private final Object owner;

        OwnedFloats(long address, long length, Object owner) {
            super((Pointer) null);
            this.address = address;
            this.position = 0;
            this.limit = length;
            this.capacity = length;
            this.owner = owner;
        }
    }

    /**
     * A javacpp pointer over a raw address (to obtain a direct ByteBuffer on it, or to alias it as a
     * DataBuffer). {@code owner}, when given, is the array whose memory this is: held only to keep
     * it reachable as long as this pointer is.
     */
    private static final class RawBytes extends BytePointer {
        @SuppressWarnings({"unused", "FieldCanBeLocal"})
        private final Object owner;

        RawBytes(long address, long bytes) {
            this(address, bytes, null);
        }

        RawBytes(long address, long bytes, Object owner) {
            super((Pointer) null);
            this.owner = owner;
            this.address = address;
            this.position = 0;
            this.limit = bytes;
            this.capacity = bytes;
        }
    }
}
