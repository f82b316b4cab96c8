package org.bnb4j.optim;

import org.bnb4j.kernels.ArrayMemory;
import org.bnb4j.quant.Blockwise;
import org.bnb4j.quant.QuantMap;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Where the 8-bit block-wise state of one parameter vector lives: codes of state 1 (signed dynamic
 * map) and, for two-state optimizers, of state 2 (unsigned dynamic map), plus one FLOAT absmax per
 * block and state. Either in separate UINT8/FLOAT arrays ({@link #allocate}), or packed into one
 * FLOAT array ({@link #packed}) such as DL4J's updater view, NaN-safe so that ModelSerializer's
 * float writes keep every bit.
 */
public final class OptimState8bit {
    final OptimKind kind;
    final long n;
    final int blocksize;
    final QuantMap map1, map2;
    final long codes1, codes2, absmax1, absmax2;  // addresses
    final int bytePhase;                           // -1: plain bytes; else NaN-safe from this word position
    private final INDArray[] owners;

    private OptimState8bit(OptimKind kind, long n, int blocksize, long codes1, long codes2, long absmax1, long absmax2,
                           int bytePhase, INDArray... owners) {
        this.kind = kind;
        this.n = n;
        this.blocksize = blocksize;
        this.map1 = QuantMap.dynamic(true);
        this.map2 = QuantMap.dynamic(false);
        this.codes1 = codes1;
        this.codes2 = codes2;
        this.absmax1 = absmax1;
        this.absmax2 = absmax2;
        this.bytePhase = bytePhase;
        this.owners = owners;
    }

    /** Number of FLOAT words {@link #packed} needs for n parameters. */
    public static long packedLength(OptimKind kind, long n, int blocksize) {
        long nb = Blockwise.numBlocks(n, blocksize);
        return kind.numStates() * nb + (kind.numStates() * n + 3) / 4;
    }

    /**
     * State packed into a FLOAT array of {@link #packedLength} elements: absmax of state 1 (and
     * state 2) first, then the code bytes of state 1 and state 2 as one NaN-safe byte stream. A
     * zero-filled array is a valid initial state (all codes decode to 0 with absmax 0).
     */
    public static OptimState8bit packed(OptimKind kind, INDArray view, long n, int blocksize) {
        if (view.dataType() != DataType.FLOAT) throw new IllegalArgumentException("packed 8-bit state needs a FLOAT array, got " + view.dataType());
        long need = packedLength(kind, n, blocksize);
        if (view.length() != need) throw new IllegalArgumentException("packed 8-bit state for " + n + " parameters needs " + need + " floats, got " + view.length());
        ArrayMemory m = ArrayMemory.of(view);
        if (!m.isContiguous()) throw new IllegalArgumentException("packed 8-bit state must be contiguous");
        long nb = Blockwise.numBlocks(n, blocksize);
        long base = m.address();
        long a1 = base, a2 = kind.numStates() == 2 ? base + 4 * nb : 0;
        long c1 = base + 4L * kind.numStates() * nb;
        long c2 = kind.numStates() == 2 ? c1 + n : 0;
        return new OptimState8bit(kind, n, blocksize, c1, c2, a1, a2, 0, view);
    }

    /** State in its own arrays: UINT8 codes and FLOAT absmax per state (e.g. for SameDiff). */
    public static OptimState8bit allocate(OptimKind kind, long n, int blocksize) {
        long nb = Blockwise.numBlocks(n, blocksize);
        // zero absmax: every code decodes to (+-)0, the initial state
        INDArray c1 = Nd4j.create(DataType.UBYTE, n), a1 = Nd4j.create(DataType.FLOAT, nb);
        if (kind.numStates() == 1) {
            return new OptimState8bit(kind, n, blocksize, addr(c1), 0, addr(a1), 0, -1, c1, a1);
        }
        INDArray c2 = Nd4j.create(DataType.UBYTE, n), a2 = Nd4j.create(DataType.FLOAT, nb);
        return new OptimState8bit(kind, n, blocksize, addr(c1), addr(c2), addr(a1), addr(a2), -1, c1, a1, c2, a2);
    }

    private static long addr(INDArray a) {
        return a.length() == 0 ? 0 : ArrayMemory.of(a).address();
    }

    public OptimKind kind() { return kind; }
    public long length() { return n; }
    public int blocksize() { return blocksize; }
    /** The arrays holding this state (the packed view, or codes1, absmax1[, codes2, absmax2]). */
    public INDArray[] arrays() { return owners.clone(); }
}
