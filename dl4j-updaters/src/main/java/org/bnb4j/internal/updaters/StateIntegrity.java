package org.bnb4j.internal.updaters;

import org.bnb4j.internal.kernels.ArrayMemory;
import org.bnb4j.internal.kernels.HostBuffers;
import org.bnb4j.internal.optim.OptimState8bit;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.util.zip.CRC32;

/**
 * Integrity of an 8-bit state that leaves the updater view (SameDiff saves what getState() returns):
 * the block scales must be finite and non-negative, and the saved "check" words (the scales'
 * checksum, as kept in the view's header, and a CRC32 of the code bytes) must match what is loaded.
 * An edited or corrupted file then fails on load instead of training on garbage.
 */
final class StateIntegrity {
    private StateIntegrity() {}

    private static final long CHUNK = 1L << 30;

    /** The INT [3] array saved beside codes and absmax: format, scales checksum (23 bits), codes CRC32. */
    static INDArray checkArray(int format, int checksum23, OptimState8bit state) {
        return Nd4j.createFromArray(format, checksum23, codesCrc(state));
    }

    /** The format of a "check" array (FLOAT-word or HALF-word codes); throws unless it is one this version writes. */
    static int format(String who, INDArray check) {
        if (check.dataType() != DataType.INT32 || check.length() != 3) {
            throw new IllegalStateException(who + ": '" + BlockwiseGradientUpdater.CHECK_KEY + "' must be INT [3], got "
                    + check.dataType() + " " + java.util.Arrays.toString(check.shape()));
        }
        int format = check.getInt(0);
        if (format != BlockwiseGradientUpdater.CHECK_FORMAT && format != BlockwiseGradientUpdater.CHECK_FORMAT_HALF_WORDS) {
            throw new IllegalStateException(who + ": unknown 8-bit state check format " + format + " (this version writes "
                    + BlockwiseGradientUpdater.CHECK_FORMAT + " and " + BlockwiseGradientUpdater.CHECK_FORMAT_HALF_WORDS + ")");
        }
        return format;
    }

    /**
     * Throws unless every scale is finite and >= 0 (a NaN, Inf or negative absmax is never written by a
     * step) and, for a state in the HALF-word form, is one such a step writes (no half NaN in its word).
     */
    static void requireValidScales(String who, INDArray absmax, boolean halfWords) {
        INDArray a = ArrayMemory.of(absmax).isContiguous() ? absmax : absmax.dup('c');
        long len = a.length();
        if (len == 0) return;
        try {
            long base = ArrayMemory.of(a).address();
            for (long off = 0; off < len; off += CHUNK / 4) {
                long count = Math.min(CHUNK / 4, len - off);
                ByteBuffer b = HostBuffers.wrap(base + 4 * off, 4 * count);
                for (int i = 0; i < count; i++) {
                    float v = b.getFloat(4 * i);
                    if (!(v >= 0f) || Float.isInfinite(v)) {
                        throw new IllegalStateException(who + ": saved 8-bit state is corrupted: block scale (absmax) "
                                + (off + i) + " is " + v + "; scales are finite and >= 0. The file was edited or damaged: "
                                + "restore an intact copy or re-initialise the updater.");
                    }
                    if (halfWords && v != OptimState8bit.halfWordScale(v)) {
                        throw new IllegalStateException(who + ": saved 8-bit state is corrupted: block scale " + (off + i) + " ("
                                + v + ") is not one a step on a HALF view writes. The file was edited or damaged: restore an "
                                + "intact copy or re-initialise the updater.");
                    }
                }
            }
        } finally {
            Reference.reachabilityFence(a);
        }
    }

    /** Compares the loaded state with the check words saved beside it. */
    static void verify(String who, INDArray check, int checksum, OptimState8bit loaded) {
        format(who, check);
        int storedSum = check.getInt(1), storedCrc = check.getInt(2);
        if ((checksum & BlockwiseGradientUpdater.CHECKSUM_BITS) != storedSum) {
            throw new IllegalStateException(who + ": saved 8-bit state is corrupted: its block scales (absmax) do not match "
                    + "the checksum saved beside them (saved " + Integer.toHexString(storedSum) + ", loaded "
                    + Integer.toHexString(checksum & BlockwiseGradientUpdater.CHECKSUM_BITS) + "). The file was edited or "
                    + "damaged: restore an intact copy or re-initialise the updater.");
        }
        int crc = codesCrc(loaded);
        if (crc != storedCrc) {
            throw new IllegalStateException(who + ": saved 8-bit state is corrupted: its codes do not match the CRC32 saved "
                    + "beside them (saved " + Integer.toHexString(storedCrc) + ", loaded " + Integer.toHexString(crc)
                    + "). The file was edited or damaged: restore an intact copy or re-initialise the updater.");
        }
    }

    /** CRC32 of all code bytes of a packed state (chunks of 1 GiB: a ByteBuffer holds at most 2 GiB). */
    static int codesCrc(OptimState8bit state) {
        INDArray codes = state.packedCodes();
        long len = codes.length();
        CRC32 crc = new CRC32();
        try {
            long base = len == 0 ? 0 : ArrayMemory.of(codes).address();
            for (long off = 0; off < len; off += CHUNK) crc.update(HostBuffers.wrap(base + off, Math.min(CHUNK, len - off)));
        } finally {
            Reference.reachabilityFence(codes);
        }
        return (int) crc.getValue();
    }
}
