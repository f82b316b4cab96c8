package org.bnb4j.internal.kernels;

import org.bnb4j.quant.NonFiniteInputException;
import org.nd4j.linalg.api.buffer.DataType;

import java.lang.ref.Reference;
import java.nio.ByteBuffer;

/**
 * The kernels read DOUBLE input as float, so a finite double beyond the float range (1e300) reaches
 * them as +-Inf and is reported as one. On that error path only, the offending block is read again
 * as doubles to tell the two apart, so the message names the value the caller actually has.
 */
final class FloatOverflow {
    private FloatOverflow() {}

    /** Elements read per direct buffer over a contiguous input (8 MiB). */
    private static final int CHUNK = 1 << 20;

    /**
     * @return {@code e} when the block holds a real +-Inf (or nothing out of float range), else an
     *         exception naming the first element that overflows float
     */
    static NonFiniteInputException describe(ArrayMemory x, int blocksize, NonFiniteInputException e) {
        if (x.dataType() != DataType.DOUBLE) return e;
        long start = e.block() * blocksize;
        long end = Math.min(start + blocksize, x.length());
        long first = -1;
        double firstValue = 0;
        try {
            for (long i = start; i < end; ) {
                // A contiguous input is read a chunk at a time; a strided view element by element.
                int len = x.isContiguous() ? (int) Math.min(CHUNK, end - i) : 1;
                ByteBuffer b = HostBuffers.wrap(x.address() + x.offsetOf(i) * 8, 8L * len);
                for (int k = 0; k < len; k++) {
                    double v = b.getDouble(8 * k);
                    if (Double.isInfinite(v)) return e;           // a real Inf: the original message is right
                    if (first < 0 && Float.isInfinite((float) v)) {
                        first = i + k;
                        firstValue = v;
                    }
                }
                i += len;
            }
        } finally {
            Reference.reachabilityFence(x);
        }
        return first < 0 ? e : NonFiniteInputException.floatOverflow(e.block(), first, firstValue);
    }
}
