package org.bnb4j.internal.kernels;

import org.bytedeco.javacpp.Pointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Arrays;

/**
 * Where an INDArray's elements live in host memory: the address of its first element (view offset
 * included), its element type, and its layout in elements. Kernels read and write through this
 * description in place; nothing is copied.
 */
public final class ArrayMemory {
    private final INDArray owner;   // keeps the buffer reachable while the address is in use
    private final long address;
    private final DataType dataType;
    private final long length;
    private final long[] shape;
    private final long[] strides;   // in elements
    private final boolean contiguous;

    private ArrayMemory(INDArray owner, long address, DataType dataType, long length, long[] shape, long[] strides) {
        this.owner = owner;
        this.address = address;
        this.dataType = dataType;
        this.length = length;
        this.shape = shape;
        this.strides = strides;
        this.contiguous = isCContiguous(shape, strides);
    }

    /**
     * Describes {@code arr}; the caller has validated its data type. Refuses an array whose memory is
     * gone or reused, as ND4J's own ops do: a closed array, or one attached to a workspace that has been
     * closed (or closed and reopened) since it was allocated: its address would point at other data.
     */
    public static ArrayMemory of(INDArray arr) {
        requireLive(arr);
        long length = arr.length();
        long[] shape = arr.rank() == 0 ? new long[]{1} : arr.shape().clone();
        long[] strides = arr.rank() == 0 ? new long[]{1} : arr.stride().clone();
        long address = 0;
        if (length > 0) {
            Pointer p = arr.data().addressPointer();
            // addressPointer() is already positioned at the view's first element.
            address = p.address() + p.position() * elementSize(arr.dataType());
        }
        return new ArrayMemory(arr, address, arr.dataType(), length, shape, strides);
    }

    /**
     * ND4J's workspace check of an op's arguments (DefaultOpExecutioner.checkWorkspace), plus closed arrays.
     * @throws IllegalArgumentException for a closed array, IllegalStateException for one of a closed or reopened workspace
     */
    public static void requireLive(INDArray arr) {
        if (arr.wasClosed() || (!arr.isEmpty() && arr.data() != null && arr.data().wasClosed())) {
            throw new IllegalArgumentException("array " + arr.dataType() + Arrays.toString(arr.shape()) + " was closed: its memory is released");
        }
        // Views too (a view's buffer carries its workspace and generation): ND4J's own check makes no exception for them.
        if (!arr.isAttached()) return;
        MemoryWorkspace ws = arr.data().getParentWorkspace();
        if (ws == null || ws.getWorkspaceType() == MemoryWorkspace.Type.CIRCULAR) return;
        if (!ws.isScopeActive()) {
            throw new IllegalStateException("array " + arr.dataType() + Arrays.toString(arr.shape()) + " lives in workspace '" + ws.getId()
                    + "', which has been closed: its memory may hold other data now (use it inside the workspace, or detach() it first)");
        }
        if (ws.getGenerationId() != arr.data().getGenerationId()) {
            throw new IllegalStateException("array " + arr.dataType() + Arrays.toString(arr.shape()) + " lives in workspace '" + ws.getId()
                    + "', which has been closed and reopened since it was allocated: its memory may hold other data now "
                    + "(detach() it before the workspace closes)");
        }
    }

    static boolean isCContiguous(long[] shape, long[] strides) {
        long expected = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            if (shape[d] == 0) return true;
            if (shape[d] != 1 && strides[d] != expected) return false;
            expected *= shape[d];
        }
        return true;
    }

    public static int elementSize(DataType t) {
        switch (t) {
            case DOUBLE: case LONG: return 8;
            case FLOAT: case INT: case UINT32: return 4;
            case HALF: case BFLOAT16: case SHORT: case UINT16: return 2;
            case BYTE: case UBYTE: case BOOL: return 1;
            default: throw new IllegalArgumentException("unsupported data type " + t);
        }
    }

    public INDArray owner() { return owner; }
    /**
     * The first element's address. Valid only while {@link #owner()} is reachable: ND4J frees an
     * array's memory once the array is collected, so code that hands the address to native code or to
     * a raw buffer must keep this object (or the owner) alive until it is done, e.g. with
     * {@link java.lang.ref.Reference#reachabilityFence} in a finally block.
     */
    public long address() { return address; }
    public DataType dataType() { return dataType; }
    public long length() { return length; }
    public long[] shape() { return shape.clone(); }
    public long[] strides() { return strides.clone(); }
    /** True when the elements are dense in C order from {@link #address()}. */
    public boolean isContiguous() { return contiguous; }

    /** Offset in elements of the C-order element {@code i}, from {@link #address()}. */
    long offsetOf(long i) {
        if (contiguous) return i;
        long off = 0;
        for (int d = shape.length - 1; d >= 0; d--) {
            off += (i % shape[d]) * strides[d];
            i /= shape[d];
        }
        return off;
    }

    /** Smallest and largest element offsets, for sizing a buffer over the array's span. */
    long[] offsetRange() {
        if (length == 0) return new long[]{0, 0};
        if (contiguous) return new long[]{0, length - 1};
        long lo = 0, hi = 0;
        for (int d = 0; d < shape.length; d++) {
            long reach = (shape[d] - 1) * strides[d];
            if (reach < 0) lo += reach; else hi += reach;
        }
        return new long[]{lo, hi};
    }

    /**
     * True when the byte spans of a and b (from their lowest to their highest element) intersect: a
     * kernel that writes one while reading the other would see its own writes. Conservative for two
     * interleaved strided views, which it counts as overlapping.
     */
    public static boolean overlaps(ArrayMemory a, ArrayMemory b) {
        if (a.length == 0 || b.length == 0) return false;
        long[] ra = a.offsetRange(), rb = b.offsetRange();
        int ea = elementSize(a.dataType), eb = elementSize(b.dataType);
        long aLo = a.address + ra[0] * ea, aHi = a.address + (ra[1] + 1) * ea;
        long bLo = b.address + rb[0] * eb, bHi = b.address + (rb[1] + 1) * eb;
        return aLo < bHi && bLo < aHi;
    }

    /** True when two elements share memory: a stride of 0 along a dimension of more than one element. */
    public boolean hasRepeatedElements() {
        for (int d = 0; d < shape.length; d++) if (shape[d] > 1 && strides[d] == 0) return true;
        return false;
    }

    @Override
    public String toString() {
        return dataType + Arrays.toString(shape) + " strides " + Arrays.toString(strides) + (contiguous ? " (contiguous)" : "");
    }
}
